//! `/plans`: the annual plans (年度执法检查计划) of the leaders and admins, with their 150号
//! figures, task counts and coverage; the draws (`draws`), the caps, 回避 and the 扫码入企 code
//! (`caps`). Wire types in core `plan::api`.
//!
//! Who sees a plan: a leader or admin whose scope holds the plan's unit, or who works under it
//! (a team leader sees the bureau's plan). Everything is decided from the stored plan.

pub mod caps;
pub mod draws;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::Utc;
use zhicha_core::ids::{EnterpriseId, OrgId, PlanId};
use zhicha_core::model::{Enterprise, OrgUnit, Role};
use zhicha_core::org::{ancestors, subtree};
use zhicha_core::plan::api::{
    CapTable, CapWarning, Coverage, CoverageRow, NewPlan, PlanDetail, PlanList, PlanSummary,
};
use zhicha_core::plan::{self, Plan, Task, default_caps};
use zhicha_core::time::china_date;
use zhicha_core::validation::FieldError;

use crate::auth::{Scope, Session};
use crate::extract::{Json, Path};
use crate::{ApiError, AppState, Store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/{id}", get(detail))
        .route("/plans/{id}/draws", post(draws::make))
        .route("/draws/{id}", get(draws::record))
        .route("/draws/{id}/publication.csv", get(draws::publication))
        .route("/caps", get(caps::get_caps).put(caps::put_caps))
        .route("/conflicts", get(caps::list_conflicts).post(caps::declare))
        .route("/enterprises/{id}/code.svg", get(caps::code_svg))
}

/// 403 unless a leader or an admin: plans and draws are theirs.
fn require_planner(session: &Session) -> Result<(), ApiError> {
    session
        .require_role(&[Role::Leader, Role::Admin])
        .map_err(|_| ApiError::Forbidden("仅队长/科室负责人或管理员可管理检查计划".to_owned()))
}

/// The first of core's field errors as the one error body.
fn validation(errors: Vec<FieldError>) -> ApiError {
    match errors.into_iter().next() {
        Some(e) => ApiError::BadRequest {
            code: "validation",
            message: e.message,
            field: Some(e.field),
        },
        None => ApiError::bad_request("validation", "内容不完整"),
    }
}

/// Whether the caller may see the plans of `org`: in their scope, or a unit above them.
fn may_view(session: &Session, org: OrgId) -> bool {
    session.scope.contains(org) || ancestors(session.user.org_id, &session.orgs).contains(&org)
}

/// A plan the caller may see, else 404 (another bureau's plan is not revealed).
async fn visible_plan(state: &AppState, session: &Session, id: &str) -> Result<Plan, ApiError> {
    require_planner(session)?;
    let id: PlanId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "计划编号无效"))?;
    match state.store.plan(id).await? {
        Some(plan) if may_view(session, plan.org_id) => Ok(plan),
        _ => Err(ApiError::NotFound),
    }
}

/// The units whose directory a plan of `org` draws from: its subtree and the units above it
/// (as a leader of `org` sees the directory).
fn plan_directory(org: OrgId, orgs: &[OrgUnit]) -> Vec<String> {
    let mut all: BTreeSet<OrgId> = subtree(org, orgs);
    all.extend(ancestors(org, orgs));
    all.iter().map(ToString::to_string).collect()
}

/// The directory a plan of `org` draws from, without entries merged into another.
async fn plan_enterprises(
    store: &Store,
    org: OrgId,
    orgs: &[OrgUnit],
) -> Result<Vec<Enterprise>, ApiError> {
    let ids = plan_directory(org, orgs);
    let all = store.enterprises_in(Some(&ids)).await?;
    Ok(all
        .into_iter()
        .filter(|e| e.merged_into.is_none())
        .collect())
}

/// A 重点 enterprise of the directory: an entry made on site counts only once an admin marks
/// it in the directory (a phone's own entry cannot make itself 重点).
fn is_key(enterprise: &Enterprise) -> bool {
    enterprise.key && !enterprise.ad_hoc
}

/// The caps in force for `org`: those of the nearest unit (itself or above) that edited its
/// caps, else the defaults.
pub(crate) async fn caps_for(
    store: &Store,
    org: OrgId,
    orgs: &[OrgUnit],
) -> Result<CapTable, ApiError> {
    Ok(match store.caps_in_force(&ancestors(org, orgs)).await? {
        Some((_, rules)) => CapTable {
            rules,
            edited: true,
        },
        None => CapTable {
            rules: default_caps(),
            edited: false,
        },
    })
}

/// (tasks, done, overdue) of `tasks` on `today`.
fn counts<'a>(tasks: impl IntoIterator<Item = &'a Task>, today: chrono::NaiveDate) -> [u32; 3] {
    let mut n = [0u32; 3];
    for task in tasks {
        n[0] += 1;
        n[1] += u32::from(task.is_done());
        n[2] += u32::from(task.is_overdue(today));
    }
    n
}

/// The plans the caller may see, each with its figures and task counts.
#[utoipa::path(
    get,
    path = "/api/v1/plans",
    tag = "plans",
    security(("bearer" = [])),
    responses(
        (status = 200, body = PlanList),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<PlanList>, ApiError> {
    require_planner(&session)?;
    let plans = match &session.scope {
        Scope::All => state.store.plans_of(None).await?,
        Scope::Orgs(own) => {
            let mut orgs = own.clone();
            orgs.extend(ancestors(session.user.org_id, &session.orgs));
            let orgs: Vec<OrgId> = orgs.into_iter().collect();
            state.store.plans_of(Some(&orgs)).await?
        }
    };
    let ids: Vec<PlanId> = plans.iter().map(|p| p.id).collect();
    let tasks = state.store.tasks_of_plans(&ids).await?;
    let today = china_date(Utc::now());
    let mut keys: HashMap<OrgId, u32> = HashMap::new();
    let mut summaries = Vec::with_capacity(plans.len());
    for plan in plans {
        let key = match keys.get(&plan.org_id) {
            Some(n) => *n,
            None => {
                let directory = plan_enterprises(&state.store, plan.org_id, &session.orgs).await?;
                let n = u32::try_from(directory.iter().filter(|e| is_key(e)).count())
                    .unwrap_or(u32::MAX);
                keys.insert(plan.org_id, n);
                n
            }
        };
        let [n, done, overdue] = counts(tasks.iter().filter(|t| t.plan_id == plan.id), today);
        summaries.push(PlanSummary {
            figures: plan::figures(&plan.staffing, key, plan.min_random_pct),
            plan,
            tasks: n,
            done,
            overdue,
        });
    }
    Ok(Json(PlanList { plans: summaries }))
}

/// Makes a plan for the caller's own unit.
#[utoipa::path(
    post,
    path = "/api/v1/plans",
    tag = "plans",
    security(("bearer" = [])),
    request_body = NewPlan,
    responses(
        (status = 201, body = Plan),
        (status = 400, description = "a field fails the plan's rules", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Json(new): Json<NewPlan>,
) -> Result<(StatusCode, Json<Plan>), ApiError> {
    require_planner(&session)?;
    let plan = Plan {
        id: PlanId::new(),
        org_id: session.user.org_id,
        year: new.year,
        title: new.title.trim().to_owned(),
        campaign: new.campaign.trim().to_owned(),
        staffing: new.staffing,
        min_random_pct: new.min_random_pct,
        approval: new.approval,
        created_by: session.user.id,
        created_at: Utc::now(),
    };
    plan::validate_plan(&plan).map_err(validation)?;
    state.store.insert_plan(&plan).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

/// A plan with its figures, draws, tasks and coverage.
#[utoipa::path(
    get,
    path = "/api/v1/plans/{id}",
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the plan's id")),
    responses(
        (status = 200, body = PlanDetail),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such plan in the caller's view", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<PlanDetail>, ApiError> {
    let plan = visible_plan(&state, &session, &id).await?;
    let draws = state.store.draws_of_plan(plan.id).await?;
    let tasks = state.store.tasks_of_plans(&[plan.id]).await?;
    let directory = plan_enterprises(&state.store, plan.org_id, &session.orgs).await?;
    let key = u32::try_from(directory.iter().filter(|e| is_key(e)).count()).unwrap_or(u32::MAX);
    let figures = plan::figures(&plan.staffing, key, plan.min_random_pct);
    let coverage = coverage(&state.store, &plan, &tasks, &directory, &session.orgs).await?;
    Ok(Json(PlanDetail {
        plan,
        figures,
        draws,
        tasks,
        coverage,
    }))
}

/// Planned against done by county × the enterprise's first sector × team, and the
/// enterprises of the plan's directory at or past their cap this year.
async fn coverage(
    store: &Store,
    plan: &Plan,
    tasks: &[Task],
    directory: &[Enterprise],
    orgs: &[OrgUnit],
) -> Result<Coverage, ApiError> {
    let now = Utc::now();
    let today = china_date(now);
    let by_id: HashMap<EnterpriseId, &Enterprise> = directory.iter().map(|e| (e.id, e)).collect();
    let team_name = |id: OrgId| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let mut cells: BTreeMap<(String, Option<&'static str>, String, OrgId), CoverageRow> =
        BTreeMap::new();
    for task in tasks {
        let enterprise = by_id.get(&task.enterprise_id);
        let county = enterprise.map(|e| e.county.clone()).unwrap_or_default();
        let sector = enterprise.and_then(|e| e.sectors.first().copied());
        let name = team_name(task.org_id);
        let row = cells
            .entry((
                county.clone(),
                sector.map(|s| s.label_zh()),
                name.clone(),
                task.org_id,
            ))
            .or_insert_with(|| CoverageRow {
                county,
                sector,
                team: task.org_id,
                team_name: name,
                planned: 0,
                done: 0,
                overdue: 0,
            });
        let [n, done, overdue] = counts([task], today);
        row.planned += n;
        row.done += done;
        row.overdue += overdue;
    }
    let [planned, done, overdue] = counts(tasks, today);
    let caps = caps_for(store, plan.org_id, orgs).await?;
    let ids = plan_directory(plan.org_id, orgs);
    let visits = store.visits_this_year(Some(&ids), now).await?;
    let over_cap = directory
        .iter()
        .filter_map(|e| {
            let cap = plan::cap_for(&caps.rules, e)?;
            let seen = visits.get(&e.id).copied().unwrap_or(0);
            (seen >= cap).then(|| CapWarning {
                enterprise_id: e.id,
                name: e.name.clone(),
                visits: seen,
                cap,
            })
        })
        .collect();
    Ok(Coverage {
        rows: cells.into_values().collect(),
        planned,
        done,
        overdue,
        over_cap,
    })
}
