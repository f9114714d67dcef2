//! The finding lifecycle: a state machine over `FindingStatus` with the role rules of
//! design.md, plus the derived "overdue" state.
//!
//! ```text
//! draft ─submit─► submitted ─confirm─► rectifying ─reinspect ok─► verified ─close─► closed
//!                  │    ▲                 │  ▲
//!                return │ submit          └──┘ reinspect failed (new deadline)
//!                  ▼    │
//!                 returned
//! 立即整改 fixed on site (after-photo attached): submitted ─confirm─► closed
//! ```
//! Role rules: an inspector edits, submits and re-inspects findings of their own team; a
//! leader confirms, returns, supervises and closes within their org scope; an admin may do
//! everything. Status rules apply to everybody, admins included. `act` (in `act.rs`) is the one
//! step a `finding.*` mutation takes, on the server and on every screen.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{PhotoHash, UserId};
use crate::model::{Finding, FindingStatus, HistoryEntry, Level, Role};
use crate::protocol::{
    CommentPayload, MutationPayload, ReinspectPayload, ReturnPayload, SupervisePayload,
};

/// Something a person does to a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FindingAction {
    /// Change the inspector-owned content (description, place, level, measure, deadline,
    /// photos). After review this sends the finding back for review.
    Edit,
    Submit,
    Confirm,
    Return {
        comment: String,
    },
    /// Set or clear 挂牌督办.
    Supervise {
        on: bool,
    },
    Reinspect {
        passed: bool,
        new_deadline: Option<NaiveDate>,
    },
    /// 销号.
    Close,
}

impl FindingAction {
    /// Stable name recorded in the history.
    pub fn name(&self) -> &'static str {
        match self {
            FindingAction::Edit => "edit",
            FindingAction::Submit => "submit",
            FindingAction::Confirm => "confirm",
            FindingAction::Return { .. } => "return",
            FindingAction::Supervise { on: true } => "supervise",
            FindingAction::Supervise { on: false } => "unsupervise",
            FindingAction::Reinspect { passed: true, .. } => "reinspect_passed",
            FindingAction::Reinspect { passed: false, .. } => "reinspect_failed",
            FindingAction::Close => "close",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            FindingAction::Edit => "修改",
            FindingAction::Submit => "提交审核",
            FindingAction::Confirm => "审核确认",
            FindingAction::Return { .. } => "退回",
            FindingAction::Supervise { on: true } => "挂牌督办",
            FindingAction::Supervise { on: false } => "撤销挂牌督办",
            FindingAction::Reinspect { passed: true, .. } => "复查合格",
            FindingAction::Reinspect { passed: false, .. } => "复查不合格",
            FindingAction::Close => "销号",
        }
    }

    /// The role group that owns the action (protocol.md: one writer per field group).
    fn owner(&self) -> Owner {
        match self {
            FindingAction::Edit | FindingAction::Submit | FindingAction::Reinspect { .. } => {
                Owner::Team
            }
            FindingAction::Confirm
            | FindingAction::Return { .. }
            | FindingAction::Supervise { .. }
            | FindingAction::Close => Owner::Leader,
        }
    }

    /// The mutation that carries this action to the server, the inverse of `from_payload`.
    /// `Edit` has none here: its payload is the whole finding (`finding.save`).
    pub fn to_payload(
        &self,
        comment: &str,
        after_photos: Vec<PhotoHash>,
    ) -> Option<MutationPayload> {
        let comment = comment.trim().to_owned();
        Some(match self {
            FindingAction::Edit => return None,
            FindingAction::Submit => MutationPayload::FindingSubmit(CommentPayload { comment }),
            FindingAction::Confirm => MutationPayload::FindingConfirm(CommentPayload { comment }),
            FindingAction::Close => MutationPayload::FindingClose(CommentPayload { comment }),
            FindingAction::Return { comment } => MutationPayload::FindingReturn(ReturnPayload {
                comment: comment.trim().to_owned(),
            }),
            FindingAction::Supervise { on } => {
                MutationPayload::FindingSupervise(SupervisePayload {
                    supervised: *on,
                    comment,
                })
            }
            FindingAction::Reinspect {
                passed,
                new_deadline,
            } => MutationPayload::FindingReinspect(ReinspectPayload {
                passed: *passed,
                new_deadline: if *passed { None } else { *new_deadline },
                inspection_id: None,
                after_photos,
                comment,
            }),
        })
    }

    /// The lifecycle action a mutation payload performs (None for non-finding mutations).
    pub fn from_payload(p: &MutationPayload) -> Option<FindingAction> {
        Some(match p {
            MutationPayload::FindingSave(_) => FindingAction::Edit,
            MutationPayload::FindingSubmit(_) => FindingAction::Submit,
            MutationPayload::FindingConfirm(_) => FindingAction::Confirm,
            MutationPayload::FindingReturn(r) => FindingAction::Return {
                comment: r.comment.clone(),
            },
            MutationPayload::FindingSupervise(s) => FindingAction::Supervise { on: s.supervised },
            MutationPayload::FindingReinspect(r) => FindingAction::Reinspect {
                passed: r.passed,
                new_deadline: r.new_deadline,
            },
            MutationPayload::FindingClose(_) => FindingAction::Close,
            _ => return None,
        })
    }
}

enum Owner {
    Team,
    Leader,
}

/// Who is acting, with the scope facts the caller established (the core does no I/O, so the
/// server or app decides membership and passes it in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The actor belongs to the team that owns the finding.
    pub same_team: bool,
    /// The finding's team is within the actor's org subtree.
    pub in_scope: bool,
}

/// Why an action is refused. Messages are for the inspector or leader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("当前状态为“{}”，不能执行“{}”", status.label_zh(), action)]
    InvalidTransition {
        status: FindingStatus,
        action: &'static str,
    },
    #[error("{}无权执行“{}”", role.label_zh(), action)]
    RoleNotAllowed { role: Role, action: &'static str },
    #[error("该隐患不属于您的检查组或管辖范围")]
    OutOfScope,
    #[error("仅重大隐患可挂牌督办")]
    SuperviseRequiresMajor,
    #[error("复查不合格须重新确定整改期限")]
    NewDeadlineRequired,
    #[error("退回须填写退回原因")]
    ReturnNeedsComment,
}

impl LifecycleError {
    /// Stable code for the protocol error body.
    pub fn code(&self) -> &'static str {
        match self {
            LifecycleError::InvalidTransition { .. } => "invalid_transition",
            LifecycleError::RoleNotAllowed { .. } | LifecycleError::OutOfScope => "forbidden",
            LifecycleError::SuperviseRequiresMajor
            | LifecycleError::NewDeadlineRequired
            | LifecycleError::ReturnNeedsComment => "validation",
        }
    }
}

fn check_role(action: &FindingAction, actor: &Actor) -> Result<(), LifecycleError> {
    let name = action.label_zh();
    match (actor.role, action.owner()) {
        // The admin of a bureau acts within its subtree; a region-wide superuser's scope is all.
        (Role::Admin, _) if actor.in_scope => Ok(()),
        (Role::Admin, _) => Err(LifecycleError::OutOfScope),
        (Role::Inspector, Owner::Team) => {
            if actor.same_team {
                Ok(())
            } else {
                Err(LifecycleError::OutOfScope)
            }
        }
        (Role::Leader, Owner::Leader) => {
            if actor.in_scope {
                Ok(())
            } else {
                Err(LifecycleError::OutOfScope)
            }
        }
        (role, _) => Err(LifecycleError::RoleNotAllowed { role, action: name }),
    }
}

/// Decides the status after `action`, or why it is refused. Pure: nothing is changed.
pub fn next_status(
    finding: &Finding,
    action: &FindingAction,
    actor: &Actor,
) -> Result<FindingStatus, LifecycleError> {
    use FindingStatus as S;
    check_role(action, actor)?;
    let from = finding.status;
    let refuse = || LifecycleError::InvalidTransition {
        status: from,
        action: action.label_zh(),
    };
    match action {
        FindingAction::Edit => match from {
            S::Draft | S::Returned => Ok(from),
            // An edit after review is kept and puts the finding back for review.
            S::Submitted | S::Rectifying | S::Verified => Ok(S::Submitted),
            S::Closed => Err(refuse()),
        },
        FindingAction::Submit => match from {
            S::Draft | S::Returned => Ok(S::Submitted),
            _ => Err(refuse()),
        },
        FindingAction::Confirm => match from {
            S::Submitted if finding.rectified_on_site() => Ok(S::Closed),
            S::Submitted => Ok(S::Rectifying),
            _ => Err(refuse()),
        },
        FindingAction::Return { comment } => match from {
            S::Submitted if comment.trim().is_empty() => Err(LifecycleError::ReturnNeedsComment),
            S::Submitted => Ok(S::Returned),
            _ => Err(refuse()),
        },
        FindingAction::Supervise { on } => {
            if *on && finding.level != Level::Major {
                return Err(LifecycleError::SuperviseRequiresMajor);
            }
            match from {
                S::Submitted | S::Rectifying | S::Verified => Ok(from),
                _ => Err(refuse()),
            }
        }
        FindingAction::Reinspect {
            passed,
            new_deadline,
        } => match from {
            S::Rectifying if *passed => Ok(S::Verified),
            S::Rectifying if new_deadline.is_none() => Err(LifecycleError::NewDeadlineRequired),
            S::Rectifying => Ok(S::Rectifying),
            _ => Err(refuse()),
        },
        FindingAction::Close => match from {
            S::Verified => Ok(S::Closed),
            _ => Err(refuse()),
        },
    }
}

/// Applies an allowed action: sets the status and the flags the action carries and appends a
/// history entry. Content edits themselves are the caller's (the new record replaces the old).
pub fn apply(
    finding: &mut Finding,
    action: &FindingAction,
    actor: &Actor,
    at: DateTime<Utc>,
    comment: &str,
) -> Result<FindingStatus, LifecycleError> {
    let to = next_status(finding, action, actor)?;
    match action {
        FindingAction::Supervise { on } => finding.supervised = *on,
        FindingAction::Reinspect {
            passed: false,
            new_deadline,
        } => {
            finding.deadline = *new_deadline;
        }
        _ => {}
    }
    // A return's reason travels in the action itself.
    let comment = match action {
        FindingAction::Return { comment } => comment.as_str(),
        _ => comment,
    };
    finding.history.push(HistoryEntry {
        at,
        by: actor.user_id,
        action: action.name().to_owned(),
        from: finding.status,
        to,
        comment: comment.to_owned(),
    });
    finding.status = to;
    Ok(to)
}

/// Deadlines are calendar dates in China Standard Time (`time`); re-exported for callers that
/// reach it through the lifecycle.
pub use crate::time::china_offset;

/// Overdue = still rectifying after the end of its deadline day (China Standard Time).
/// Derived from the clock passed in, never stored.
pub fn is_overdue(finding: &Finding, now: DateTime<Utc>) -> bool {
    match (finding.status, finding.deadline) {
        (FindingStatus::Rectifying, Some(deadline)) => crate::time::china_date(now) > deadline,
        _ => false,
    }
}

/// Whole days past the deadline (0 when not overdue).
pub fn days_overdue(finding: &Finding, now: DateTime<Utc>) -> i64 {
    if !is_overdue(finding, now) {
        return 0;
    }
    let today = crate::time::china_date(now);
    finding.deadline.map_or(0, |d| (today - d).num_days())
}

mod act;

pub use act::{ActError, EDIT_AFTER_REVIEW, act};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Measure;
    use crate::protocol::tests::{finding, hash, t0};
    use FindingStatus as S;
    use chrono::{Duration, TimeZone};

    pub(super) fn actor(role: Role, same_team: bool, in_scope: bool) -> Actor {
        Actor {
            user_id: UserId::new(),
            role,
            same_team,
            in_scope,
        }
    }

    pub(super) fn inspector() -> Actor {
        actor(Role::Inspector, true, true)
    }

    pub(super) fn leader() -> Actor {
        actor(Role::Leader, false, true)
    }

    pub(super) fn admin() -> Actor {
        actor(Role::Admin, false, true)
    }

    pub(super) fn at(status: FindingStatus) -> Finding {
        let mut f = finding();
        f.status = status;
        f
    }

    pub(super) fn actions() -> Vec<FindingAction> {
        vec![
            FindingAction::Edit,
            FindingAction::Submit,
            FindingAction::Confirm,
            FindingAction::Return {
                comment: "照片不清晰".into(),
            },
            FindingAction::Supervise { on: true },
            FindingAction::Supervise { on: false },
            FindingAction::Reinspect {
                passed: true,
                new_deadline: None,
            },
            FindingAction::Reinspect {
                passed: false,
                new_deadline: NaiveDate::from_ymd_opt(2026, 5, 1),
            },
            FindingAction::Close,
        ]
    }

    /// The complete table of allowed (status, action) → status for a major finding with a
    /// deadline measure, as the role that owns the action. Everything else must be refused.
    fn allowed(from: FindingStatus, action: &FindingAction) -> Option<FindingStatus> {
        use FindingAction as A;
        match (from, action) {
            (S::Draft, A::Edit) => Some(S::Draft),
            (S::Returned, A::Edit) => Some(S::Returned),
            (S::Submitted | S::Rectifying | S::Verified, A::Edit) => Some(S::Submitted),
            (S::Draft | S::Returned, A::Submit) => Some(S::Submitted),
            (S::Submitted, A::Confirm) => Some(S::Rectifying),
            (S::Submitted, A::Return { .. }) => Some(S::Returned),
            (S::Submitted | S::Rectifying | S::Verified, A::Supervise { .. }) => Some(from),
            (S::Rectifying, A::Reinspect { passed: true, .. }) => Some(S::Verified),
            (S::Rectifying, A::Reinspect { passed: false, .. }) => Some(S::Rectifying),
            (S::Verified, A::Close) => Some(S::Closed),
            _ => None,
        }
    }

    fn owner_of(action: &FindingAction) -> Actor {
        match action.owner() {
            Owner::Team => inspector(),
            Owner::Leader => leader(),
        }
    }

    #[test]
    fn every_status_and_action_pair_matches_the_transition_table() {
        let mut allowed_count = 0;
        for from in FindingStatus::ALL {
            for action in actions() {
                let f = at(from);
                let got = next_status(&f, &action, &owner_of(&action));
                match allowed(from, &action) {
                    Some(to) => {
                        allowed_count += 1;
                        assert_eq!(got, Ok(to), "{from:?} {action:?}");
                    }
                    None => assert_eq!(
                        got,
                        Err(LifecycleError::InvalidTransition {
                            status: from,
                            action: action.label_zh()
                        }),
                        "{from:?} {action:?} should be refused"
                    ),
                }
            }
        }
        assert_eq!(allowed_count, 18);
    }

    #[test]
    fn admin_may_do_every_allowed_transition_but_not_a_forbidden_one() {
        for from in FindingStatus::ALL {
            for action in actions() {
                let got = next_status(&at(from), &action, &admin());
                assert_eq!(
                    got.is_ok(),
                    allowed(from, &action).is_some(),
                    "{from:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn inspector_may_not_confirm_return_supervise_or_close() {
        for (from, action) in [
            (S::Submitted, FindingAction::Confirm),
            (
                S::Submitted,
                FindingAction::Return {
                    comment: "x".into(),
                },
            ),
            (S::Rectifying, FindingAction::Supervise { on: true }),
            (S::Verified, FindingAction::Close),
        ] {
            assert_eq!(
                next_status(&at(from), &action, &inspector()),
                Err(LifecycleError::RoleNotAllowed {
                    role: Role::Inspector,
                    action: action.label_zh()
                })
            );
        }
    }

    #[test]
    fn leader_may_not_edit_submit_or_reinspect_content() {
        let leader_on_team = actor(Role::Leader, true, true);
        for (from, action) in [
            (S::Draft, FindingAction::Edit),
            (S::Draft, FindingAction::Submit),
            (
                S::Rectifying,
                FindingAction::Reinspect {
                    passed: true,
                    new_deadline: None,
                },
            ),
        ] {
            assert!(matches!(
                next_status(&at(from), &action, &leader_on_team),
                Err(LifecycleError::RoleNotAllowed {
                    role: Role::Leader,
                    ..
                })
            ));
        }
    }

    #[test]
    fn inspector_of_another_team_is_out_of_scope() {
        let other = actor(Role::Inspector, false, true);
        assert_eq!(
            next_status(&at(S::Draft), &FindingAction::Submit, &other),
            Err(LifecycleError::OutOfScope)
        );
        assert_eq!(
            next_status(
                &at(S::Rectifying),
                &FindingAction::Reinspect {
                    passed: true,
                    new_deadline: None
                },
                &other
            ),
            Err(LifecycleError::OutOfScope)
        );
    }

    #[test]
    fn leader_outside_their_org_scope_is_refused() {
        let outsider = actor(Role::Leader, false, false);
        assert_eq!(
            next_status(&at(S::Submitted), &FindingAction::Confirm, &outsider),
            Err(LifecycleError::OutOfScope)
        );
        assert_eq!(
            next_status(&at(S::Verified), &FindingAction::Close, &outsider),
            Err(LifecycleError::OutOfScope)
        );
    }

    #[test]
    fn immediate_rectification_with_after_photo_is_closed_on_confirm() {
        let mut f = at(S::Submitted);
        f.level = Level::General;
        f.measure = Measure::Immediate;
        f.deadline = None;
        f.after_photos = vec![hash(9)];
        assert_eq!(
            next_status(&f, &FindingAction::Confirm, &leader()),
            Ok(S::Closed)
        );
        f.after_photos.clear();
        assert_eq!(
            next_status(&f, &FindingAction::Confirm, &leader()),
            Ok(S::Rectifying)
        );
    }

    #[test]
    fn supervising_a_general_finding_is_refused_but_clearing_the_flag_is_not() {
        let mut f = at(S::Rectifying);
        f.level = Level::General;
        assert_eq!(
            next_status(&f, &FindingAction::Supervise { on: true }, &leader()),
            Err(LifecycleError::SuperviseRequiresMajor)
        );
        assert_eq!(
            next_status(&f, &FindingAction::Supervise { on: false }, &leader()),
            Ok(S::Rectifying)
        );
    }

    #[test]
    fn failed_reinspection_requires_a_new_deadline() {
        assert_eq!(
            next_status(
                &at(S::Rectifying),
                &FindingAction::Reinspect {
                    passed: false,
                    new_deadline: None
                },
                &inspector()
            ),
            Err(LifecycleError::NewDeadlineRequired)
        );
    }

    #[test]
    fn return_requires_a_reason() {
        assert_eq!(
            next_status(
                &at(S::Submitted),
                &FindingAction::Return {
                    comment: "  ".into()
                },
                &leader()
            ),
            Err(LifecycleError::ReturnNeedsComment)
        );
    }

    #[test]
    fn apply_records_history_sets_flags_and_new_deadline() {
        let mut f = at(S::Submitted);
        let l = leader();
        apply(&mut f, &FindingAction::Confirm, &l, t0(), "同意").unwrap();
        apply(&mut f, &FindingAction::Supervise { on: true }, &l, t0(), "").unwrap();
        assert!(f.supervised);
        let new_deadline = NaiveDate::from_ymd_opt(2026, 6, 30);
        let i = inspector();
        apply(
            &mut f,
            &FindingAction::Reinspect {
                passed: false,
                new_deadline,
            },
            &i,
            t0(),
            "",
        )
        .unwrap();
        assert_eq!(f.deadline, new_deadline);
        assert_eq!(f.status, S::Rectifying);
        let names: Vec<_> = f.history.iter().map(|h| h.action.as_str()).collect();
        assert_eq!(names, ["confirm", "supervise", "reinspect_failed"]);
        assert_eq!(f.history[0].from, S::Submitted);
        assert_eq!(f.history[0].to, S::Rectifying);
        assert_eq!(f.history[2].by, i.user_id);
    }

    #[test]
    fn apply_leaves_the_finding_untouched_when_refused() {
        let mut f = at(S::Draft);
        let before = f.clone();
        assert!(apply(&mut f, &FindingAction::Close, &leader(), t0(), "").is_err());
        assert_eq!(f, before);
    }

    #[test]
    fn return_reason_is_kept_in_history() {
        let mut f = at(S::Submitted);
        apply(
            &mut f,
            &FindingAction::Return {
                comment: "依据条款有误".into(),
            },
            &leader(),
            t0(),
            "",
        )
        .unwrap();
        assert_eq!(f.history[0].comment, "依据条款有误");
    }

    #[test]
    fn full_loop_from_draft_to_closed() {
        let mut f = at(S::Draft);
        let (i, l) = (inspector(), leader());
        apply(&mut f, &FindingAction::Submit, &i, t0(), "").unwrap();
        apply(
            &mut f,
            &FindingAction::Return {
                comment: "补充照片".into(),
            },
            &l,
            t0(),
            "",
        )
        .unwrap();
        apply(&mut f, &FindingAction::Edit, &i, t0(), "").unwrap();
        apply(&mut f, &FindingAction::Submit, &i, t0(), "").unwrap();
        apply(&mut f, &FindingAction::Confirm, &l, t0(), "").unwrap();
        apply(
            &mut f,
            &FindingAction::Reinspect {
                passed: true,
                new_deadline: None,
            },
            &i,
            t0(),
            "",
        )
        .unwrap();
        apply(&mut f, &FindingAction::Close, &l, t0(), "").unwrap();
        assert_eq!(f.status, S::Closed);
        assert_eq!(f.history.len(), 7);
    }

    #[test]
    fn overdue_is_derived_from_deadline_day_in_china_time() {
        let mut f = at(S::Rectifying);
        f.deadline = NaiveDate::from_ymd_opt(2026, 3, 20);
        // 2026-03-20 23:59 CST is 15:59 UTC: still within the deadline day.
        let last_minute = Utc.with_ymd_and_hms(2026, 3, 20, 15, 59, 0).unwrap();
        assert!(!is_overdue(&f, last_minute));
        // 2026-03-21 00:01 CST is 16:01 UTC on the 20th: overdue although UTC says the 20th.
        let next_day = last_minute + Duration::minutes(2);
        assert!(is_overdue(&f, next_day));
        assert_eq!(days_overdue(&f, next_day + Duration::days(3)), 4);
    }

    #[test]
    fn only_rectifying_findings_with_a_deadline_can_be_overdue() {
        let late = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        for status in FindingStatus::ALL {
            let f = at(status);
            assert_eq!(is_overdue(&f, late), status == S::Rectifying, "{status:?}");
        }
        let mut no_deadline = at(S::Rectifying);
        no_deadline.deadline = None;
        assert!(!is_overdue(&no_deadline, late));
        assert_eq!(days_overdue(&no_deadline, late), 0);
    }

    #[test]
    fn mutation_payloads_map_to_lifecycle_actions() {
        use crate::protocol::{CommentPayload, MutationPayload, SupervisePayload};
        assert_eq!(
            FindingAction::from_payload(&MutationPayload::FindingSubmit(CommentPayload::default())),
            Some(FindingAction::Submit)
        );
        assert_eq!(
            FindingAction::from_payload(&MutationPayload::FindingSupervise(SupervisePayload {
                supervised: false,
                comment: String::new()
            })),
            Some(FindingAction::Supervise { on: false })
        );
        assert_eq!(
            FindingAction::from_payload(&MutationPayload::FindingSave(Box::new(finding()))),
            Some(FindingAction::Edit)
        );
    }

    #[test]
    fn an_admin_acts_only_within_his_bureau() {
        let outside = actor(Role::Admin, false, false);
        for action in actions() {
            assert_eq!(
                check_role(&action, &outside),
                Err(LifecycleError::OutOfScope),
                "{action:?}"
            );
            assert_eq!(check_role(&action, &admin()), Ok(()), "{action:?}");
        }
    }

    #[test]
    fn errors_carry_chinese_messages_and_stable_codes() {
        let e = next_status(&at(S::Closed), &FindingAction::Edit, &inspector()).unwrap_err();
        assert_eq!(e.to_string(), "当前状态为“已销号”，不能执行“修改”");
        assert_eq!(e.code(), "invalid_transition");
        assert_eq!(LifecycleError::OutOfScope.code(), "forbidden");
    }
}
