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
//! everything. Status rules apply to everybody, admins included.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{PhotoHash, UserId};
use crate::model::{Finding, FindingStatus, HistoryEntry, Level, Role};
use crate::protocol::{
    CommentPayload, ErrorBody, MutationPayload, ReinspectPayload, ReturnPayload, SupervisePayload,
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
        (Role::Admin, _) => Ok(()),
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

/// Why a step on a finding is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The finding is not complete enough for the step (core's field rules).
    #[error("{}", .0.message)]
    Invalid(crate::validation::FieldError),
    /// A new finding must be created by the user who sends it.
    #[error("新建隐患的创建人须为当前用户")]
    NotCreator,
    /// The step names a finding that is not there yet (an action before the finding's save).
    #[error("隐患尚未同步到服务器")]
    Missing,
    /// Not a finding mutation.
    #[error("未知的操作")]
    NotAFindingStep,
}

impl ActError {
    /// The protocol error body of a rejected ack.
    pub fn to_error_body(&self) -> ErrorBody {
        match self {
            ActError::Lifecycle(e) => ErrorBody::new(e.code(), e.to_string()),
            ActError::Invalid(e) => e.to_error_body(),
            ActError::NotCreator => {
                ErrorBody::new("invalid", self.to_string()).with_field("created_by")
            }
            ActError::Missing => ErrorBody::new("not_found", self.to_string()),
            ActError::NotAFindingStep => ErrorBody::new("invalid_payload", self.to_string()),
        }
    }
}

/// The comment a step records in the history, whatever payload carries it.
fn comment_of(payload: &MutationPayload) -> &str {
    match payload {
        MutationPayload::FindingSubmit(c)
        | MutationPayload::FindingConfirm(c)
        | MutationPayload::FindingClose(c) => &c.comment,
        MutationPayload::FindingReturn(r) => &r.comment,
        MutationPayload::FindingSupervise(s) => &s.comment,
        MutationPayload::FindingReinspect(r) => &r.comment,
        _ => "",
    }
}

/// What a finding needs before it goes (or stays) under review.
fn complete(finding: &Finding) -> Result<(), ActError> {
    crate::validation::validate_finding(finding).map_err(|errors| {
        ActError::Invalid(
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| crate::validation::FieldError::new("finding", "记录不完整")),
        )
    })
}

/// The history comment of an edit that sends a reviewed finding back to review.
pub const EDIT_AFTER_REVIEW: &str = "审核后修改，重新提交审核";

/// One step on a finding, the one rule for the server's apply and every screen that acts on a
/// finding: `payload` (a `finding.*` mutation) applied by `actor` at `now` to the finding as it
/// stands (`current`, None if it does not exist yet) gives the new finding or the reason not.
///
/// - `finding.save` of a new finding: it starts as a draft created by the actor; review fields
///   (status, 挂牌督办, history) are the server's and the leader's, never the payload's.
/// - `finding.save` of an existing one: the inspector's field group comes from the payload; the
///   identity (inspection, enterprise, team, creator) and review fields stay as stored; an edit
///   after review puts the finding back under review and must then be complete.
/// - Every other step: the state machine's transition, with its comment; a re-inspection adds
///   its after-photos; a submit needs a complete finding.
pub fn act(
    current: Option<&Finding>,
    payload: &MutationPayload,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Finding, ActError> {
    match (payload, current) {
        (MutationPayload::FindingSave(new), None) => {
            let mut finding = (**new).clone();
            finding.status = FindingStatus::Draft;
            finding.supervised = false;
            finding.history.clear();
            next_status(&finding, &FindingAction::Edit, actor)?;
            if finding.created_by != actor.user_id {
                return Err(ActError::NotCreator);
            }
            Ok(finding)
        }
        (MutationPayload::FindingSave(new), Some(old)) => {
            let mut merged = (**new).clone();
            merged.id = old.id;
            merged.inspection_id = old.inspection_id;
            merged.enterprise_id = old.enterprise_id;
            merged.org_id = old.org_id;
            merged.created_by = old.created_by;
            merged.created_at = old.created_at;
            merged.status = old.status;
            merged.supervised = old.supervised;
            merged.history = old.history.clone();
            let to = next_status(&merged, &FindingAction::Edit, actor)?;
            if to != merged.status {
                apply(
                    &mut merged,
                    &FindingAction::Edit,
                    actor,
                    now,
                    EDIT_AFTER_REVIEW,
                )?;
            }
            if !matches!(
                merged.status,
                FindingStatus::Draft | FindingStatus::Returned
            ) {
                complete(&merged)?;
            }
            Ok(merged)
        }
        (_, None) if FindingAction::from_payload(payload).is_some() => Err(ActError::Missing),
        (_, Some(old)) => {
            let action = FindingAction::from_payload(payload).ok_or(ActError::NotAFindingStep)?;
            let mut finding = old.clone();
            if let MutationPayload::FindingReinspect(r) = payload {
                for hash in &r.after_photos {
                    if !finding.after_photos.contains(hash) {
                        finding.after_photos.push(hash.clone());
                    }
                }
            }
            if action == FindingAction::Submit {
                complete(&finding)?;
            }
            apply(
                &mut finding,
                &action,
                actor,
                now,
                comment_of(payload).trim(),
            )?;
            Ok(finding)
        }
        _ => Err(ActError::NotAFindingStep),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Measure;
    use crate::protocol::tests::{finding, hash, t0};
    use FindingStatus as S;
    use chrono::{Duration, TimeZone};

    fn actor(role: Role, same_team: bool, in_scope: bool) -> Actor {
        Actor {
            user_id: UserId::new(),
            role,
            same_team,
            in_scope,
        }
    }

    fn inspector() -> Actor {
        actor(Role::Inspector, true, true)
    }

    fn leader() -> Actor {
        actor(Role::Leader, false, true)
    }

    fn admin() -> Actor {
        actor(Role::Admin, false, false)
    }

    fn at(status: FindingStatus) -> Finding {
        let mut f = finding();
        f.status = status;
        f
    }

    fn actions() -> Vec<FindingAction> {
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
    fn errors_carry_chinese_messages_and_stable_codes() {
        let e = next_status(&at(S::Closed), &FindingAction::Edit, &inspector()).unwrap_err();
        assert_eq!(e.to_string(), "当前状态为“已销号”，不能执行“修改”");
        assert_eq!(e.code(), "invalid_transition");
        assert_eq!(LifecycleError::OutOfScope.code(), "forbidden");
    }

    #[test]
    fn every_action_maps_to_a_payload_and_back() {
        for action in actions() {
            let Some(payload) = action.to_payload(" 说明 ", vec![hash(1)]) else {
                assert_eq!(action, FindingAction::Edit);
                continue;
            };
            let back = FindingAction::from_payload(&payload).unwrap();
            // A passed re-inspection carries no new deadline, whatever was typed.
            assert_eq!(back, action, "{payload:?}");
        }
    }

    #[test]
    fn act_creates_a_new_finding_as_a_draft_of_its_creator_ignoring_review_fields() {
        let me = inspector();
        let mut f = at(S::Closed);
        f.created_by = me.user_id;
        f.supervised = true;
        let made = act(
            None,
            &MutationPayload::FindingSave(Box::new(f.clone())),
            &me,
            t0(),
        )
        .unwrap();
        assert_eq!((made.status, made.supervised), (S::Draft, false));
        assert!(made.history.is_empty());
        let other = act(
            None,
            &MutationPayload::FindingSave(Box::new(finding())),
            &me,
            t0(),
        );
        assert_eq!(other, Err(ActError::NotCreator));
    }

    #[test]
    fn act_keeps_identity_and_review_fields_of_a_stored_finding_on_save() {
        let me = inspector();
        let stored = at(S::Draft);
        let mut edited = finding();
        edited.id = stored.id;
        edited.description = "新的描述".into();
        edited.status = S::Closed;
        let out = act(
            Some(&stored),
            &MutationPayload::FindingSave(Box::new(edited.clone())),
            &me,
            t0(),
        )
        .unwrap();
        assert_eq!(out.description, "新的描述");
        assert_eq!(out.inspection_id, stored.inspection_id);
        assert_eq!(out.org_id, stored.org_id);
        assert_eq!(out.created_by, stored.created_by);
        assert_eq!(out.status, S::Draft);
    }

    #[test]
    fn act_sends_an_edit_after_review_back_to_review() {
        let stored = at(S::Rectifying);
        let out = act(
            Some(&stored),
            &MutationPayload::FindingSave(Box::new(stored.clone())),
            &inspector(),
            t0(),
        )
        .unwrap();
        assert_eq!(out.status, S::Submitted);
        assert_eq!(out.history.last().unwrap().comment, EDIT_AFTER_REVIEW);
    }

    #[test]
    fn act_runs_the_state_machine_for_each_step_with_its_comment() {
        let stored = at(S::Submitted);
        let payload = FindingAction::Return {
            comment: "照片不清晰".into(),
        }
        .to_payload("", vec![])
        .unwrap();
        let out = act(Some(&stored), &payload, &leader(), t0()).unwrap();
        assert_eq!(out.status, S::Returned);
        assert_eq!(out.history.last().unwrap().comment, "照片不清晰");
        let refused = act(Some(&stored), &payload, &inspector(), t0());
        assert!(
            matches!(refused, Err(ActError::Lifecycle(_))),
            "{refused:?}"
        );
        assert_eq!(
            act(None, &payload, &leader(), t0())
                .unwrap_err()
                .to_error_body()
                .code,
            "not_found"
        );
    }

    #[test]
    fn act_adds_after_photos_of_a_reinspection_once() {
        let mut stored = at(S::Rectifying);
        stored.after_photos = vec![hash(1)];
        let payload = FindingAction::Reinspect {
            passed: true,
            new_deadline: None,
        }
        .to_payload("已整改", vec![hash(1), hash(2)])
        .unwrap();
        let out = act(Some(&stored), &payload, &inspector(), t0()).unwrap();
        assert_eq!(out.after_photos, [hash(1), hash(2)]);
        assert_eq!(out.status, S::Verified);
    }

    #[test]
    fn act_refuses_to_submit_an_incomplete_finding() {
        let mut stored = at(S::Draft);
        stored.description.clear();
        let payload = FindingAction::Submit.to_payload("", vec![]).unwrap();
        let err = act(Some(&stored), &payload, &inspector(), t0()).unwrap_err();
        assert!(matches!(err, ActError::Invalid(_)), "{err:?}");
        assert_eq!(err.to_error_body().code, "validation");
    }
}
