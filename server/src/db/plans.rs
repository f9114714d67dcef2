//! Plans, draws and tasks as stored (migration 0013): a draw is written once, numbered within
//! its bureau, with its tasks in the same transaction, and never changed (the database's
//! triggers refuse it); a task is done when an inspection names it (`sync::tasks`).
//!
//! The routes decide who may see what; this module takes the org sets they resolved.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::ids::{DrawId, EnterpriseId, OrgId, PlanId, TaskId, UserId};
use zhicha_core::plan::api::DrawRecord;
use zhicha_core::plan::{Approval, Plan, Task};

use super::ledger_columns::{decode_json, time_text};
use super::users::parse_id;
use super::{Backend, Store, is_unique_violation, placeholders};

fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// `column IN (…)` over `ids` from parameter `from` on (`1 = 0` for none).
pub(super) fn in_list(column: &str, from: usize, n: usize) -> String {
    if n == 0 {
        "1 = 0".to_owned()
    } else {
        format!("{column} IN ({})", placeholders(from, n))
    }
}

#[derive(FromRow)]
struct TaskRow {
    id: String,
    plan_id: String,
    draw_id: String,
    org_id: String,
    enterprise_id: String,
    officers: String,
    key_enterprise: i64,
    due: String,
    campaign: String,
    approval: Option<String>,
    inspection_id: Option<String>,
}

const TASK_COLUMNS: &str = "id, plan_id, draw_id, org_id, enterprise_id, officers, \
     key_enterprise, due, campaign, approval, inspection_id";

impl TaskRow {
    fn into_task(self) -> Result<Task, sqlx::Error> {
        Ok(Task {
            id: parse_id(&self.id)?,
            plan_id: parse_id(&self.plan_id)?,
            draw_id: parse_id(&self.draw_id)?,
            org_id: parse_id(&self.org_id)?,
            enterprise_id: parse_id(&self.enterprise_id)?,
            officers: decode_json(&self.officers)?,
            key: self.key_enterprise != 0,
            due: self
                .due
                .parse::<NaiveDate>()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            campaign: self.campaign,
            approval: self
                .approval
                .as_deref()
                .map(decode_json::<Approval>)
                .transpose()?,
            inspection_id: self.inspection_id.as_deref().map(parse_id).transpose()?,
        })
    }
}

impl Store {
    pub async fn insert_plan(&self, plan: &Plan) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO plans (id, org_id, year, data, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(plan.id.to_string())
        .bind(plan.org_id.to_string())
        .bind(i64::from(plan.year))
        .bind(encode(plan)?)
        .bind(plan.created_by.to_string())
        .bind(time_text(plan.created_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn plan(&self, id: PlanId) -> Result<Option<Plan>, sqlx::Error> {
        let data: Option<String> = sqlx::query_scalar("SELECT data FROM plans WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        data.as_deref().map(decode_json).transpose()
    }

    /// Plans of `orgs` (None: all), newest year first.
    pub async fn plans_of(&self, orgs: Option<&[OrgId]>) -> Result<Vec<Plan>, sqlx::Error> {
        let filter = match orgs {
            None => "1 = 1".to_owned(),
            Some(orgs) => in_list("org_id", 1, orgs.len()),
        };
        let sql = format!("SELECT data FROM plans WHERE {filter} ORDER BY year DESC, created_at");
        let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for org in orgs.unwrap_or_default() {
            query = query.bind(org.to_string());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|d| decode_json(d))
            .collect()
    }

    /// Stores a draw and its tasks in one transaction, numbering it within its bureau
    /// (`record.org_id`): the next number after the highest stored. Two draws numbered at once
    /// collide on the unique index `(org_id, no)`; the later one is numbered again. Returns the
    /// record as stored.
    pub async fn insert_draw(
        &self,
        mut record: DrawRecord,
        made_by: UserId,
        tasks: &[Task],
    ) -> Result<DrawRecord, sqlx::Error> {
        let mut tries = 0;
        loop {
            match self.try_insert_draw(&mut record, made_by, tasks).await {
                Err(error) if is_unique_violation(&error) && tries < 10 => tries += 1,
                Err(error) => return Err(error),
                Ok(()) => return Ok(record),
            }
        }
    }

    async fn try_insert_draw(
        &self,
        record: &mut DrawRecord,
        made_by: UserId,
        tasks: &[Task],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(no) FROM draws WHERE org_id = $1")
            .bind(record.org_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        record.no = u32::try_from(last.unwrap_or(0) + 1).unwrap_or(u32::MAX);
        sqlx::query(
            "INSERT INTO draws (id, plan_id, org_id, no, made_at, made_by, input_hash, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.id.to_string())
        .bind(record.plan_id.to_string())
        .bind(record.org_id.to_string())
        .bind(i64::from(record.no))
        .bind(time_text(record.made_at))
        .bind(made_by.to_string())
        .bind(&record.input_hash)
        .bind(encode(&*record)?)
        .execute(&mut *tx)
        .await?;
        let created_at = time_text(record.made_at);
        for task in tasks {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO tasks ({TASK_COLUMNS}, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            )))
            .bind(task.id.to_string())
            .bind(task.plan_id.to_string())
            .bind(task.draw_id.to_string())
            .bind(task.org_id.to_string())
            .bind(task.enterprise_id.to_string())
            .bind(encode(&task.officers)?)
            .bind(i64::from(task.key))
            .bind(task.due.to_string())
            .bind(&task.campaign)
            .bind(task.approval.as_ref().map(encode).transpose()?)
            .bind(task.inspection_id.map(|i| i.to_string()))
            .bind(&created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    pub async fn draw(&self, id: DrawId) -> Result<Option<DrawRecord>, sqlx::Error> {
        let record: Option<String> = sqlx::query_scalar("SELECT record FROM draws WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        record.as_deref().map(decode_json).transpose()
    }

    /// The draws of a plan, by number.
    pub async fn draws_of_plan(&self, plan: PlanId) -> Result<Vec<DrawRecord>, sqlx::Error> {
        sqlx::query_scalar::<_, String>("SELECT record FROM draws WHERE plan_id = $1 ORDER BY no")
            .bind(plan.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| decode_json(r))
            .collect()
    }

    /// The tasks of the given plans, by due day.
    pub async fn tasks_of_plans(&self, plans: &[PlanId]) -> Result<Vec<Task>, sqlx::Error> {
        let mut tasks = Vec::new();
        for chunk in plans.chunks(500) {
            let sql = format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE {} ORDER BY due, id",
                in_list("plan_id", 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, TaskRow>(AssertSqlSafe(sql));
            for plan in chunk {
                query = query.bind(plan.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                tasks.push(row.into_task()?);
            }
        }
        Ok(tasks)
    }

    /// Open tasks of teams in `orgs` (None: all) or naming `officer` among its officers.
    pub async fn open_tasks_for(
        &self,
        orgs: Option<&[String]>,
        officer: UserId,
    ) -> Result<Vec<Task>, sqlx::Error> {
        let teams = match orgs {
            None => "1 = 1".to_owned(),
            Some(ids) => in_list("org_id", 2, ids.len()),
        };
        // A user id is hex and hyphens: nothing a LIKE pattern treats specially.
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE inspection_id IS NULL \
             AND ({teams} OR officers LIKE $1) ORDER BY due, id"
        );
        let mut query =
            sqlx::query_as::<_, TaskRow>(AssertSqlSafe(sql)).bind(format!("%\"{officer}\"%"));
        for id in orgs.unwrap_or_default() {
            query = query.bind(id.clone());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(TaskRow::into_task)
            .collect()
    }

    pub async fn task(&self, id: TaskId) -> Result<Option<Task>, sqlx::Error> {
        sqlx::query_as::<_, TaskRow>(AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .map(TaskRow::into_task)
        .transpose()
    }

    /// The inspections of this China calendar year per enterprise of the directories of
    /// `orgs` (None: all), only those with any.
    pub async fn visits_this_year(
        &self,
        orgs: Option<&[String]>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<EnterpriseId, u32>, sqlx::Error> {
        let (from, to) = china_year_bounds(now);
        let started = self.backend.json_text("data", &["started_at"]);
        let directory = match orgs {
            None => "1 = 1".to_owned(),
            Some(ids) => format!(
                "enterprise_id IN (SELECT id FROM enterprises WHERE {})",
                in_list("org_id", 3, ids.len())
            ),
        };
        let sql = format!(
            "SELECT enterprise_id, COUNT(*) AS n FROM inspections \
             WHERE {started} >= $1 AND {started} < $2 AND {directory} GROUP BY enterprise_id"
        );
        let mut query = sqlx::query_as::<_, (Option<String>, i64)>(AssertSqlSafe(sql))
            .bind(from)
            .bind(to);
        for id in orgs.unwrap_or_default() {
            query = query.bind(id.clone());
        }
        let mut visits = HashMap::new();
        for (enterprise, n) in query.fetch_all(&self.pool).await? {
            if let Some(enterprise) = enterprise {
                visits.insert(parse_id(&enterprise)?, u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        Ok(visits)
    }

    /// The 检查人员 of each enterprise's most recent inspection, for enterprises of the
    /// directories of `orgs`.
    pub async fn last_inspectors(
        &self,
        orgs: &[OrgId],
    ) -> Result<HashMap<EnterpriseId, Vec<UserId>>, sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            id: String,
            enterprise_id: Option<String>,
            started_at: Option<String>,
        }
        let started = self.backend.json_text("data", &["started_at"]);
        let sql = format!(
            "SELECT id, enterprise_id, {started} AS started_at FROM inspections \
             WHERE enterprise_id IN (SELECT id FROM enterprises WHERE {})",
            in_list("org_id", 1, orgs.len())
        );
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for org in orgs {
            query = query.bind(org.to_string());
        }
        // The latest per enterprise: stored times are RFC 3339 UTC, compared as instants.
        let mut latest: HashMap<String, (DateTime<Utc>, String)> = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let (Some(enterprise), Some(at)) = (row.enterprise_id, row.started_at) else {
                continue;
            };
            let Ok(at) = DateTime::parse_from_rfc3339(&at) else {
                continue;
            };
            let at = at.with_timezone(&Utc);
            let newer = latest.get(&enterprise).is_none_or(|(seen, _)| at > *seen);
            if newer {
                latest.insert(enterprise, (at, row.id));
            }
        }
        let by_inspection: HashMap<String, EnterpriseId> = latest
            .iter()
            .filter_map(|(e, (_, i))| Some((i.clone(), e.parse().ok()?)))
            .collect();
        let ids: Vec<&String> = by_inspection.keys().collect();
        let mut out: HashMap<EnterpriseId, Vec<UserId>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT inspection_id, user_id FROM inspection_inspectors WHERE {}",
                in_list("inspection_id", 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind((*id).clone());
            }
            for (inspection, user) in query.fetch_all(&self.pool).await? {
                if let Some(enterprise) = by_inspection.get(&inspection) {
                    out.entry(*enterprise).or_default().push(parse_id(&user)?);
                }
            }
        }
        Ok(out)
    }
}

impl Backend {
    /// SQL for the text at `path` inside the JSON text column `column`.
    pub(crate) fn json_text(self, column: &str, path: &[&str]) -> String {
        match self {
            Self::Sqlite => format!("json_extract({column}, '$.{}')", path.join(".")),
            Self::Postgres => format!("(({column})::jsonb #>> '{{{}}}')", path.join(",")),
        }
    }
}

/// The stored-time bounds `[from, to)` of the China calendar year of `now`, as text that
/// compares with stored RFC 3339 UTC times (no `Z`: a stored time at the very bound, with or
/// without fractions, sorts after it).
pub fn china_year_bounds(now: DateTime<Utc>) -> (String, String) {
    use chrono::Datelike as _;
    let year = zhicha_core::time::china_date(now).year();
    let start = |y: i32| format!("{:04}-12-31T16:00:00", y - 1);
    (start(year), start(year + 1))
}

/// A task's team when its first officer has none known: the plan's unit.
pub fn task_team(officers: &[UserId], teams: &HashMap<UserId, OrgId>, plan_org: OrgId) -> OrgId {
    officers
        .first()
        .and_then(|u| teams.get(u))
        .copied()
        .unwrap_or(plan_org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_china_year_starts_at_four_pm_utc_on_new_years_eve() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 2026-12-31 17:00 UTC is already 2027 in China.
        let (from, to) = china_year_bounds(at("2026-12-31T17:00:00Z"));
        assert_eq!(from, "2026-12-31T16:00:00");
        assert_eq!(to, "2027-12-31T16:00:00");
        let (from, _) = china_year_bounds(at("2026-06-01T00:00:00Z"));
        assert!("2025-12-31T16:00:00.000Z" >= from.as_str());
        assert!("2025-12-31T15:59:59.999Z" < from.as_str());
    }
}
