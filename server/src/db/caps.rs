//! The yearly caps a bureau edited and the declared 回避, as stored (migration 0013). Which
//! unit's caps are in force for whom is the routes' question; this module answers for a chain
//! of units, nearest first.

use sqlx::AssertSqlSafe;
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::Sector;
use zhicha_core::plan::{CapRule, Conflict, Grade};
use zhicha_core::wire::WireName as _;

use super::plans::in_list;
use super::users::parse_id;
use super::{Store, now};

impl Store {
    /// The caps stored for the first of `chain` (nearest first) that has any: its org and
    /// rules. None: no unit of the chain edited its caps.
    pub async fn caps_in_force(
        &self,
        chain: &[OrgId],
    ) -> Result<Option<(OrgId, Vec<CapRule>)>, sqlx::Error> {
        if chain.is_empty() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT org_id FROM cap_tables WHERE {}",
            in_list("org_id", 1, chain.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for org in chain {
            query = query.bind(org.to_string());
        }
        let edited: Vec<String> = query.fetch_all(&self.pool).await?;
        let Some(org) = chain.iter().find(|o| edited.contains(&o.to_string())) else {
            return Ok(None);
        };
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT sector, grade, per_year FROM caps WHERE org_id = $1 ORDER BY sector, grade",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut rules = Vec::with_capacity(rows.len());
        for (sector, grade, per_year) in rows {
            let bad = || sqlx::Error::Decode(format!("bad cap {sector}/{grade}").into());
            rules.push(CapRule {
                sector: Sector::from_wire(&sector).ok_or_else(bad)?,
                grade: Grade::from_wire(&grade).ok_or_else(bad)?,
                per_year: u32::try_from(per_year).unwrap_or(0),
            });
        }
        Ok(Some((*org, rules)))
    }

    /// Replaces the caps of `org` (validated by the caller).
    pub async fn put_caps(
        &self,
        org: OrgId,
        rules: &[CapRule],
        by: UserId,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO cap_tables (org_id, updated_by, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(by.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM caps WHERE org_id = $1")
            .bind(org.to_string())
            .execute(&mut *tx)
            .await?;
        for rule in rules {
            sqlx::query(
                "INSERT INTO caps (org_id, sector, grade, per_year) VALUES ($1, $2, $3, $4)",
            )
            .bind(org.to_string())
            .bind(rule.sector.wire_name())
            .bind(rule.grade.wire_name())
            .bind(i64::from(rule.per_year))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Declares (or restates) a 回避.
    pub async fn put_conflict(&self, conflict: &Conflict, by: UserId) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO conflicts (user_id, enterprise_id, reason, declared_by, declared_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, enterprise_id) DO UPDATE SET \
             reason = excluded.reason, declared_by = excluded.declared_by, \
             declared_at = excluded.declared_at",
        )
        .bind(conflict.user_id.to_string())
        .bind(conflict.enterprise_id.to_string())
        .bind(&conflict.reason)
        .bind(by.to_string())
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The 回避 declared by any of `users`.
    pub async fn conflicts_of(&self, users: &[UserId]) -> Result<Vec<Conflict>, sqlx::Error> {
        let mut out = Vec::new();
        for chunk in users.chunks(500) {
            let sql = format!(
                "SELECT user_id, enterprise_id, reason FROM conflicts WHERE {} \
                 ORDER BY declared_at, user_id",
                in_list("user_id", 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(sql));
            for user in chunk {
                query = query.bind(user.to_string());
            }
            for (user, enterprise, reason) in query.fetch_all(&self.pool).await? {
                out.push(Conflict {
                    user_id: parse_id(&user)?,
                    enterprise_id: parse_id(&enterprise)?,
                    reason,
                });
            }
        }
        Ok(out)
    }
}
