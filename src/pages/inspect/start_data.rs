//! What the start screen reads before it opens: the enterprise (picked, or a task's), the
//! signed-in inspector and colleagues, the packs in force, the task, and the enterprise's visits
//! this year against its cap.

use chrono::Utc;
use zhicha_core::fieldwork;
use zhicha_core::ids::{InspectionId, TaskId};
use zhicha_core::model::{Enterprise, PackRef, Role, User};
use zhicha_core::packs::ChecklistPack;
use zhicha_core::plan::{self, Task};

use super::entry::EntryBase;
use super::{enterprise, open_db, registry, signed_in};
use crate::storage::{PlanData, Session, TaskProgress};

/// Where a new inspection comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum StartFrom {
    /// An enterprise picked from the directory (the id as the address spells it).
    Enterprise(String),
    /// A task of 我的任务 (`None`: the address named no valid task).
    Task(Option<TaskId>),
}

#[derive(Clone)]
pub(super) struct StartData {
    pub session: Session,
    pub enterprise: Enterprise,
    pub colleagues: Vec<User>,
    pub packs: Vec<ChecklistPack>,
    pub suggested: Vec<PackRef>,
    pub task: Option<Task>,
    /// An inspection already started on this phone from the task.
    pub started: Option<InspectionId>,
    pub base: EntryBase,
}

pub(super) async fn load(from: StartFrom) -> Result<StartData, String> {
    let db = open_db().await?;
    let session = signed_in(&db).await?;
    let plans = db.plan_data().await.map_err(|e| e.to_string())?;
    let task = match from.clone() {
        StartFrom::Enterprise(_) => None,
        StartFrom::Task(None) => return Err("链接不完整：缺少任务编号。".to_owned()),
        StartFrom::Task(Some(id)) => Some(
            plans
                .task(id)
                .cloned()
                .ok_or_else(|| "本机没有这项任务。请联网登录或同步后再试。".to_owned())?,
        ),
    };
    let enterprise_id = match (&from, &task) {
        (StartFrom::Enterprise(id), _) => id.clone(),
        (_, Some(task)) => task.enterprise_id.to_string(),
        (_, None) => return Err("本机没有这项任务。".to_owned()),
    };
    let enterprise = enterprise(&db, &enterprise_id).await?;
    let colleagues: Vec<User> = db
        .roster()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|u| u.id != session.user.id && u.role != Role::Admin)
        .collect();
    let packs = registry(&db).await;
    let now = Utc::now();
    let today = zhicha_core::time::china_date(now);
    let suggested = fieldwork::suggested_packs(&enterprise, &packs, today)
        .into_iter()
        .map(ChecklistPack::pack_ref)
        .collect();
    // A new inspection uses each pack at the edition in force today; older versions stay on the
    // device for the inspections that used them.
    let latest: Vec<ChecklistPack> = zhicha_core::packs::in_force_all_in(&packs, today)
        .into_iter()
        .cloned()
        .collect();
    let inspections = db.inspections().await.map_err(|e| e.to_string())?;
    let started = task
        .as_ref()
        .and_then(|t| match PlanData::progress(t, &inspections) {
            TaskProgress::Started(id) | TaskProgress::Finished(id) => Some(id),
            TaskProgress::Done(id) => id,
            TaskProgress::Open => None,
        });
    let base = EntryBase {
        entry: task.as_ref().map(Task::entry).unwrap_or_default(),
        visits: plans.visits_this_year(enterprise.id, &inspections, now),
        cap: plan::cap_for(&plans.caps, &enterprise),
    };
    Ok(StartData {
        session,
        enterprise,
        colleagues,
        packs: latest,
        suggested,
        task,
        started,
        base,
    })
}
