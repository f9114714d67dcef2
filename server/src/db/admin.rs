//! What the web admin reads and writes beyond the operator's commands (`routes::admin`): every
//! account with its state, org unit edits, the directory written in one transaction, and the
//! merge of an enterprise added on site into a directory entry.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::admin::{AdminUser, MergeResponse};
use zhicha_core::ids::{DeviceId, EnterpriseId, OrgId, UserId};
use zhicha_core::model::{Enterprise, Finding, Inspection, OrgUnit};
use zhicha_core::protocol::EntityKind;
use zhicha_core::wire::WireName;

use super::sync::{ChangeRow, EventFacts, Tx, append_changes};
use super::users::{UserRow, parse_id};
use super::{Backend, Store, ledger_columns, now};
use crate::scope::Scope;

#[derive(FromRow)]
struct AdminUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    active: i64,
    superuser: i64,
}

impl AdminUserRow {
    fn into_user(self) -> Result<AdminUser, sqlx::Error> {
        let user = self.user.into_user()?;
        Ok(AdminUser {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            org_id: user.org_id,
            certificate_no: user.certificate_no,
            active: self.active != 0,
            superuser: self.superuser != 0,
        })
    }
}

const ADMIN_USER_COLUMNS: &str = "id, username, display_name, role, org_id, certificate_no, \
     CAST(active AS BIGINT) AS active, CAST(superuser AS BIGINT) AS superuser";

/// Why a merge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRefusal {
    /// No such enterprise, or not in the admin's bureau.
    SourceNotFound,
    TargetNotFound,
    /// The target is outside the admin's bureau.
    TargetForbidden,
    /// The request is not a merge that can be made; the message says why.
    Invalid(&'static str),
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

#[derive(FromRow)]
struct RecordRow {
    id: String,
    rev: i64,
    data: String,
}

/// Keeps the version a merge replaced, as a push keeps the versions it replaces.
async fn keep_revision(
    tx: &mut Tx,
    entity: EntityKind,
    row: &RecordRow,
    by: UserId,
    device: DeviceId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revisions (entity, entity_id, rev, data, replaced_by, reason, created_at, \
         device_id, conflict) VALUES ($1, $2, $3, $4, $5, 'merge', $6, $7, 0)",
    )
    .bind(entity.wire_name())
    .bind(&row.id)
    .bind(row.rev)
    .bind(&row.data)
    .bind(by.to_string())
    .bind(now())
    .bind(device.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Every account, disabled ones included.
    pub async fn admin_users(&self) -> Result<Vec<AdminUser>, sqlx::Error> {
        sqlx::query_as::<_, AdminUserRow>(AssertSqlSafe(format!(
            "SELECT {ADMIN_USER_COLUMNS} FROM users ORDER BY username"
        )))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(AdminUserRow::into_user)
        .collect()
    }

    pub async fn admin_user(&self, id: UserId) -> Result<Option<AdminUser>, sqlx::Error> {
        sqlx::query_as::<_, AdminUserRow>(AssertSqlSafe(format!(
            "SELECT {ADMIN_USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.writer)
        .await?
        .map(AdminUserRow::into_user)
        .transpose()
    }

    /// Writes an account's name, role, org unit and 执法证号 (not its state or password).
    pub async fn update_user(&self, user: &AdminUser) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE users SET display_name = $1, role = $2, org_id = $3, certificate_no = $4 \
             WHERE id = $5",
        )
        .bind(&user.display_name)
        .bind(user.role.wire_name())
        .bind(user.org_id.to_string())
        .bind(user.certificate_no.clone())
        .bind(user.id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Writes an org unit's name, document code, region, 行政复议机关 and court; `Ok(false)` for an
    /// unknown one.
    pub async fn update_org(&self, org: &OrgUnit) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE org_units SET name = $1, doc_code = $2, region = $3, review_authority = $4, \
             court = $5 WHERE id = $6",
        )
        .bind(&org.name)
        .bind(&org.doc_code)
        .bind(&org.region)
        .bind(&org.review_authority)
        .bind(&org.court)
        .bind(org.id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One enterprise as stored.
    pub async fn enterprise(&self, id: EnterpriseId) -> Result<Option<Enterprise>, sqlx::Error> {
        let data: Option<String> = sqlx::query_scalar("SELECT data FROM enterprises WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        data.as_deref().map(decode).transpose()
    }

    /// Every 统一社会信用代码 in the directory, with its entry and that entry's org unit.
    pub async fn credit_codes(
        &self,
    ) -> Result<HashMap<String, (EnterpriseId, OrgId)>, sqlx::Error> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT credit_code, id, org_id FROM enterprises WHERE credit_code IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(code, id, org)| Ok((code, (parse_id(&id)?, parse_id(&org)?))))
            .collect()
    }

    /// Inserts or replaces directory entries in one transaction, logging each change so devices
    /// pull them; the number written.
    pub async fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let mut changes = Vec::with_capacity(enterprises.len());
        for enterprise in enterprises {
            let rev: i64 = sqlx::query_scalar(
                "INSERT INTO enterprises (id, org_id, name, credit_code, township, rev, data, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name, \
                 credit_code = excluded.credit_code, township = excluded.township, \
                 rev = enterprises.rev + 1, data = excluded.data, updated_at = excluded.updated_at \
                 RETURNING rev",
            )
            .bind(enterprise.id.to_string())
            .bind(enterprise.org_id.to_string())
            .bind(&enterprise.name)
            .bind(enterprise.credit_code.clone())
            .bind(&enterprise.township)
            .bind(encode(enterprise)?)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
            ledger_columns::refresh_enterprise(&mut tx, enterprise).await?;
            changes.push(ChangeRow {
                entity: EntityKind::Enterprise,
                id: enterprise.id.0,
                org_id: enterprise.org_id,
                rev,
                detail: None,
                event: EventFacts::stored(&encode(enterprise)?).written("import", None),
            });
        }
        append_changes(&mut tx, self.backend, &changes).await?;
        tx.commit().await?;
        Ok(enterprises.len() as u64)
    }

    /// Merges `source`, an enterprise added on site, into the directory entry `target`, both
    /// within `scope`, in one transaction: every inspection and finding naming the source names
    /// the target (a new rev, the old version kept with reason `merge`, a change-log row each,
    /// the ledger columns refreshed) and the source is marked `merged_into` the target.
    pub async fn merge_enterprise(
        &self,
        source: EnterpriseId,
        target: EnterpriseId,
        scope: &Scope,
        by: UserId,
        device: DeviceId,
    ) -> Result<Result<MergeResponse, MergeRefusal>, sqlx::Error> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let mut tx = self.writer.begin().await?;
        let load = |id: EnterpriseId| {
            sqlx::query_as::<_, RecordRow>(AssertSqlSafe(format!(
                "SELECT id, rev, data FROM enterprises WHERE id = $1{lock}"
            )))
            .bind(id.to_string())
        };
        let Some(source_row) = load(source).fetch_optional(&mut *tx).await? else {
            return Ok(Err(MergeRefusal::SourceNotFound));
        };
        let mut from: Enterprise = decode(&source_row.data)?;
        if !scope.contains(from.org_id) {
            return Ok(Err(MergeRefusal::SourceNotFound));
        }
        if !from.ad_hoc {
            return Ok(Err(MergeRefusal::Invalid(
                "只有现场新建的企业可以合并到名录",
            )));
        }
        if from.merged_into.is_some() {
            return Ok(Err(MergeRefusal::Invalid("该企业已合并到名录")));
        }
        if source == target {
            return Ok(Err(MergeRefusal::Invalid("不能合并到企业自身")));
        }
        let Some(target_row) = load(target).fetch_optional(&mut *tx).await? else {
            return Ok(Err(MergeRefusal::TargetNotFound));
        };
        let into: Enterprise = decode(&target_row.data)?;
        if !scope.contains(into.org_id) {
            return Ok(Err(MergeRefusal::TargetForbidden));
        }
        if into.ad_hoc || into.merged_into.is_some() {
            return Ok(Err(MergeRefusal::Invalid(
                "只能合并到名录中的企业，不能合并到现场新建或已合并的企业",
            )));
        }
        let stamp = now();
        let mut changes = Vec::new();

        let inspections = sqlx::query_as::<_, RecordRow>(AssertSqlSafe(format!(
            "SELECT id, rev, data FROM inspections WHERE enterprise_id = $1{lock}"
        )))
        .bind(source.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut moved: HashMap<String, Inspection> = HashMap::new();
        for row in &inspections {
            let mut inspection: Inspection = decode(&row.data)?;
            inspection.enterprise_id = target;
            keep_revision(&mut tx, EntityKind::Inspection, row, by, device).await?;
            sqlx::query(
                "UPDATE inspections SET enterprise_id = $1, rev = $2, data = $3, updated_at = $4 \
                 WHERE id = $5",
            )
            .bind(target.to_string())
            .bind(row.rev + 1)
            .bind(encode(&inspection)?)
            .bind(&stamp)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
            changes.push(ChangeRow {
                entity: EntityKind::Inspection,
                id: inspection.id.0,
                org_id: inspection.org_id,
                rev: row.rev + 1,
                detail: None,
                event: EventFacts::stored(&encode(&inspection)?)
                    .written("merge", Some(by.to_string())),
            });
            moved.insert(row.id.clone(), inspection);
        }

        let findings = sqlx::query_as::<_, RecordRow>(AssertSqlSafe(format!(
            "SELECT id, rev, data FROM findings WHERE enterprise_id = $1{lock}"
        )))
        .bind(source.to_string())
        .fetch_all(&mut *tx)
        .await?;
        for row in &findings {
            let mut finding: Finding = decode(&row.data)?;
            finding.enterprise_id = target;
            keep_revision(&mut tx, EntityKind::Finding, row, by, device).await?;
            sqlx::query("UPDATE findings SET rev = $1, data = $2, updated_at = $3 WHERE id = $4")
                .bind(row.rev + 1)
                .bind(encode(&finding)?)
                .bind(&stamp)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            let inspection_id = finding.inspection_id.to_string();
            let inspection = match moved.get(&inspection_id) {
                Some(inspection) => Some(inspection.clone()),
                None => {
                    let data: Option<String> =
                        sqlx::query_scalar("SELECT data FROM inspections WHERE id = $1")
                            .bind(&inspection_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    data.as_deref().map(decode::<Inspection>).transpose()?
                }
            };
            match inspection {
                Some(inspection) => {
                    ledger_columns::set_finding_context(&mut tx, &finding, &inspection).await?;
                }
                None => {
                    sqlx::query(
                        "UPDATE findings SET enterprise_id = $1, enterprise_name = $2, \
                         county = $3, township = $4 WHERE id = $5",
                    )
                    .bind(target.to_string())
                    .bind(&into.name)
                    .bind(&into.county)
                    .bind(&into.township)
                    .bind(&row.id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            changes.push(ChangeRow {
                entity: EntityKind::Finding,
                id: finding.id.0,
                org_id: finding.org_id,
                rev: row.rev + 1,
                detail: None,
                event: EventFacts::stored(&encode(&finding)?)
                    .written("merge", Some(by.to_string())),
            });
        }

        from.merged_into = Some(target);
        keep_revision(&mut tx, EntityKind::Enterprise, &source_row, by, device).await?;
        sqlx::query("UPDATE enterprises SET rev = $1, data = $2, updated_at = $3 WHERE id = $4")
            .bind(source_row.rev + 1)
            .bind(encode(&from)?)
            .bind(&stamp)
            .bind(&source_row.id)
            .execute(&mut *tx)
            .await?;
        changes.push(ChangeRow {
            entity: EntityKind::Enterprise,
            id: from.id.0,
            org_id: from.org_id,
            rev: source_row.rev + 1,
            detail: None,
            event: EventFacts::stored(&encode(&from)?).written("merge", Some(by.to_string())),
        });
        append_changes(&mut tx, self.backend, &changes).await?;
        tx.commit().await?;
        Ok(Ok(MergeResponse {
            inspections: inspections.len() as u64,
            findings: findings.len() as u64,
        }))
    }
}

/// Whether a write failed on a unique constraint (another writer got there first).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    super::is_unique_violation(error)
}
