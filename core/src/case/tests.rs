use chrono::{Duration, NaiveDate};

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn go(state: &CaseState, role: Role, action: Action) -> CaseState {
    apply(state, role, &action).unwrap_or_else(|e| panic!("{action:?}: {e}"))
}

fn refused(state: &CaseState, role: Role, action: Action) -> String {
    apply(state, role, &action).unwrap_err().0
}

#[test]
fn the_general_procedure_runs_from_pre_filing_to_closing() {
    let filed_on = day(2026, 12, 7);
    let mut c = CaseState::pre_filed();
    assert_eq!(c.stage(), Stage::PreFiled);
    c = go(
        &c,
        Role::Leader,
        Action::ApproveFiling {
            number: "达旗应急立〔2026〕3号".into(),
            on: filed_on,
        },
    );
    assert_eq!(c.number.as_deref(), Some("达旗应急立〔2026〕3号"));
    c = go(
        &c,
        Role::Inspector,
        Action::Notify {
            on: day(2026, 12, 20),
        },
    );
    c = go(
        &c,
        Role::Inspector,
        Action::Hear {
            on: day(2026, 12, 23),
            statement: "当事人放弃陈述申辩".into(),
        },
    );
    c = go(
        &c,
        Role::Leader,
        Action::Decide {
            on: day(2027, 1, 5),
            fine_yuan: 30_000,
        },
    );
    c = go(
        &c,
        Role::Inspector,
        Action::Serve {
            on: day(2027, 1, 6),
        },
    );
    c = go(
        &c,
        Role::Inspector,
        Action::Pay {
            on: day(2027, 1, 10),
            yuan: 30_000,
        },
    );
    assert_eq!(c.stage(), Stage::Executed);
    c = go(
        &c,
        Role::Leader,
        Action::Close {
            on: day(2027, 1, 12),
        },
    );
    assert_eq!(c.stage(), Stage::Closed);
}

#[test]
fn steps_cannot_be_skipped_or_taken_by_the_wrong_role() {
    let c = CaseState::pre_filed();
    let approve = Action::ApproveFiling {
        number: "达旗应急立〔2026〕1号".into(),
        on: day(2026, 12, 7),
    };
    assert!(refused(&c, Role::Inspector, approve.clone()).contains("审批"));
    assert!(
        refused(
            &c,
            Role::Inspector,
            Action::Notify {
                on: day(2026, 12, 8)
            }
        )
        .contains("立案后")
    );
    let filed = go(&c, Role::Leader, approve);
    // No decision without notice and hearing (Art. 44, 45).
    let decide = Action::Decide {
        on: day(2026, 12, 9),
        fine_yuan: 10_000,
    };
    assert!(refused(&filed, Role::Leader, decide).contains("第四十四条"));
    // Not before the step it follows.
    assert!(
        refused(
            &filed,
            Role::Inspector,
            Action::Notify {
                on: day(2026, 12, 1)
            }
        )
        .contains("不能早于")
    );
    assert!(
        refused(
            &filed,
            Role::Leader,
            Action::Close {
                on: day(2026, 12, 9)
            }
        )
        .contains("执行完毕")
    );
    assert!(
        refused(
            &filed,
            Role::Inspector,
            Action::Drop {
                reason: "证据不足".into()
            }
        )
        .contains("负责人")
    );
    let dropped = go(
        &filed,
        Role::Leader,
        Action::Drop {
            reason: "证据不足".into(),
        },
    );
    assert_eq!(dropped.stage(), Stage::Dropped);
}

#[test]
fn an_on_site_penalty_above_the_limit_is_refused() {
    let c = CaseState::pre_filed();
    let on_site = |fine_yuan, party| Action::DecideOnSite {
        on: day(2026, 12, 6),
        fine_yuan,
        party,
    };
    assert!(refused(&c, Role::Inspector, on_site(3_001, Party::Organisation)).contains("3000 元"));
    assert!(refused(&c, Role::Inspector, on_site(201, Party::Person)).contains("200 元"));
    let decided = go(&c, Role::Inspector, on_site(3_000, Party::Organisation));
    assert_eq!(decided.stage(), Stage::Decided);
    assert!(decided.on_site);
    assert_eq!(
        go(&c, Role::Inspector, on_site(200, Party::Person)).fine_yuan,
        Some(200)
    );
    // Once the notice is served it is the general procedure.
    let mut notified = go(
        &c,
        Role::Leader,
        Action::ApproveFiling {
            number: "1".into(),
            on: day(2026, 12, 6),
        },
    );
    notified = go(
        &notified,
        Role::Inspector,
        Action::Notify {
            on: day(2026, 12, 6),
        },
    );
    assert!(refused(&notified, Role::Inspector, on_site(100, Party::Person)).contains("告知之前"));
}

#[test]
fn a_preservation_is_decided_within_seven_working_days() {
    // Day 0 a Monday: seven working days run to the Wednesday after next (day 9); from day 10
    // it is overdue. A calendar count would have made it overdue on day 8.
    let monday = day(2026, 12, 7);
    let mut c = CaseState::pre_filed();
    c.preservations.push(Preservation {
        on: monday,
        decided_on: None,
    });
    let calendar = Calendar::default();
    let at = |n: i64| clocks(&c, monday + Duration::days(n), &calendar);
    let clock = at(0)[0];
    assert_eq!(clock.kind, ClockKind::Preservation);
    assert_eq!(clock.due, day(2026, 12, 16));
    assert!(!at(9)[0].overdue);
    assert!(at(10)[0].overdue);
    assert!(clock.holidays_unchecked, "no holidays entered for 2026");

    // A Thursday start with the weekend and a holiday in between.
    let thursday = day(2026, 9, 24);
    let mut holidays = Calendar {
        holidays: (1..=7).map(|d| day(2026, 10, d)).collect(),
        working_weekends: vec![day(2026, 9, 27)],
        years: vec![2026],
    };
    // Fri 25, Sun 27 (调休), Mon 28, Tue 29, Wed 30, the national-day week off, Thu 8, Fri 9 Oct.
    assert_eq!(holidays.add_working_days(thursday, 7), day(2026, 10, 9));
    c.preservations[0].on = thursday;
    assert!(!clocks(&c, day(2026, 10, 9), &holidays)[0].overdue);
    let clock = clocks(&c, day(2026, 10, 10), &holidays)[0];
    assert!(clock.overdue);
    assert!(!clock.holidays_unchecked);
    holidays.years.clear();
    assert!(clocks(&c, day(2026, 10, 10), &holidays)[0].holidays_unchecked);

    // Decided: the clock stops.
    c.preservations[0].decided_on = Some(day(2026, 9, 30));
    assert!(clocks(&c, day(2026, 12, 1), &holidays).is_empty());
}

#[test]
fn a_decision_is_due_ninety_days_after_filing_and_the_clock_stops_when_made() {
    let filed_on = day(2026, 12, 7);
    let c = go(
        &CaseState::pre_filed(),
        Role::Leader,
        Action::ApproveFiling {
            number: "1".into(),
            on: filed_on,
        },
    );
    let cal = Calendar::default();
    let clock = clocks(&c, filed_on, &cal)[0];
    assert_eq!(clock.kind, ClockKind::Decision);
    assert_eq!(clock.due, filed_on + Duration::days(90));
    assert_eq!(clock.due, day(2027, 3, 7));
    assert!(!clocks(&c, day(2027, 3, 7), &cal)[0].overdue);
    assert!(clocks(&c, day(2027, 3, 8), &cal)[0].overdue);

    let notified = go(
        &c,
        Role::Inspector,
        Action::Notify {
            on: day(2026, 12, 8),
        },
    );
    let heard = go(
        &notified,
        Role::Inspector,
        Action::Hear {
            on: day(2026, 12, 10),
            statement: "当事人提出陈述申辩，已记录".into(),
        },
    );
    assert_eq!(
        clocks(&heard, day(2026, 12, 10), &cal)[0].kind,
        ClockKind::Decision
    );
    let decided = go(
        &heard,
        Role::Leader,
        Action::Decide {
            on: day(2026, 12, 11),
            fine_yuan: 50_000,
        },
    );
    let after = clocks(&decided, day(2026, 12, 11), &cal);
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].kind,
        ClockKind::Delivery,
        "the decision clock stopped"
    );
    let served = go(
        &decided,
        Role::Inspector,
        Action::Serve {
            on: day(2026, 12, 14),
        },
    );
    let payment = clocks(&served, day(2026, 12, 14), &cal)[0];
    assert_eq!(payment.kind, ClockKind::Payment);
    assert_eq!(payment.due, day(2026, 12, 29));
}

#[test]
fn late_payment_adds_three_percent_a_day_never_more_than_the_fine() {
    let served = Some(day(2026, 12, 1));
    assert_eq!(late_fee_yuan(10_000, served, day(2026, 12, 16)), 0);
    assert_eq!(late_fee_yuan(10_000, served, day(2026, 12, 17)), 300);
    assert_eq!(late_fee_yuan(10_000, served, day(2026, 12, 26)), 3_000);
    assert_eq!(late_fee_yuan(10_000, served, day(2027, 6, 1)), 10_000);
    assert_eq!(late_fee_yuan(10_000, None, day(2027, 6, 1)), 0);

    // Paying the fine alone after the deadline leaves the case open: the 加处罚款 is due too.
    let mut c = CaseState::pre_filed();
    c = go(
        &c,
        Role::Inspector,
        Action::DecideOnSite {
            on: day(2026, 12, 1),
            fine_yuan: 2_000,
            party: Party::Organisation,
        },
    );
    c = go(
        &c,
        Role::Inspector,
        Action::Serve {
            on: day(2026, 12, 1),
        },
    );
    let late = go(
        &c,
        Role::Inspector,
        Action::Pay {
            on: day(2026, 12, 18),
            yuan: 2_000,
        },
    );
    assert_eq!(
        late.stage(),
        Stage::Served,
        "120 yuan of 加处罚款 still due"
    );
    let settled = go(
        &late,
        Role::Inspector,
        Action::Pay {
            on: day(2026, 12, 18),
            yuan: 120,
        },
    );
    assert_eq!(settled.stage(), Stage::Executed);
}
