//! 隐患发现率、立案率、处罚率 per team, and cases and penalties per officer: over the inspections
//! of the statistics' filters (`inspections_where`), the findings of those inspections matching
//! every filter, and the cases (`cases`) made from those inspections.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::case::Case;
use zhicha_core::ledger::TeamRates;

use super::{Filters, Where, decode_json, inspections_where, parse_id, placeholders};
use crate::db::Store;

/// The rates of [`Store::rates`].
pub(super) struct Rates {
    /// By team name.
    pub by_team: Vec<TeamRates>,
    /// Officer id → (cases, penalties) from the filtered inspections.
    pub by_officer: HashMap<String, (u64, u64)>,
}

#[derive(FromRow)]
struct TeamInspection {
    inspection_id: String,
    org_id: String,
}

#[derive(FromRow)]
struct Found {
    inspection_id: String,
    n: i64,
    major: i64,
}

#[derive(FromRow)]
struct CaseRow {
    inspection_id: Option<String>,
    data: String,
}

#[derive(FromRow)]
struct Unit {
    id: String,
    name: String,
}

/// Whether a case counts as filed (立案, or decided on the spot) and as a penalty (a fine).
fn counts(case: &Case) -> (bool, bool) {
    let filed = case.state.filed_on.is_some() || case.state.on_site;
    (filed, filed && case.state.fine_yuan.is_some_and(|f| f > 0))
}

impl Store {
    pub(super) async fn rates(&self, filters: &Filters, today: &str) -> Result<Rates, sqlx::Error> {
        let ii = inspections_where(filters, self.backend);
        let sql = format!(
            "SELECT DISTINCT inspection_id, org_id FROM inspection_inspectors WHERE {}",
            ii.sql()
        );
        let teams: Vec<TeamInspection> = ii
            .bind(sqlx::query_as(AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await?;
        let team_of: HashMap<String, String> = teams
            .into_iter()
            .map(|r| (r.inspection_id, r.org_id))
            .collect();
        let mut per_team: BTreeMap<String, TeamRates> = BTreeMap::new();
        for org in team_of.values() {
            let org_id = parse_id(org)?;
            per_team
                .entry(org.clone())
                .or_insert_with(|| TeamRates {
                    org_id,
                    name: String::new(),
                    inspections: 0,
                    findings: 0,
                    major: 0,
                    cases: 0,
                    penalties: 0,
                })
                .inspections += 1;
        }

        let w: Where = Where::findings(filters, today, true, self.backend);
        let sql = format!(
            "SELECT f.inspection_id, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN f.level = 'major' THEN 1 ELSE 0 END) AS BIGINT) AS major \
             FROM findings f WHERE {} GROUP BY f.inspection_id",
            w.sql()
        );
        let found: Vec<Found> = w
            .bind(sqlx::query_as(AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await?;
        for row in found {
            if let Some(team) = team_of
                .get(&row.inspection_id)
                .and_then(|t| per_team.get_mut(t))
            {
                team.findings += u64::try_from(row.n).unwrap_or(0);
                team.major += u64::try_from(row.major).unwrap_or(0);
            }
        }

        let mut by_officer: HashMap<String, (u64, u64)> = HashMap::new();
        let orgs: Vec<&String> = per_team
            .keys()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !orgs.is_empty() {
            let sql = format!(
                "SELECT inspection_id, data FROM cases WHERE org_id IN ({})",
                placeholders(1, orgs.len())
            );
            let mut query = sqlx::query_as::<_, CaseRow>(AssertSqlSafe(sql));
            for org in &orgs {
                query = query.bind((*org).clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                let Some(team) = row
                    .inspection_id
                    .as_ref()
                    .and_then(|i| team_of.get(i))
                    .and_then(|t| per_team.get_mut(t))
                else {
                    continue;
                };
                let case: Case = decode_json(&row.data)?;
                let (filed, penalty) = counts(&case);
                if !filed {
                    continue;
                }
                team.cases += 1;
                team.penalties += u64::from(penalty);
                let officers: BTreeSet<String> =
                    case.officers.iter().map(|o| o.to_string()).collect();
                for officer in officers {
                    let entry = by_officer.entry(officer).or_default();
                    entry.0 += 1;
                    entry.1 += u64::from(penalty);
                }
            }
        }

        let units: Vec<Unit> = sqlx::query_as("SELECT id, name FROM org_units")
            .fetch_all(&self.pool)
            .await?;
        for unit in units {
            if let Some(team) = per_team.get_mut(&unit.id) {
                team.name = unit.name;
            }
        }
        let mut by_team: Vec<TeamRates> = per_team.into_values().collect();
        by_team.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Rates {
            by_team,
            by_officer,
        })
    }
}
