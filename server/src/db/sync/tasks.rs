//! The task an inspection is started from (`entry.task_id`): checked against the task as
//! stored — it exists, its team is in the author's scope or the author is one of its officers,
//! and it names the inspection's enterprise — and marked done by the first inspection that
//! names it. A task that fails the check rejects that one inspection; the batch goes on.

use zhicha_core::ids::{EnterpriseId, OrgId, TaskId, UserId};
use zhicha_core::model::Inspection;

use super::{Author, Rejection, Tx, from_json, parse_id, reject};

const NOT_OURS: &str = "任务不存在或不属于本队";

/// The task `inspection` names, when it names one it did not name as `stored` (whose task was
/// checked when it was first named): `Ok(Some(id))` to mark done once the save is applied. The
/// plan and draw it names must be the task's; neither may be named without a task.
pub(super) async fn check(
    tx: &mut Tx,
    author: &Author<'_>,
    inspection: &Inspection,
    stored: Option<&Inspection>,
) -> Result<Result<Option<TaskId>, Rejection>, sqlx::Error> {
    let Some(id) = inspection.entry.task_id else {
        // A plan or a draw is named only through a task, whose stored record says which.
        if inspection.entry.plan_id.is_some() || inspection.entry.draw_id.is_some() {
            return Ok(Err(
                reject("invalid", "检查计划与抽取只能随检查任务记录").with_field("entry.plan_id")
            ));
        }
        return Ok(Ok(None));
    };
    // Checked when the stored version first named them.
    let same = |old: &Inspection| {
        (old.entry.task_id, old.entry.plan_id, old.entry.draw_id)
            == (Some(id), inspection.entry.plan_id, inspection.entry.draw_id)
    };
    if stored.is_some_and(same) {
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
    let named = |given: Option<String>, stored: &str| given.is_none_or(|g| g == stored);
    if !named(
        inspection.entry.plan_id.map(|p| p.to_string()),
        &task.plan_id,
    ) || !named(
        inspection.entry.draw_id.map(|d| d.to_string()),
        &task.draw_id,
    ) {
        return Ok(Err(
            reject("invalid", "检查记录的计划或抽取与任务不一致").with_field("entry.plan_id")
        ));
    }
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
    plan_id: String,
    draw_id: String,
    enterprise_id: EnterpriseId,
    officers: Vec<UserId>,
}

async fn load(tx: &mut Tx, id: TaskId) -> Result<Option<Stored>, sqlx::Error> {
    let row: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT org_id, enterprise_id, officers, plan_id, draw_id FROM tasks WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((org_id, enterprise_id, officers, plan_id, draw_id)) = row else {
        return Ok(None);
    };
    Ok(Some(Stored {
        org_id: parse_id(&org_id)?,
        enterprise_id: parse_id(&enterprise_id)?,
        officers: from_json(&officers)?,
        plan_id,
        draw_id,
    }))
}
