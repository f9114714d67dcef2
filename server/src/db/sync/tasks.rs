//! The task an inspection is started from (`entry.task_id`): checked against the task as
//! stored — it exists, its team is in the author's scope or the author is one of its officers,
//! and it names the inspection's enterprise — and marked done by the first inspection that
//! names it. A task that fails the check rejects that one inspection; the batch goes on.

use zhicha_core::ids::{EnterpriseId, OrgId, TaskId, UserId};
use zhicha_core::model::Inspection;

use super::{Author, Rejection, Tx, from_json, parse_id, reject};

const NOT_OURS: &str = "任务不存在或不属于本队";

/// The task `inspection` names, when it names one it did not name as `stored` (whose task was
/// checked when it was first named): `Ok(Some(id))` to mark done once the save is applied.
pub(super) async fn check(
    tx: &mut Tx,
    author: &Author<'_>,
    inspection: &Inspection,
    stored: Option<&Inspection>,
) -> Result<Result<Option<TaskId>, Rejection>, sqlx::Error> {
    let Some(id) = inspection.entry.task_id else {
        return Ok(Ok(None));
    };
    if stored.is_some_and(|old| old.entry.task_id == Some(id)) {
        return Ok(Ok(None));
    }
    let refused = || {
        Ok(Err(
            reject("forbidden", NOT_OURS).with_field("entry.task_id")
        ))
    };
    let Some(task) = load(tx, id).await? else {
        return refused();
    };
    let ours = author.scope.contains(task.org_id) || task.officers.contains(&author.user.id);
    if !ours {
        return refused();
    }
    // The inspection names the task's enterprise, or an entry merged into it (the apply path
    // has already turned a merged entry into its target).
    if task.enterprise_id != inspection.enterprise_id {
        return Ok(Err(
            reject("invalid", "检查的被检查单位与任务的单位不一致").with_field("entry.task_id")
        ));
    }
    Ok(Ok(Some(id)))
}

/// Marks the task done by `inspection` unless another inspection did it first.
pub(super) async fn mark_done(
    tx: &mut Tx,
    task: TaskId,
    inspection: &Inspection,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tasks SET inspection_id = $1 WHERE id = $2 AND inspection_id IS NULL")
        .bind(inspection.id.to_string())
        .bind(task.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What the check reads of a stored task.
struct Stored {
    org_id: OrgId,
    enterprise_id: EnterpriseId,
    officers: Vec<UserId>,
}

async fn load(tx: &mut Tx, id: TaskId) -> Result<Option<Stored>, sqlx::Error> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT org_id, enterprise_id, officers FROM tasks WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    let Some((org_id, enterprise_id, officers)) = row else {
        return Ok(None);
    };
    Ok(Some(Stored {
        org_id: parse_id(&org_id)?,
        enterprise_id: parse_id(&enterprise_id)?,
        officers: from_json(&officers)?,
    }))
}
