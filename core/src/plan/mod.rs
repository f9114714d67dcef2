//! Plans, classes and caps (reference: enforcement.md §5).
//!
//! - The annual plan's day arithmetic (安监总政法〔2017〕150号): officers × working days, less
//!   the days of other enforcement work and of non-enforcement work, gives the inspection days,
//!   and those bound how many enterprises the plan can take.
//! - Enterprise classes (`Grade`) and the yearly caps per sector × class (国办发〔2024〕54号
//!   asks each province to publish them): defaults from a published provincial table, kept as
//!   data the bureau edits.
//! - An inspection's entry (`Entry`): the task it was started from, the 扫码入企 scan or why
//!   there was none, the 行政检查 approval and notice, the campaign, and the reason to go past
//!   an enterprise's cap.
//! - `draw`: the reproducible 双随机 draw.

pub mod api;
pub mod draw;
pub mod scan;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DrawId, EnterpriseId, InspectionId, OrgId, PlanId, TaskId, UserId};
use crate::model::{Enterprise, GeoPoint, Sector};
use crate::validation::FieldError;

/// An enterprise's class for inspection frequency: 分级 A–D (coal, non-coal, most sectors) or
/// its 安全生产标准化 level (hazardous chemicals, metallurgy and other 工贸).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Grade {
    A,
    B,
    C,
    D,
    /// 标准化一级
    Level1,
    /// 标准化二级
    Level2,
    /// 标准化三级
    Level3,
    /// 未达标 / 未评级
    Unrated,
}

impl Grade {
    pub const ALL: [Grade; 8] = [
        Grade::A,
        Grade::B,
        Grade::C,
        Grade::D,
        Grade::Level1,
        Grade::Level2,
        Grade::Level3,
        Grade::Unrated,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Grade::A => "A类",
            Grade::B => "B类",
            Grade::C => "C类",
            Grade::D => "D类",
            Grade::Level1 => "标准化一级",
            Grade::Level2 => "标准化二级",
            Grade::Level3 => "标准化三级",
            Grade::Unrated => "标准化未达标",
        }
    }

    pub fn wire_name(self) -> &'static str {
        match self {
            Grade::A => "a",
            Grade::B => "b",
            Grade::C => "c",
            Grade::D => "d",
            Grade::Level1 => "level1",
            Grade::Level2 => "level2",
            Grade::Level3 => "level3",
            Grade::Unrated => "unrated",
        }
    }

    pub fn from_wire(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.wire_name() == s)
    }

    /// Reads a class as an import file or a form spells it: `A`, `a`, `A类`, `一级`, `标准化二级`…
    pub fn parse_zh(s: &str) -> Option<Grade> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        if let Some(g) = Grade::from_wire(&t.to_ascii_lowercase()) {
            return Some(g);
        }
        Grade::ALL.into_iter().find(|g| {
            let label = g.label_zh();
            label == t
                || label.trim_start_matches("标准化") == t
                || label.trim_end_matches('类') == t
        })
    }
}

/// The most inspections a year of one enterprise of `sector` in class `grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapRule {
    pub sector: Sector,
    pub grade: Grade,
    pub per_year: u32,
}

/// The default caps: the published 山西 2025 table (enforcement.md §5), the example the
/// reference gives; the bureau replaces them with its own province's.
///
/// Coal A/B/C/D ≤ 2/4/6/4; non-coal A/B ≤ 1, C ≤ 2, D ≤ 4; hazardous chemicals and 工贸
/// (metallurgy) by 标准化 level 1/2/3/none ≤ 2/4/8/12; other sectors A/B/C/D ≤ 1/2/4/6.
pub fn default_caps() -> Vec<CapRule> {
    let mut rules = Vec::new();
    let mut add = |sector, grades: &[(Grade, u32)]| {
        for &(grade, per_year) in grades {
            rules.push(CapRule {
                sector,
                grade,
                per_year,
            });
        }
    };
    let levels = [
        (Grade::Level1, 2),
        (Grade::Level2, 4),
        (Grade::Level3, 8),
        (Grade::Unrated, 12),
    ];
    let others = [(Grade::A, 1), (Grade::B, 2), (Grade::C, 4), (Grade::D, 6)];
    add(
        Sector::Coal,
        &[(Grade::A, 2), (Grade::B, 4), (Grade::C, 6), (Grade::D, 4)],
    );
    add(
        Sector::NonCoalMine,
        &[(Grade::A, 1), (Grade::B, 1), (Grade::C, 2), (Grade::D, 4)],
    );
    add(Sector::HazardousChemicals, &levels);
    add(Sector::IndustryTrade, &levels);
    for sector in [
        Sector::IndustryTrade,
        Sector::Fire,
        Sector::UrbanGas,
        Sector::Construction,
    ] {
        add(sector, &others);
    }
    rules
}

/// Checks a cap table the bureau edits: one rule per sector × class, each above zero.
pub fn validate_caps(rules: &[CapRule]) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for (n, rule) in rules.iter().enumerate() {
        if rule.per_year == 0 {
            errors.push(FieldError::new(
                format!("rules[{n}].per_year"),
                "年度检查上限应至少为 1 次",
            ));
        }
        if rules[..n]
            .iter()
            .any(|r| r.sector == rule.sector && r.grade == rule.grade)
        {
            errors.push(FieldError::new(
                format!("rules[{n}]"),
                format!(
                    "{}·{} 的上限重复",
                    rule.sector.label_zh(),
                    rule.grade.label_zh()
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// An enterprise's yearly cap: the lowest of its sectors' rules for its class; `None` when it
/// has no class or no rule applies.
pub fn cap_for(rules: &[CapRule], enterprise: &Enterprise) -> Option<u32> {
    let grade = enterprise.grade?;
    rules
        .iter()
        .filter(|r| r.grade == grade && enterprise.sectors.contains(&r.sector))
        .map(|r| r.per_year)
        .min()
}

/// One more inspection this year against the cap: `Some(message)` when it would pass it.
pub fn cap_warning(visits_this_year: u32, cap: Option<u32>) -> Option<String> {
    let cap = cap?;
    (visits_this_year >= cap).then(|| {
        format!("该单位本年度已检查 {visits_this_year} 次，已达年度检查上限 {cap} 次；继续检查须说明理由")
    })
}

/// Why an inspection goes past the enterprise's cap (the cases 国办发〔2024〕54号 leaves open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OverCapReason {
    /// 投诉举报
    Complaint,
    /// 发生事故
    Accident,
    /// 复查
    Reinspection,
    /// 上级交办 / 督导
    Assigned,
}

impl OverCapReason {
    pub const ALL: [OverCapReason; 4] = [
        OverCapReason::Complaint,
        OverCapReason::Accident,
        OverCapReason::Reinspection,
        OverCapReason::Assigned,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            OverCapReason::Complaint => "投诉举报",
            OverCapReason::Accident => "发生事故",
            OverCapReason::Reinspection => "复查",
            OverCapReason::Assigned => "上级交办",
        }
    }
}

/// The record of going past the cap: the count and cap seen on the phone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverCap {
    pub visits: u32,
    pub cap: u32,
    pub reason: OverCapReason,
}

/// 行政检查 approval (审批): who approved, on which day, under which reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// 审批人.
    pub by: String,
    pub on: NaiveDate,
    /// 审批文号 / 审批表编号; may be empty.
    #[serde(default)]
    pub reference: String,
}

/// 检查通知: when and how a planned inspection was announced (never for 四不两直).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub on: NaiveDate,
    /// 书面 / 电话 / 现场出示, as written.
    pub method: String,
}

/// 扫码入企: what the camera read at the gate, when and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryScan {
    pub at: DateTime<Utc>,
    /// The code's text exactly as read.
    pub text: String,
    #[serde(default)]
    pub location: Option<GeoPoint>,
    /// Whether the code names the inspected enterprise (a mismatch is kept, with a warning).
    pub matches: bool,
}

/// How an inspection came to be: its task, plan and draw, the 扫码入企 record, approval,
/// notice, campaign and the cap override. Empty for inspections made before plans existed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<PlanId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw_id: Option<DrawId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<EntryScan>,
    /// Why no code was scanned (企业未张贴 / 无法识别 …); required when `scan` is absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub no_scan_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// 安全生产月, 治本攻坚三年行动, a named 专项整治…; empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub campaign: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_cap: Option<OverCap>,
}

impl Entry {
    pub fn is_empty(&self) -> bool {
        *self == Entry::default()
    }
}

/// Campaigns offered in the forms; any other name may be typed.
pub const CAMPAIGNS: [&str; 4] = [
    "安全生产月",
    "治本攻坚三年行动",
    "重大事故隐患专项排查整治",
    "燃气安全专项整治",
];

/// Reasons offered when no code could be scanned at the gate.
pub const NO_SCAN_REASONS: [&str; 4] = [
    "企业未张贴执法监督码或营业执照二维码",
    "二维码损坏无法识别",
    "现场无照明或相机不可用",
    "无证经营场所",
];

/// The most characters of a free-text entry field.
const MAX_TEXT: usize = 200;

/// The entry rules the server applies to any inspection (older apps send an empty entry).
pub fn validate_entry(entry: &Entry, unannounced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if unannounced && entry.notice.is_some() {
        errors.push(FieldError::new(
            "entry.notice",
            "四不两直暗访不得事先通知被检查单位",
        ));
    }
    if let Some(a) = &entry.approval
        && a.by.trim().is_empty()
    {
        errors.push(FieldError::new("entry.approval.by", "请填写审批人"));
    }
    if let Some(n) = &entry.notice
        && n.method.trim().is_empty()
    {
        errors.push(FieldError::new("entry.notice.method", "请填写通知方式"));
    }
    if let Some(s) = &entry.scan {
        if s.text.is_empty() || s.text.chars().count() > 2000 {
            errors.push(FieldError::new("entry.scan.text", "扫码内容为空或过长"));
        }
        if s.location.is_some_and(|l| !l.is_valid()) {
            errors.push(FieldError::new("entry.scan.location", "扫码位置坐标无效"));
        }
    }
    for (field, text) in [
        ("entry.no_scan_reason", &entry.no_scan_reason),
        ("entry.campaign", &entry.campaign),
    ] {
        if text.chars().count() > MAX_TEXT {
            errors.push(FieldError::new(field, format!("不超过 {MAX_TEXT} 字")));
        }
    }
    errors
}

/// What the start screen requires of an entry before an inspection begins: a scan or the
/// reason for none; the approval of a 四不两直 visit; a reason to pass the cap.
pub fn entry_blockers(
    entry: &Entry,
    unannounced: bool,
    visits_this_year: u32,
    cap: Option<u32>,
) -> Vec<FieldError> {
    let mut errors = validate_entry(entry, unannounced);
    if entry.scan.is_none() && entry.no_scan_reason.trim().is_empty() {
        errors.push(FieldError::new(
            "entry.scan",
            "请扫码入企（执法监督码或营业执照二维码），无法扫码时写明原因",
        ));
    }
    if unannounced && entry.approval.is_none() {
        errors.push(FieldError::new(
            "entry.approval",
            "四不两直暗访须记录审批（审批人与日期）",
        ));
    }
    if let Some(message) = cap_warning(visits_this_year, cap)
        && entry.over_cap.is_none()
    {
        errors.push(FieldError::new("entry.over_cap", message));
    }
    errors
}

/// A plan's staffing figures (150号): who is available and what else takes their days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Staffing {
    /// 执法人员数.
    pub officers: u32,
    /// 每人年工作日 (250 less leave; 248 in the 150号 worksheet).
    pub workdays_per_officer: u32,
    /// 其他执法工作日: licensing, accident investigation, complaints, joint actions.
    pub other_enforcement_days: u32,
    /// 非执法工作日: training, meetings, other duties.
    pub non_enforcement_days: u32,
    /// 每家企业检查所需工作日 (officer-days: two officers for a day is 2).
    pub days_per_inspection: u32,
}

/// Working days per officer in the 150号 worksheet.
pub const WORKDAYS_PER_OFFICER: u32 = 248;

/// The plan's arithmetic, as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanFigures {
    /// 总工作日 = officers × days each.
    pub total_days: u32,
    /// 执法检查工作日 = total − other enforcement − non-enforcement (never below zero).
    pub inspection_days: u32,
    /// 可检查企业数 = inspection days ÷ days per inspection, rounded down.
    pub capacity: u32,
    /// 重点企业数: inspected every year.
    pub key_enterprises: u32,
    /// 双随机 places left once every 重点 enterprise is in.
    pub random_places: u32,
    /// Problems with the figures, in Chinese.
    pub warnings: Vec<String>,
}

/// 150号: inspection days, capacity, and what remains for 双随机 after the 重点 enterprises;
/// warns when the key list alone passes capacity or the random share falls under the local
/// minimum (`min_random_pct`, e.g. 70).
pub fn figures(staffing: &Staffing, key_enterprises: u32, min_random_pct: u32) -> PlanFigures {
    let total_days = staffing
        .officers
        .saturating_mul(staffing.workdays_per_officer);
    let inspection_days = total_days
        .saturating_sub(staffing.other_enforcement_days)
        .saturating_sub(staffing.non_enforcement_days);
    let capacity = inspection_days
        .checked_div(staffing.days_per_inspection)
        .unwrap_or(0);
    let random_places = capacity.saturating_sub(key_enterprises);
    let mut warnings = Vec::new();
    if staffing.days_per_inspection == 0 {
        warnings.push("每家企业检查所需工作日应至少为 1 天".to_owned());
    }
    if staffing.other_enforcement_days + staffing.non_enforcement_days > total_days {
        warnings.push("其他执法工作日与非执法工作日之和超过总工作日".to_owned());
    }
    if key_enterprises > capacity {
        warnings.push(format!(
            "重点企业 {key_enterprises} 家超过可检查企业数 {capacity} 家，须增加执法力量或调整计划"
        ));
    } else if capacity > 0 && random_places * 100 < capacity * min_random_pct {
        warnings.push(format!(
            "双随机抽查占计划 {}%，低于 {min_random_pct}% 的要求",
            random_places * 100 / capacity
        ));
    }
    PlanFigures {
        total_days,
        inspection_days,
        capacity,
        key_enterprises,
        random_places,
        warnings,
    }
}

/// 年度执法检查计划.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: PlanId,
    /// The bureau (or department) whose plan it is; its subtree's directory is drawn from.
    pub org_id: OrgId,
    pub year: i32,
    pub title: String,
    #[serde(default)]
    pub campaign: String,
    pub staffing: Staffing,
    /// Least share of the plan by 双随机, in percent (a local rule; 0 for none).
    #[serde(default)]
    pub min_random_pct: u32,
    /// The plan's approval, carried to every inspection started from its tasks.
    #[serde(default)]
    pub approval: Option<Approval>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// The rules a new plan must meet.
pub fn validate_plan(plan: &Plan) -> Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    if plan.title.trim().is_empty() {
        e.push(FieldError::new("title", "请填写计划名称"));
    }
    if !(2000..=2100).contains(&plan.year) {
        e.push(FieldError::new("year", "年度应为四位年份"));
    }
    if plan.staffing.officers == 0 {
        e.push(FieldError::new("staffing.officers", "执法人员数应至少为 1"));
    }
    if plan.staffing.workdays_per_officer == 0 || plan.staffing.workdays_per_officer > 366 {
        e.push(FieldError::new(
            "staffing.workdays_per_officer",
            "每人年工作日应在 1–366 天之间",
        ));
    }
    if plan.staffing.days_per_inspection == 0 {
        e.push(FieldError::new(
            "staffing.days_per_inspection",
            "每家企业检查所需工作日应至少为 1 天",
        ));
    }
    if plan.min_random_pct > 100 {
        e.push(FieldError::new("min_random_pct", "比例不超过 100%"));
    }
    if let Some(a) = &plan.approval
        && a.by.trim().is_empty()
    {
        e.push(FieldError::new("approval.by", "请填写审批人"));
    }
    if plan.title.chars().count() > MAX_TEXT || plan.campaign.chars().count() > MAX_TEXT {
        e.push(FieldError::new("title", format!("不超过 {MAX_TEXT} 字")));
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// An inspection task (我的任务): one enterprise for a pair of officers, from a plan's draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: TaskId,
    pub plan_id: PlanId,
    pub draw_id: DrawId,
    /// The team the first drawn officer belongs to: whose phones carry the task.
    pub org_id: OrgId,
    pub enterprise_id: EnterpriseId,
    pub officers: Vec<UserId>,
    /// A 重点 enterprise (every year) rather than a random pick.
    pub key: bool,
    pub due: NaiveDate,
    #[serde(default)]
    pub campaign: String,
    #[serde(default)]
    pub approval: Option<Approval>,
    /// The inspection that carried it out, once one synced.
    #[serde(default)]
    pub inspection_id: Option<InspectionId>,
}

impl Task {
    pub fn is_done(&self) -> bool {
        self.inspection_id.is_some()
    }

    /// Past its due day without an inspection.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        !self.is_done() && today > self.due
    }

    /// The entry an inspection started from this task begins with.
    pub fn entry(&self) -> Entry {
        Entry {
            task_id: Some(self.id),
            plan_id: Some(self.plan_id),
            draw_id: Some(self.draw_id),
            approval: self.approval.clone(),
            campaign: self.campaign.clone(),
            ..Entry::default()
        }
    }
}

/// 回避: an officer who may not inspect an enterprise (kin, former employer, interest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    pub user_id: UserId,
    pub enterprise_id: EnterpriseId,
    pub reason: String,
}

#[cfg(test)]
mod tests;
