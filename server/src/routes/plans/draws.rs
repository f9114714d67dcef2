//! `POST /plans/{id}/draws`: the 双随机 draw (core `plan::draw`) over the plan's directory and
//! its officers, stored for good with its tasks; `GET /draws/{id}` the record anyone can re-run
//! (`zhicha-server verify-draw`); `GET /draws/{id}/publication.csv` the list to publish (一公开).
//!
//! Every input is gathered here from stored records — the candidates, the officers, their 回避
//! and who inspected each candidate last — never from ids the request names.

use std::collections::{BTreeSet, HashMap};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use chrono::Utc;
use zhicha_core::ids::{DrawId, EnterpriseId, OrgId, TaskId, UserId};
use zhicha_core::ledger::percent_encode;
use zhicha_core::model::{Enterprise, Role};
use zhicha_core::org::subtree;
use zhicha_core::plan::Task;
use zhicha_core::plan::api::{DrawFilter, DrawRecord, DrawRequest, DrawnEnterprise, DrawnOfficer};
use zhicha_core::plan::draw::{self, Candidate, DrawInput, Exclusion, ExclusionKind};
use zhicha_core::time::minute;

use super::{is_key, plan_directory, plan_enterprises, visible_plan};
use crate::auth::Session;
use crate::db::plans::task_team;
use crate::extract::{Json, Path};
use crate::routes::ledger::csv_text;
use crate::{ApiError, AppState};

/// Officers per pick: 检查人员不少于两人.
const TEAM_SIZE: u32 = 2;

/// The longest seed taken from a leader.
const MAX_SEED_CHARS: usize = 200;

fn text(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Whether a directory entry is within a draw's filter.
fn matches(filter: &DrawFilter, e: &Enterprise) -> bool {
    text(filter.county.as_ref()).is_none_or(|c| e.county == c)
        && text(filter.township.as_ref()).is_none_or(|t| e.township == t)
        && filter.sector.is_none_or(|s| e.sectors.contains(&s))
        && filter.grade.is_none_or(|g| e.grade == Some(g))
}

/// 32 hex characters from the operating system's random source.
fn random_seed() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the OS random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Draws from the plan's directory and officers; stores the record and one task per pick.
#[utoipa::path(
    post,
    path = "/api/v1/plans/{id}/draws",
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the plan's id")),
    request_body = DrawRequest,
    responses(
        (status = 201, body = DrawRecord),
        (status = 400, description = "nothing to draw, more than there are, too few officers", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such plan in the caller's view", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn make(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(request): Json<DrawRequest>,
) -> Result<(StatusCode, Json<DrawRecord>), ApiError> {
    let plan = visible_plan(&state, &session, &id).await?;
    let seed = request.seed.trim();
    if seed.chars().count() > MAX_SEED_CHARS {
        return Err(ApiError::invalid_field(
            "seed",
            format!("随机种子不超过 {MAX_SEED_CHARS} 个字符"),
        ));
    }
    let seed = if seed.is_empty() {
        random_seed()?
    } else {
        seed.to_owned()
    };

    let directory = plan_enterprises(&state.store, plan.org_id, &session.orgs).await?;
    let mut in_filter: Vec<&Enterprise> = directory
        .iter()
        .filter(|e| matches(&request.filter, e))
        .collect();
    in_filter.sort_by_key(|e| e.id);
    let random = in_filter.iter().filter(|e| !is_key(e)).count();
    let keys = in_filter.len() - random;
    if request.count == 0 && !request.include_key {
        return Err(ApiError::invalid_field(
            "count",
            "请填写抽取的企业数量，或选择纳入重点企业",
        ));
    }
    if request.count as usize > random {
        return Err(ApiError::invalid_field(
            "count",
            format!(
                "抽取范围内符合条件的非重点企业只有 {random} 家，不能抽取 {} 家",
                request.count
            ),
        ));
    }
    if request.count == 0 && keys == 0 {
        return Err(ApiError::invalid_field(
            "include_key",
            "抽取范围内没有重点企业",
        ));
    }
    let candidates: Vec<&Enterprise> = in_filter
        .into_iter()
        .filter(|e| request.include_key || !is_key(e))
        .collect();

    // 执法人员库: inspectors holding a 执法证 in the plan's unit and below.
    let below = subtree(plan.org_id, &session.orgs);
    let mut officers: Vec<_> = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| {
            u.role == Role::Inspector
                && below.contains(&u.org_id)
                && u.certificate_no
                    .as_deref()
                    .is_some_and(|c| !c.trim().is_empty())
        })
        .collect();
    officers.sort_by_key(|u| u.id);
    if officers.len() < TEAM_SIZE as usize {
        return Err(ApiError::bad_request(
            "too_few_officers",
            format!("执法人员库不足 {TEAM_SIZE} 人：计划单位及其下属单位须有持执法证的检查人员"),
        ));
    }
    let officer_ids: BTreeSet<UserId> = officers.iter().map(|u| u.id).collect();
    let candidate_ids: BTreeSet<EnterpriseId> = candidates.iter().map(|e| e.id).collect();

    let ids: Vec<UserId> = officer_ids.iter().copied().collect();
    let mut exclusions: Vec<Exclusion> = state
        .store
        .conflicts_of(&ids)
        .await?
        .into_iter()
        .filter(|c| candidate_ids.contains(&c.enterprise_id))
        .map(|c| Exclusion {
            user_id: c.user_id,
            enterprise_id: c.enterprise_id,
            why: ExclusionKind::Conflict,
        })
        .collect();
    let directory_orgs: Vec<OrgId> = plan_directory(plan.org_id, &session.orgs)
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let last = state.store.last_inspectors(&directory_orgs).await?;
    for (enterprise, users) in last {
        if !candidate_ids.contains(&enterprise) {
            continue;
        }
        for user in users.into_iter().filter(|u| officer_ids.contains(u)) {
            exclusions.push(Exclusion {
                user_id: user,
                enterprise_id: enterprise,
                why: ExclusionKind::LastTime,
            });
        }
    }
    exclusions.sort_by_key(|x| (x.enterprise_id, x.user_id, x.why == ExclusionKind::LastTime));
    exclusions.dedup();

    let input = DrawInput {
        seed,
        candidates: candidates
            .iter()
            .map(|e| Candidate {
                enterprise_id: e.id,
                key: is_key(e),
            })
            .collect(),
        count: request.count,
        officers: ids,
        team_size: TEAM_SIZE,
        exclusions,
    };
    let result = draw::draw(&input);
    let record = DrawRecord {
        id: DrawId::new(),
        plan_id: plan.id,
        org_id: plan.org_id,
        no: 0,
        made_at: Utc::now(),
        made_by: session.user.display_name.clone(),
        filter: request.filter.describe_zh(),
        input_hash: draw::input_hash(&input),
        enterprises: candidates
            .iter()
            .map(|e| DrawnEnterprise {
                id: e.id,
                name: e.name.clone(),
                credit_code: e.credit_code.clone(),
                county: e.county.clone(),
            })
            .collect(),
        officers: officers
            .iter()
            .map(|u| DrawnOfficer {
                id: u.id,
                name: u.display_name.clone(),
                certificate_no: u.certificate_no.clone(),
            })
            .collect(),
        input,
        result,
    };
    let teams: HashMap<UserId, OrgId> = officers.iter().map(|u| (u.id, u.org_id)).collect();
    let tasks: Vec<Task> = record
        .result
        .picks
        .iter()
        .map(|pick| Task {
            id: TaskId::new(),
            plan_id: plan.id,
            draw_id: record.id,
            org_id: task_team(&pick.officers, &teams, plan.org_id),
            enterprise_id: pick.enterprise_id,
            officers: pick.officers.clone(),
            key: pick.key,
            due: request.due,
            campaign: plan.campaign.clone(),
            approval: plan.approval.clone(),
            inspection_id: None,
        })
        .collect();
    let record = state
        .store
        .insert_draw(record, session.user.id, &tasks)
        .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// A draw the caller may see (through its plan), else 404.
async fn visible_draw(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<DrawRecord, ApiError> {
    super::require_planner(session)?;
    let id: DrawId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "抽取编号无效"))?;
    let record = state.store.draw(id).await?.ok_or(ApiError::NotFound)?;
    visible_plan(state, session, &record.plan_id.to_string()).await?;
    Ok(record)
}

/// A draw as recorded: the JSON `zhicha-server verify-draw` re-runs.
#[utoipa::path(
    get,
    path = "/api/v1/draws/{id}",
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the draw's id")),
    responses(
        (status = 200, body = DrawRecord),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such draw in the caller's view", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<DrawRecord>, ApiError> {
    Ok(Json(visible_draw(&state, &session, &id).await?))
}

/// The draw's list for publication (一公开): UTF-8 CSV with a BOM (Excel reads it as UTF-8).
#[utoipa::path(
    get,
    path = "/api/v1/draws/{id}/publication.csv",
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the draw's id")),
    responses(
        (status = 200, content_type = "text/csv", description = "the publication list"),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such draw in the caller's view", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn publication(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = visible_draw(&state, &session, &id).await?;
    let title = state
        .store
        .plan(record.plan_id)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let bytes = publication_csv(&title, &record)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("writing the CSV")))?;
    let name = format!("双随机抽取结果-第{}号.csv", record.no);
    let disposition = format!(
        "attachment; filename=\"draw-{}.csv\"; filename*=UTF-8''{}",
        record.no,
        percent_encode(&name)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The publication: what was drawn from and how (so anyone can re-run it), then one row per
/// pick with its officers. A cell a spreadsheet would take for a formula gets a leading `'`,
/// as in the ledger export (the JSON record stays the authority for the seed).
pub fn publication_csv(title: &str, record: &DrawRecord) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::from("\u{feff}".as_bytes()));
    let made_at = minute(record.made_at);
    let candidates = record.input.candidates.len().to_string();
    let officers = record.input.officers.len().to_string();
    for (label, value) in [
        ("检查计划", title),
        ("抽取编号", &format!("第 {} 号", record.no)),
        ("抽取时间", &made_at),
        ("抽取人", &record.made_by),
        ("抽取范围", &record.filter),
        ("备选单位数", &candidates),
        ("执法人员库人数", &officers),
        ("随机种子", &record.input.seed),
        ("输入摘要（SHA-256）", &record.input_hash),
    ] {
        out.write_record([label, &csv_text(value)])?;
    }
    out.write_record([""])?;
    out.write_record([
        "序号",
        "单位名称",
        "统一社会信用代码",
        "旗县",
        "类别",
        "执法人员",
    ])?;
    let enterprises: HashMap<EnterpriseId, &DrawnEnterprise> =
        record.enterprises.iter().map(|e| (e.id, e)).collect();
    let officers: HashMap<UserId, &DrawnOfficer> =
        record.officers.iter().map(|o| (o.id, o)).collect();
    for (n, pick) in record.result.picks.iter().enumerate() {
        let enterprise = enterprises.get(&pick.enterprise_id);
        let people: Vec<String> = pick
            .officers
            .iter()
            .map(|id| match officers.get(id) {
                Some(o) => match o.certificate_no.as_deref() {
                    Some(cert) if !cert.is_empty() => format!("{}（{cert}）", o.name),
                    _ => o.name.clone(),
                },
                None => id.to_string(),
            })
            .collect();
        let mut people = people.join("、");
        if record.result.short_staffed.contains(&pick.enterprise_id) {
            people.push_str("（人员不足，须另行指派）");
        }
        out.write_record([
            (n + 1).to_string(),
            csv_text(&enterprise.map(|e| e.name.clone()).unwrap_or_default()).into_owned(),
            csv_text(
                &enterprise
                    .and_then(|e| e.credit_code.clone())
                    .unwrap_or_default(),
            )
            .into_owned(),
            csv_text(&enterprise.map(|e| e.county.clone()).unwrap_or_default()).into_owned(),
            if pick.key { "重点" } else { "随机" }.to_owned(),
            csv_text(&people).into_owned(),
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}
