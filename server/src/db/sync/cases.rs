//! Cases pushed from a device (core `case`): a 预立案 saved (`case.save`) and the acts that move
//! it (`case.act`), written at once like enterprises (see `batch`).
//!
//! Authorised against the records as stored: a new case takes its team and enterprise from its
//! stored inspection, and its findings must be that inspection's; an existing case keeps its
//! team, and the server's parts (stage, number, history) are never taken from a phone. A 立案
//! takes the next number of its numbering unit (`org::numbering_authority`) and year, counted
//! in `case_numbers` inside the approving transaction.

use chrono::{Datelike, Utc};
use zhicha_core::case::{self, Actor, Case, CaseAct, Stage};
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::Role;
use zhicha_core::protocol::{EntityKind, Mutation};
use zhicha_core::wire::WireName;

use super::apply::check_new_photos;
use super::batch::Batch;
use super::{Applied, Author, ChangeRow, EventFacts, Rejection, Tx, from_json, reject, to_json};
use crate::db::now;

/// A case as stored, with its rev, read with the author's row lock.
async fn stored(tx: &mut Tx, id: &str, lock: &str) -> Result<Option<(i64, Case)>, sqlx::Error> {
    let sql = format!("SELECT rev, data FROM cases WHERE id = $1{lock}");
    let row: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|(rev, data)| Ok((rev, from_json(&data)?)))
        .transpose()
}

/// Who may work on a case of `org`: its team's inspectors; leaders (and admins) whose scope
/// holds it.
fn may_handle(author: &Author<'_>, org: zhicha_core::ids::OrgId) -> bool {
    match author.user.role {
        Role::Inspector => author.user.org_id == org,
        Role::Leader | Role::Admin => author.scope.contains(org),
    }
}

fn forbidden() -> Rejection {
    reject("forbidden", "该案件不属于您的检查组或管辖范围")
}

fn signatures(case: &Case) -> Vec<(&'static str, &PhotoHash)> {
    case.interviews
        .iter()
        .filter_map(|i| i.signature.as_ref())
        .map(|hash| ("interviews", hash))
        .collect()
}

/// The officers a case names must be accounts of the bureau its team belongs to.
async fn check_officers(
    tx: &mut Tx,
    author: &Author<'_>,
    case: &Case,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let chain = zhicha_core::org::ancestors(case.org_id, author.orgs);
    let Some(bureau) = chain.last() else {
        return Ok(Err(forbidden()));
    };
    let units = zhicha_core::org::subtree(*bureau, author.orgs);
    for officer in &case.officers {
        let org: Option<String> = sqlx::query_scalar("SELECT org_id FROM users WHERE id = $1")
            .bind(officer.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        let ours = org
            .and_then(|o| o.parse().ok())
            .is_some_and(|o| units.contains(&o));
        if !ours {
            return Ok(Err(
                reject("invalid", "办案人员须为本局执法人员").with_field("officers")
            ));
        }
    }
    Ok(Ok(()))
}

pub(super) async fn save(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mut case: Case,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = case.id.to_string();
    let old = stored(tx, &id, author.row_lock).await?;
    match &old {
        Some((_, old)) => {
            if !may_handle(author, old.org_id) {
                return Ok(Err(forbidden()));
            }
            if old.state.stage() != Stage::PreFiled {
                return Ok(Err(reject(
                    "invalid_transition",
                    "案件已审批，不能再修改预立案内容；后续请按办案环节办理",
                )));
            }
            // What the server keeps is the stored case's.
            case.org_id = old.org_id;
            case.enterprise_id = old.enterprise_id;
            case.inspection_id = old.inspection_id;
            case.created_by = old.created_by;
            case.created_at = old.created_at;
            case.state = old.state.clone();
            case.history = old.history.clone();
            case.proposal = old.proposal.clone();
            case.decision = old.decision.clone();
            case.delivery = old.delivery.clone();
            case.preserved = old.preserved.clone();
        }
        None => {
            // A case from the field comes from an inspection the author may write.
            let Some(inspection_id) = case.inspection_id else {
                return Ok(Err(
                    reject("invalid", "预立案须来自一次检查").with_field("inspection_id")
                ));
            };
            let Some((_, inspection)) =
                batch.inspection(tx, &inspection_id.to_string(), "").await?
            else {
                return Ok(Err(reject("not_found", "案件所属检查尚未同步到服务器")));
            };
            if !may_handle(author, inspection.org_id) {
                return Ok(Err(forbidden()));
            }
            case.org_id = inspection.org_id;
            case.enterprise_id = inspection.enterprise_id;
            case.created_by = author.user.id;
            case.state = case::CaseState::pre_filed();
            case.history = Vec::new();
            case.proposal = String::new();
            case.decision = None;
            case.delivery = None;
            case.preserved = Vec::new();
        }
    }
    for finding in &case.finding_ids {
        let belongs = match batch.finding(tx, &finding.to_string(), "").await? {
            Some((_, f)) => Some(f.finding.inspection_id) == case.inspection_id,
            None => false,
        };
        if !belongs {
            return Ok(Err(
                reject("invalid", "案件所列隐患不属于该次检查").with_field("finding_ids")
            ));
        }
    }
    if let Err((field, message)) = case::validate_pre_filing(&case) {
        return Ok(Err(reject("invalid", message).with_field(field)));
    }
    if let Err(error) = check_officers(tx, author, &case).await? {
        return Ok(Err(error));
    }
    let known: Vec<&PhotoHash> = old
        .as_ref()
        .map(|(_, o)| signatures(o).into_iter().map(|(_, h)| h).collect())
        .unwrap_or_default();
    if let Err(error) = check_new_photos(tx, batch, author, signatures(&case), &known).await? {
        return Ok(Err(error));
    }
    let rev = match &old {
        None => 1,
        Some((rev, o)) => {
            batch.keep_revision(EntityKind::Case, &id, *rev, o, "edit", false)?;
            rev + 1
        }
    };
    write(tx, &case, rev, old.is_none(), None).await?;
    Ok(Ok(applied(&case, rev)?))
}

pub(super) async fn act(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mutation: &Mutation,
    act: CaseAct,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = mutation.entity_id.to_string();
    let Some((rev, old)) = stored(tx, &id, author.row_lock).await? else {
        return Ok(Err(reject("not_found", "案件尚未同步到服务器")));
    };
    if !may_handle(author, old.org_id) {
        return Ok(Err(forbidden()));
    }
    let actor = Actor {
        id: author.user.id,
        name: author.user.display_name.clone(),
        role: author.user.role,
    };
    // The number is taken only for an approval the rules accept: checked first without it.
    let approving = matches!(act, CaseAct::ApproveFiling { .. });
    let (number, numbered) = if approving {
        if let Err(refusal) = case::act(&old, &act, &actor, "待编号", Utc::now()) {
            return Ok(Err(reject("invalid_transition", refusal.0)));
        }
        let Some(authority) = zhicha_core::org::numbering_authority(old.org_id, author.orgs) else {
            return Ok(Err(reject(
                "invalid",
                "本单位及上级单位均未设置文书简称，无法给案件编号；请管理员在单位设置中填写",
            )));
        };
        let year = act.day().map_or_else(|| Utc::now().year(), |d| d.year());
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO case_numbers (org_id, year, last) VALUES ($1, $2, 1) \
             ON CONFLICT (org_id, year) DO UPDATE SET last = case_numbers.last + 1 \
             RETURNING last",
        )
        .bind(authority.id.to_string())
        .bind(i64::from(year))
        .fetch_one(&mut **tx)
        .await?;
        let seq = u32::try_from(seq).unwrap_or(u32::MAX);
        (
            case::case_number(authority.doc_code.trim(), year, seq),
            Some((authority.id.to_string(), year, seq)),
        )
    } else {
        (String::new(), None)
    };
    let case = match case::act(&old, &act, &actor, &number, Utc::now()) {
        Ok(case) => case,
        Err(refusal) => return Ok(Err(reject("invalid_transition", refusal.0))),
    };
    batch.keep_revision(EntityKind::Case, &id, rev, &old, "act", false)?;
    write(tx, &case, rev + 1, false, numbered).await?;
    Ok(Ok(applied(&case, rev + 1)?))
}

/// Writes the case's row; `numbered`: the number's unit, year and M, at 立案.
async fn write(
    tx: &mut Tx,
    case: &Case,
    rev: i64,
    new: bool,
    numbered: Option<(String, i32, u32)>,
) -> Result<(), sqlx::Error> {
    let data = to_json(case)?;
    let stage = case.state.stage().wire_name();
    let at = now();
    if new {
        sqlx::query(
            "INSERT INTO cases (id, org_id, enterprise_id, inspection_id, stage, rev, data, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(case.id.to_string())
        .bind(case.org_id.to_string())
        .bind(case.enterprise_id.to_string())
        .bind(case.inspection_id.map(|i| i.to_string()))
        .bind(stage)
        .bind(rev)
        .bind(&data)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
        return Ok(());
    }
    let query = match &numbered {
        Some(_) => {
            "UPDATE cases SET stage = $2, rev = $3, data = $4, updated_at = $5, number = $6, \
             number_org = $7, number_year = $8, number_seq = $9 WHERE id = $1"
        }
        None => "UPDATE cases SET stage = $2, rev = $3, data = $4, updated_at = $5 WHERE id = $1",
    };
    let mut query = sqlx::query(query)
        .bind(case.id.to_string())
        .bind(stage)
        .bind(rev)
        .bind(&data)
        .bind(&at);
    if let Some((org, year, seq)) = numbered {
        query = query
            .bind(case.state.number.clone())
            .bind(org)
            .bind(i64::from(year))
            .bind(i64::from(seq));
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

fn applied(case: &Case, rev: i64) -> Result<Applied, sqlx::Error> {
    Ok(Applied {
        rev,
        changes: vec![ChangeRow {
            entity: EntityKind::Case,
            id: case.id.0,
            org_id: case.org_id,
            rev,
            detail: None,
            event: EventFacts::stored(&to_json(case)?),
        }],
    })
}
