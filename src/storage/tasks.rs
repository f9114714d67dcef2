//! 我的任务 offline: the tasks, the yearly caps and this year's visit counts that came with the
//! last bootstrap, kept as one `meta` value (small, and replaced whole at every bootstrap, so no
//! store of its own and no schema change).

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use zhicha_core::ids::{EnterpriseId, InspectionId, TaskId};
use zhicha_core::model::Inspection;
use zhicha_core::plan::api::Visits;
use zhicha_core::plan::{CapRule, Task};
use zhicha_core::protocol::BootstrapResponse;
use zhicha_core::time::china_date;

use super::{Db, StorageError};

/// The `meta` key of [`PlanData`].
const PLAN_DATA_KEY: &str = "plan_data";

/// What the phone knows of plans for a day offline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanData {
    /// Open tasks of the phone's scope.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// The bureau's yearly caps.
    #[serde(default)]
    pub caps: Vec<CapRule>,
    /// The server's count of this year's inspections per enterprise.
    #[serde(default)]
    pub visits: Vec<Visits>,
    /// When they were stored (the phone's clock, like `Inspection::started_at`).
    #[serde(default)]
    pub fetched_at: Option<DateTime<Utc>>,
    /// The inspections on the phone that the server already held then, so they are not counted
    /// twice: every other inspection on the phone is one the server's count lacks.
    #[serde(default)]
    pub counted: Vec<InspectionId>,
}

/// Where a task stands on this phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskProgress {
    /// No inspection yet.
    Open,
    /// An inspection was started from it on the phone and is under way.
    Started(InspectionId),
    /// Its inspection is finished on the phone.
    Finished(InspectionId),
    /// The server recorded its inspection.
    Done(Option<InspectionId>),
}

impl TaskProgress {
    pub fn label_zh(self) -> &'static str {
        match self {
            TaskProgress::Open => "未开始",
            TaskProgress::Started(_) => "已开始",
            TaskProgress::Finished(_) | TaskProgress::Done(_) => "已完成",
        }
    }

    pub fn is_open(self) -> bool {
        self == TaskProgress::Open
    }
}

impl PlanData {
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Where `task` stands, from the inspections on the phone: one started from it (its
    /// `entry.task_id`) counts before it reaches the server.
    pub fn progress(task: &Task, inspections: &[Inspection]) -> TaskProgress {
        let local = inspections
            .iter()
            .filter(|i| i.entry.task_id == Some(task.id))
            .max_by_key(|i| i.started_at);
        match (local, task.inspection_id) {
            (Some(i), _) if i.finished_at.is_some() => TaskProgress::Finished(i.id),
            (_, Some(done)) => TaskProgress::Done(Some(done)),
            (Some(i), None) => TaskProgress::Started(i.id),
            (None, None) => TaskProgress::Open,
        }
    }

    /// This year's inspections of `enterprise` as the phone knows them (China dates): the
    /// server's count at the last bootstrap, when that was this year, plus the inspections on
    /// the phone it did not hold then.
    pub fn visits_this_year(
        &self,
        enterprise: EnterpriseId,
        inspections: &[Inspection],
        now: DateTime<Utc>,
    ) -> u32 {
        let year = china_date(now).year();
        let fresh = self
            .fetched_at
            .is_some_and(|at| china_date(at).year() == year);
        let server = if fresh {
            self.visits
                .iter()
                .filter(|v| v.enterprise_id == enterprise)
                .map(|v| v.visits)
                .sum()
        } else {
            0
        };
        let local = inspections
            .iter()
            .filter(|i| i.enterprise_id == enterprise && china_date(i.started_at).year() == year)
            .filter(|i| !(fresh && self.counted.contains(&i.id)))
            .count();
        server + u32::try_from(local).unwrap_or(u32::MAX)
    }
}

impl Db {
    /// The tasks, caps and visit counts of the last bootstrap (empty before the first).
    pub async fn plan_data(&self) -> Result<PlanData, StorageError> {
        Ok(self.get_meta(PLAN_DATA_KEY).await?.unwrap_or_default())
    }

    /// Keeps a bootstrap's tasks, caps and visits, noting which local inspections the server
    /// already counted (those it has a revision of).
    pub(super) async fn put_plan_data(
        &self,
        bootstrap: &BootstrapResponse,
    ) -> Result<(), StorageError> {
        let mut counted = Vec::new();
        for inspection in self.inspections().await? {
            if self.known_rev(inspection.id.0).await?.is_some() {
                counted.push(inspection.id);
            }
        }
        let data = PlanData {
            tasks: bootstrap.tasks.clone(),
            caps: bootstrap.caps.clone(),
            visits: bootstrap.visits.clone(),
            fetched_at: Some(Utc::now()),
            counted,
        };
        self.put_meta(PLAN_DATA_KEY, &data).await
    }
}
