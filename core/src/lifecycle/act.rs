//! `act`: one step on a finding — a `finding.*` mutation applied to the finding as it stands —
//! the rule the server's apply and every screen that acts on a finding share.

use chrono::{DateTime, Utc};

use super::{Actor, FindingAction, LifecycleError, apply, next_status};
use crate::model::{Finding, FindingStatus};
use crate::protocol::{ErrorBody, MutationPayload};

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

#[cfg(test)]
mod tests {
    use super::super::tests::{actions, at, inspector, leader};
    use super::*;
    use crate::protocol::tests::{finding, hash, t0};
    use FindingStatus as S;

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
