//! Cases (案件), from 预立案 to 结案, as pure rules: the stages a case passes, who may move it,
//! and the clocks the law sets (行政处罚法 2021; reference: enforcement.md §3–4).
//!
//! - A case starts as 预立案 on the phone, offline, from findings, a 举报 or a leader's decision.
//!   A leader's 立案审批 gives it the bureau's case number (assigned by the server).
//! - The general procedure: 立案 → 行政处罚告知书 → 陈述申辩 (and 听证 when asked) → 行政处罚决定书 →
//!   送达 → 执行 (payment, 催告, 加处罚款) → 结案审批.
//! - The simple procedure: 当场处罚 on site within the law's limits (Art. 51) → 送达 → payment →
//!   结案.
//! - Clocks: 先行登记保存 decided within 7 days (Art. 56); a decision within 90 days of 立案
//!   (Art. 60); delivery within 7 days of the decision (Art. 61); payment within 15 days of
//!   receipt (Art. 67), then 加处罚款 of 3 % a day, never more than the fine (Art. 72).
//!   The law's "二日、三日、五日、七日" are working days, without statutory holidays (Art. 85): the
//!   7-day clocks count working days on a `Calendar` (weekends always; the State Council's
//!   holidays and 调休 working weekends only when the bureau has entered them — a clock says
//!   when they were not).
//!
//! `record` holds the case as stored and synced (`case.save`, `case.act`).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::Role;

pub mod documents;
mod record;
pub use record::*;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 预立案: made in the field, awaiting the leader's 立案审批.
    PreFiled,
    /// 立案: approved and numbered; evidence is gathered.
    Filed,
    /// 行政处罚告知书 served: the party may state its case (陈述申辩) or ask for a hearing.
    Notified,
    /// 陈述申辩 / 听证 recorded, or the period passed without either.
    Heard,
    /// 行政处罚决定书 made (general procedure) or 当场处罚决定书 made on site.
    Decided,
    /// The decision served on the party.
    Served,
    /// Paid (or otherwise carried out).
    Executed,
    /// 结案 approved.
    Closed,
    /// 不予立案 / 撤销: dropped with a reason.
    Dropped,
}

impl Stage {
    pub fn label_zh(self) -> &'static str {
        match self {
            Stage::PreFiled => "预立案",
            Stage::Filed => "已立案",
            Stage::Notified => "已告知",
            Stage::Heard => "已陈述申辩",
            Stage::Decided => "已决定",
            Stage::Served => "已送达",
            Stage::Executed => "已执行",
            Stage::Closed => "已结案",
            Stage::Dropped => "不予立案/撤销",
        }
    }
}

/// Who the party is: the on-site penalty limits differ (Art. 51).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// 公民.
    Person,
    /// 法人或者其他组织.
    Organisation,
}

/// The most a 当场处罚 may fine (Art. 51), in yuan.
pub fn on_site_limit_yuan(party: Party) -> u64 {
    match party {
        Party::Person => 200,
        Party::Organisation => 3_000,
    }
}

/// What moves a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// 立案审批 granted, with the number the server assigned.
    ApproveFiling { number: String, on: NaiveDate },
    /// 不予立案 or 撤销, with the reason.
    Drop { reason: String },
    /// 行政处罚告知书 served.
    Notify { on: NaiveDate },
    /// 陈述申辩 or 听证 recorded (or the period passed: `statement` says so).
    Hear { on: NaiveDate, statement: String },
    /// 行政处罚决定书.
    Decide { on: NaiveDate, fine_yuan: u64 },
    /// 当场处罚决定书, straight from 预立案 or 立案 on site.
    DecideOnSite {
        on: NaiveDate,
        fine_yuan: u64,
        party: Party,
    },
    /// The decision served (signed, left with a witness, or electronic with consent).
    Serve { on: NaiveDate },
    /// Payment recorded.
    Pay { on: NaiveDate, yuan: u64 },
    /// 先行登记保存证据 begun (Art. 56), approved by the bureau's responsible person.
    Preserve { on: NaiveDate },
    /// The 处理决定 on the earliest undecided 先行登记保存.
    DecidePreservation { on: NaiveDate },
    /// 结案审批 granted.
    Close { on: NaiveDate },
}

/// Why an action is refused, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

fn refuse(text: impl Into<String>) -> Refusal {
    Refusal(text.into())
}

/// The parts of a case the rules read and write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub stage: Option<Stage>,
    /// The bureau's case number, given at 立案审批.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub filed_on: Option<NaiveDate>,
    #[serde(default)]
    pub notified_on: Option<NaiveDate>,
    #[serde(default)]
    pub heard_on: Option<NaiveDate>,
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
    #[serde(default)]
    pub fine_yuan: Option<u64>,
    #[serde(default)]
    pub on_site: bool,
    #[serde(default)]
    pub served_on: Option<NaiveDate>,
    #[serde(default)]
    pub paid_yuan: u64,
    #[serde(default)]
    pub paid_on: Option<NaiveDate>,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    #[serde(default)]
    pub dropped_reason: Option<String>,
    /// 先行登记保存: the day each preservation began, and the day it was decided on.
    #[serde(default)]
    pub preservations: Vec<Preservation>,
}

/// One 先行登记保存证据 (Art. 56): decided on within 7 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preservation {
    pub on: NaiveDate,
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
}

impl CaseState {
    /// A new 预立案.
    pub fn pre_filed() -> Self {
        CaseState {
            stage: Some(Stage::PreFiled),
            ..CaseState::default()
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage.unwrap_or(Stage::PreFiled)
    }
}

/// Who may take an action: approvals, dropping and closing are a leader's; the rest is the
/// officers' work in the field (a leader may do it too).
fn allowed(role: Role, action: &Action) -> bool {
    match action {
        Action::ApproveFiling { .. } | Action::Drop { .. } | Action::Close { .. } => {
            matches!(role, Role::Leader | Role::Admin)
        }
        _ => matches!(role, Role::Inspector | Role::Leader),
    }
}

/// Applies `action` taken by `role`: the next state, or why not.
pub fn apply(state: &CaseState, role: Role, action: &Action) -> Result<CaseState, Refusal> {
    if !allowed(role, action) {
        return Err(refuse(match action {
            Action::ApproveFiling { .. } => "立案须经负责人审批",
            Action::Close { .. } => "结案须经负责人审批",
            Action::Drop { .. } => "不予立案或撤销须经负责人决定",
            _ => "无权办理此案件环节",
        }));
    }
    let stage = state.stage();
    let mut next = state.clone();
    let after = |day: NaiveDate, earlier: Option<NaiveDate>, what: &str| match earlier {
        Some(e) if day < e => Err(refuse(format!("{what}日期不能早于前一环节（{e}）"))),
        _ => Ok(()),
    };
    match action {
        Action::ApproveFiling { number, on } => {
            if stage != Stage::PreFiled {
                return Err(refuse("只有预立案的案件可以审批立案"));
            }
            if number.trim().is_empty() {
                return Err(refuse("立案须有案件编号"));
            }
            next.stage = Some(Stage::Filed);
            next.number = Some(number.trim().to_owned());
            next.filed_on = Some(*on);
        }
        Action::Drop { reason } => {
            if matches!(
                stage,
                Stage::Closed | Stage::Dropped | Stage::Served | Stage::Executed
            ) {
                return Err(refuse("已送达或已结案的案件不能撤销"));
            }
            if reason.trim().is_empty() {
                return Err(refuse("请写明不予立案或撤销的理由"));
            }
            next.stage = Some(Stage::Dropped);
            next.dropped_reason = Some(reason.trim().to_owned());
        }
        Action::Notify { on } => {
            if stage != Stage::Filed {
                return Err(refuse("立案后方可送达行政处罚告知书"));
            }
            after(*on, state.filed_on, "告知")?;
            next.stage = Some(Stage::Notified);
            next.notified_on = Some(*on);
        }
        Action::Hear { on, statement } => {
            if stage != Stage::Notified {
                return Err(refuse("送达行政处罚告知书后方可记录陈述申辩"));
            }
            if statement.trim().is_empty() {
                return Err(refuse("请记录当事人的陈述申辩，或写明其放弃陈述申辩"));
            }
            after(*on, state.notified_on, "陈述申辩")?;
            next.stage = Some(Stage::Heard);
            next.heard_on = Some(*on);
        }
        Action::Decide { on, fine_yuan } => {
            if stage != Stage::Heard {
                return Err(refuse(
                    "作出行政处罚决定前须告知当事人并听取陈述申辩（行政处罚法第四十四条、第四十五条）",
                ));
            }
            after(*on, state.heard_on, "决定")?;
            next.stage = Some(Stage::Decided);
            next.decided_on = Some(*on);
            next.fine_yuan = Some(*fine_yuan);
        }
        Action::DecideOnSite {
            on,
            fine_yuan,
            party,
        } => {
            if !matches!(stage, Stage::PreFiled | Stage::Filed) {
                return Err(refuse("当场处罚只能在现场、告知之前作出"));
            }
            let limit = on_site_limit_yuan(*party);
            if *fine_yuan > limit {
                return Err(refuse(format!(
                    "当场处罚的罚款不得超过 {limit} 元（行政处罚法第五十一条），请按一般程序立案办理"
                )));
            }
            next.stage = Some(Stage::Decided);
            next.decided_on = Some(*on);
            next.fine_yuan = Some(*fine_yuan);
            next.on_site = true;
        }
        Action::Serve { on } => {
            if stage != Stage::Decided {
                return Err(refuse("作出处罚决定后方可送达"));
            }
            after(*on, state.decided_on, "送达")?;
            next.stage = Some(Stage::Served);
            next.served_on = Some(*on);
        }
        Action::Pay { on, yuan } => {
            if stage != Stage::Served {
                return Err(refuse("处罚决定送达后方可记录缴款"));
            }
            after(*on, state.served_on, "缴款")?;
            if *yuan == 0 {
                return Err(refuse("请填写缴款金额"));
            }
            next.paid_yuan = state.paid_yuan + yuan;
            next.paid_on = Some(*on);
            let due = state.fine_yuan.unwrap_or(0)
                + late_fee_yuan(state.fine_yuan.unwrap_or(0), state.served_on, *on);
            if next.paid_yuan >= due {
                next.stage = Some(Stage::Executed);
            }
        }
        Action::Preserve { on } => {
            if !matches!(
                stage,
                Stage::PreFiled | Stage::Filed | Stage::Notified | Stage::Heard
            ) {
                return Err(refuse("先行登记保存证据须在作出处罚决定之前"));
            }
            next.preservations.push(Preservation {
                on: *on,
                decided_on: None,
            });
        }
        Action::DecidePreservation { on } => {
            let Some(open) = next
                .preservations
                .iter_mut()
                .filter(|p| p.decided_on.is_none())
                .min_by_key(|p| p.on)
            else {
                return Err(refuse("没有待作出处理决定的先行登记保存"));
            };
            if *on < open.on {
                return Err(refuse(format!(
                    "处理决定日期不能早于登记保存日期（{}）",
                    open.on
                )));
            }
            open.decided_on = Some(*on);
        }
        Action::Close { on } => {
            let done =
                stage == Stage::Executed || (stage == Stage::Served && state.fine_yuan == Some(0));
            if !done {
                return Err(refuse("处罚决定执行完毕后方可结案"));
            }
            next.stage = Some(Stage::Closed);
            next.closed_on = Some(*on);
        }
    }
    Ok(next)
}

/// What a clock is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 先行登记保存 decided within 7 working days (Art. 56, 85).
    Preservation,
    /// A decision within 90 days of 立案 (Art. 60).
    Decision,
    /// Delivery within 7 working days of the decision (Art. 61, 85).
    Delivery,
    /// Payment within 15 days of receipt (Art. 67).
    Payment,
}

impl ClockKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ClockKind::Preservation => "先行登记保存处理决定（7个工作日）",
            ClockKind::Decision => "作出处罚决定（立案后90日）",
            ClockKind::Delivery => "送达处罚决定书（7个工作日）",
            ClockKind::Payment => "缴纳罚款（15日）",
        }
    }
}

/// One running clock: the last day allowed and whether that day has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub kind: ClockKind,
    /// The last day the act is in time.
    pub due: NaiveDate,
    pub overdue: bool,
    /// A working-day clock over a year whose statutory holidays were not entered: the due day
    /// leaves out weekends only, and the screen says so (节假日未核).
    pub holidays_unchecked: bool,
}

/// Working days for the law's short periods (Art. 85): Monday to Friday, less the statutory
/// holidays, plus the weekends the State Council's 调休 makes working days. The holiday lists
/// are data the bureau enters each year; without them only weekends are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    #[serde(default)]
    pub working_weekends: Vec<NaiveDate>,
    /// The years whose holidays were entered.
    #[serde(default)]
    pub years: Vec<i32>,
}

impl Calendar {
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        use chrono::{Datelike, Weekday};
        if self.working_weekends.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// The `n`th working day after `start` (the start day itself not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Whether the holidays of every year from `from` to `to` were entered.
    pub fn covers(&self, from: NaiveDate, to: NaiveDate) -> bool {
        use chrono::Datelike;
        (from.year()..=to.year()).all(|y| self.years.contains(&y))
    }
}

fn clock(kind: ClockKind, start: NaiveDate, days: i64, today: NaiveDate) -> Clock {
    let due = start + Duration::days(days);
    Clock {
        kind,
        due,
        overdue: today > due,
        holidays_unchecked: false,
    }
}

fn working_clock(
    kind: ClockKind,
    start: NaiveDate,
    days: u32,
    today: NaiveDate,
    calendar: &Calendar,
) -> Clock {
    let due = calendar.add_working_days(start, days);
    Clock {
        kind,
        due,
        overdue: today > due,
        holidays_unchecked: !calendar.covers(start, due),
    }
}

/// The clocks still running on `today` (a clock stops when its act is recorded).
pub fn clocks(state: &CaseState, today: NaiveDate, calendar: &Calendar) -> Vec<Clock> {
    let mut out = Vec::new();
    for p in &state.preservations {
        if p.decided_on.is_none() {
            out.push(working_clock(
                ClockKind::Preservation,
                p.on,
                7,
                today,
                calendar,
            ));
        }
    }
    let stage = state.stage();
    if let Some(filed) = state.filed_on
        && matches!(stage, Stage::Filed | Stage::Notified | Stage::Heard)
    {
        out.push(clock(ClockKind::Decision, filed, 90, today));
    }
    if let Some(decided) = state.decided_on
        && stage == Stage::Decided
    {
        out.push(working_clock(
            ClockKind::Delivery,
            decided,
            7,
            today,
            calendar,
        ));
    }
    if let Some(served) = state.served_on
        && stage == Stage::Served
        && state.fine_yuan.is_some_and(|f| f > 0)
    {
        out.push(clock(ClockKind::Payment, served, 15, today));
    }
    out
}

/// 加处罚款 (Art. 72): 3 % of the fine for each day past the 15 days after receipt, never more
/// than the fine itself; whole yuan, rounded down.
pub fn late_fee_yuan(fine_yuan: u64, served_on: Option<NaiveDate>, on: NaiveDate) -> u64 {
    let Some(served) = served_on else {
        return 0;
    };
    let late_days = (on - (served + Duration::days(15))).num_days().max(0) as u64;
    (fine_yuan * 3 * late_days / 100).min(fine_yuan)
}

#[cfg(test)]
mod tests;
