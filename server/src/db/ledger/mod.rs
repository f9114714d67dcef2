//! The leader's ledger and statistics, read side: keyset-paged ledger queries, the exports' walk
//! over every matching row, and the grouped statistics queries, all over the derived columns
//! that `ledger_columns` writes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, FromRow};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::ledger::{
    InspectorStats, LedgerCursor, LedgerPerson, LedgerRow, MonthPoint, StatsCell, StatsResponse,
};
use zhicha_core::lifecycle::days_overdue;
use zhicha_core::model::{Enterprise, Finding, FindingStatus, Level, OrgUnit, Sector};
use zhicha_core::wire::WireName;

use super::ledger_columns::{decode_json, time_text};
use super::users::parse_id;
use super::{Backend, Store, placeholders};

/// A calendar month: (year, month).
type Month = (i32, u32);

/// At most this many months in the 重大隐患 series.
const MAX_MONTHS: usize = 120;

/// The ledger filters after the route resolved scope and team: what the SQL sees.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// The org units whose findings may be shown; None for all.
    pub orgs: Option<Vec<OrgId>>,
    pub county: Option<String>,
    pub township: Option<String>,
    pub sector: Option<Sector>,
    pub level: Option<Level>,
    /// None: every status but drafts.
    pub status: Option<FindingStatus>,
    pub inspector: Option<UserId>,
    pub enterprise: Option<zhicha_core::ids::EnterpriseId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    pub q: Option<String>,
    /// Only findings of inspections whose `entry.campaign` is exactly this.
    pub campaign: Option<String>,
}

/// Inspections whose stored `entry.campaign` is the text bound at `param` (the expression of
/// the index `inspections_campaign`).
fn campaign_inspections(backend: Backend, param: &str) -> String {
    format!(
        "SELECT id FROM inspections WHERE {} = {param}",
        backend.json_text("data", &["entry", "campaign"])
    )
}

/// The inspections of `filters` as `inspection_inspectors` rows (alias-free): their teams, their
/// 开始日期 within the dates, their campaign. The sector and place filters are the findings'.
fn inspections_where(filters: &Filters, backend: Backend) -> Where {
    let mut ii = Where::default();
    if let Some(orgs) = &filters.orgs {
        let first = ii.args.len() + 1;
        for org in orgs {
            ii.args.push(Arg::Text(org.to_string()));
        }
        ii.push(format!("org_id IN ({})", placeholders(first, orgs.len())));
    }
    if let Some(day) = filters.from {
        let p = ii.text(day.to_string());
        ii.push(format!("started_day >= {p}"));
    }
    if let Some(day) = filters.to {
        let p = ii.text(day.to_string());
        ii.push(format!("started_day <= {p}"));
    }
    if let Some(campaign) = &filters.campaign {
        let p = ii.text(campaign.clone());
        ii.push(format!(
            "inspection_id IN ({})",
            campaign_inspections(backend, &p)
        ));
    }
    ii
}

/// A bound value of a built query.
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause built with numbered placeholders and the values they bind.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    /// Adds a value and returns its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn text(&mut self, value: impl Into<String>) -> String {
        self.arg(Arg::Text(value.into()))
    }

    fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            "1 = 1".to_owned()
        } else {
            self.clauses.join(" AND ")
        }
    }

    /// The finding filters over alias `f`; `dates` false leaves out `from` (the monthly series
    /// needs every finding up to `to`).
    fn findings(filters: &Filters, today: &str, from: bool, backend: Backend) -> Self {
        Self::findings_with(filters, today, from, "f.org_id", backend)
    }

    /// As `findings`, naming the org column as `org` (SQLite's `+f.org_id` keeps the planner
    /// off the org indexes, so a page walks the ledger-order index instead of sorting a team).
    fn findings_with(
        filters: &Filters,
        today: &str,
        from: bool,
        org: &str,
        backend: Backend,
    ) -> Self {
        let mut w = Self::default();
        if let Some(orgs) = &filters.orgs {
            let first = w.args.len() + 1;
            for org in orgs {
                w.args.push(Arg::Text(org.to_string()));
            }
            w.push(format!("{org} IN ({})", placeholders(first, orgs.len())));
        }
        match filters.status {
            Some(status) => {
                let p = w.text(status.wire_name());
                w.push(format!("f.status = {p}"));
            }
            None => w.push("f.status <> 'draft'".to_owned()),
        }
        if let Some(level) = filters.level {
            let p = w.text(level.wire_name());
            w.push(format!("f.level = {p}"));
        }
        if let Some(sector) = filters.sector {
            let p = w.text(sector.wire_name());
            w.push(format!("f.sector = {p}"));
        }
        if let Some(county) = &filters.county {
            let p = w.text(county.clone());
            w.push(format!("f.county = {p}"));
        }
        if let Some(township) = &filters.township {
            let p = w.text(township.clone());
            w.push(format!("f.township = {p}"));
        }
        if let Some(enterprise) = filters.enterprise {
            let p = w.text(enterprise.to_string());
            w.push(format!("f.enterprise_id = {p}"));
        }
        if let Some(campaign) = &filters.campaign {
            let p = w.text(campaign.clone());
            w.push(format!(
                "f.inspection_id IN ({})",
                campaign_inspections(backend, &p)
            ));
        }
        if let Some(inspector) = filters.inspector {
            let p = w.text(inspector.to_string());
            w.push(format!(
                "f.inspection_id IN (SELECT inspection_id FROM inspection_inspectors \
                 WHERE user_id = {p})"
            ));
        }
        if from && let Some(day) = filters.from {
            let p = w.text(day.to_string());
            w.push(format!("f.found_day >= {p}"));
        }
        if let Some(day) = filters.to {
            let p = w.text(day.to_string());
            w.push(format!("f.found_day <= {p}"));
        }
        match filters.overdue {
            Some(true) => {
                let p = w.text(today);
                w.push(format!("f.status = 'rectifying' AND f.deadline < {p}"));
            }
            Some(false) => {
                let p = w.text(today);
                w.push(format!(
                    "(f.status <> 'rectifying' OR f.deadline IS NULL OR f.deadline >= {p})"
                ));
            }
            None => {}
        }
        if let Some(supervised) = filters.supervised {
            let p = w.arg(Arg::Int(i64::from(supervised)));
            w.push(format!("f.supervised = {p}"));
        }
        if let Some(q) = filters
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
            let p = w.text(pattern);
            w.push(format!(
                "(f.search_text LIKE {p} ESCAPE '\\' OR LOWER(f.enterprise_name) LIKE {p} ESCAPE '\\')"
            ));
        }
        w
    }

    fn bind<'q, O>(
        &self,
        mut query: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments> {
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// `%`, `_` and `\` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn parse_enum<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The China date of a time.
pub use zhicha_core::time::china_date as china_day;

#[derive(FromRow)]
struct PageRow {
    rev: i64,
    data: String,
    flagged: i64,
    enterprise_name: String,
    county: String,
    township: String,
    sector: Option<String>,
    found_at: Option<String>,
    closed_at: Option<String>,
    credit_code: Option<String>,
    enterprise_data: Option<String>,
}

#[derive(FromRow)]
struct PersonRow {
    inspection_id: String,
    user_id: String,
    name: String,
}

#[derive(FromRow)]
struct CellRow {
    county: String,
    township: String,
    sector: Option<String>,
    level: String,
    status: String,
    n: i64,
    overdue: i64,
}

#[derive(FromRow)]
struct MonthRow {
    found_month: Option<String>,
    closed_month: Option<String>,
    n: i64,
}

#[derive(FromRow)]
struct InspectorRow {
    user_id: String,
    name: String,
    n: i64,
}

/// One page of the ledger.
pub struct Page {
    pub rows: Vec<LedgerRow>,
    /// Per row: a conflicting write to the finding was kept as a revision.
    pub flagged: Vec<bool>,
    pub next_cursor: Option<LedgerCursor>,
}

/// Rows per page of an export's walk: what an export holds in memory at once.
const EXPORT_PAGE: u32 = 500;

/// A walk over every matching row in ledger order, one page at a time, so an export holds one
/// page in memory however long the ledger. Keyset-paged like the ledger, so rows written during
/// the walk neither repeat nor shift the rest.
pub struct LedgerPages {
    store: Store,
    filters: Filters,
    orgs: Vec<OrgUnit>,
    now: DateTime<Utc>,
    cursor: Option<LedgerCursor>,
    done: bool,
}

impl LedgerPages {
    /// The next rows; None after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<LedgerRow>>, sqlx::Error> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .ledger_page(
                &self.filters,
                self.cursor.take(),
                EXPORT_PAGE,
                &self.orgs,
                self.now,
            )
            .await?;
        self.cursor = page.next_cursor;
        self.done = self.cursor.is_none();
        Ok((!page.rows.is_empty()).then_some(page.rows))
    }
}

/// `YYYY-MM` of a date.
fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

fn next_month(month: (i32, u32)) -> (i32, u32) {
    if month.1 == 12 {
        (month.0 + 1, 1)
    } else {
        (month.0, month.1 + 1)
    }
}

fn parse_month(text: &str) -> Option<(i32, u32)> {
    let (y, m) = text.split_once('-')?;
    Some((y.parse().ok()?, m.get(..2)?.parse().ok()?))
}

impl Store {
    /// The matching findings' count (drafts excluded unless asked for).
    pub async fn ledger_count(
        &self,
        filters: &Filters,
        now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let today = china_day(now).to_string();
        let w = Where::findings(filters, &today, true, self.backend);
        let sql = format!("SELECT COUNT(*) AS n FROM findings f WHERE {}", w.sql());
        let (n,): (i64,) = w
            .bind(sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql)))
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One page in ledger order (`found_at` desc, id desc) after `cursor`.
    pub async fn ledger_page(
        &self,
        filters: &Filters,
        cursor: Option<LedgerCursor>,
        limit: u32,
        orgs: &[OrgUnit],
        now: DateTime<Utc>,
    ) -> Result<Page, sqlx::Error> {
        let today = china_day(now).to_string();
        let org = match self.backend {
            Backend::Sqlite => "+f.org_id",
            Backend::Postgres => "f.org_id",
        };
        let mut w = Where::findings_with(filters, &today, true, org, self.backend);
        if let Some(cursor) = cursor {
            let at = w.text(time_text(cursor.found_at));
            let id = w.text(cursor.id.to_string());
            w.push(format!("(f.found_at, f.id) < ({at}, {id})"));
        }
        let limit_arg = w.arg(Arg::Int(i64::from(limit) + 1));
        let sql = format!(
            "SELECT f.rev, f.data, f.flagged, f.enterprise_name, f.county, f.township, f.sector, \
             f.found_at, f.closed_at, e.credit_code, e.data AS enterprise_data \
             FROM findings f LEFT JOIN enterprises e ON e.id = f.enterprise_id \
             WHERE {} ORDER BY f.found_at DESC, f.id DESC LIMIT {limit_arg}",
            w.sql()
        );
        let mut rows = w
            .bind(sqlx::query_as::<_, PageRow>(AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let flagged = rows.iter().map(|row| row.flagged != 0).collect();
        let rows = self.ledger_rows(rows, orgs, now).await?;
        let next_cursor = if more {
            rows.last().map(|r| LedgerCursor {
                found_at: r.found_at,
                id: r.id,
            })
        } else {
            None
        };
        Ok(Page {
            rows,
            flagged,
            next_cursor,
        })
    }

    /// Every matching row in ledger order, a page at a time (the exports).
    pub fn ledger_pages(
        &self,
        filters: Filters,
        orgs: Vec<OrgUnit>,
        now: DateTime<Utc>,
    ) -> LedgerPages {
        LedgerPages {
            store: self.clone(),
            filters,
            orgs,
            now,
            cursor: None,
            done: false,
        }
    }

    async fn ledger_rows(
        &self,
        rows: Vec<PageRow>,
        orgs: &[OrgUnit],
        now: DateTime<Utc>,
    ) -> Result<Vec<LedgerRow>, sqlx::Error> {
        let mut findings = Vec::with_capacity(rows.len());
        for row in rows {
            let finding: Finding = decode_json(&row.data)?;
            findings.push((row, finding));
        }
        let mut inspection_ids: Vec<String> = findings
            .iter()
            .map(|(_, f)| f.inspection_id.to_string())
            .collect();
        inspection_ids.sort();
        inspection_ids.dedup();
        let mut people: HashMap<String, Vec<LedgerPerson>> = HashMap::new();
        for chunk in inspection_ids.chunks(500) {
            let sql = format!(
                "SELECT inspection_id, user_id, name FROM inspection_inspectors \
                 WHERE inspection_id IN ({}) ORDER BY inspection_id, name",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, PersonRow>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.clone());
            }
            for person in query.fetch_all(&self.pool).await? {
                people
                    .entry(person.inspection_id)
                    .or_default()
                    .push(LedgerPerson {
                        user_id: parse_id(&person.user_id)?,
                        name: person.name,
                    });
            }
        }
        let team_names: HashMap<OrgId, &str> =
            orgs.iter().map(|o| (o.id, o.name.as_str())).collect();
        findings
            .into_iter()
            .map(|(row, f)| {
                let enterprise: Option<Enterprise> = row
                    .enterprise_data
                    .as_deref()
                    .map(decode_json)
                    .transpose()?;
                let overdue = days_overdue(&f, now);
                let last_comment = f
                    .history
                    .iter()
                    .rev()
                    .find(|h| !h.comment.trim().is_empty())
                    .map(|h| h.comment.clone());
                Ok(LedgerRow {
                    id: f.id,
                    inspection_id: f.inspection_id,
                    rev: u64::try_from(row.rev).unwrap_or(0),
                    enterprise_id: f.enterprise_id,
                    enterprise_name: row.enterprise_name,
                    credit_code: row.credit_code,
                    county: row.county,
                    township: row.township,
                    sector: row.sector.as_deref().map(parse_enum).transpose()?,
                    enterprise_sectors: enterprise.map(|e| e.sectors).unwrap_or_default(),
                    item_id: f.item_id,
                    level: f.level,
                    status: f.status,
                    supervised: f.supervised,
                    description: f.description,
                    place: f.place,
                    legal_basis: f.legal_basis,
                    basis_unverified: f.basis_unverified,
                    measure: f.measure,
                    deadline: f.deadline,
                    found_at: match row.found_at.as_deref() {
                        Some(text) => parse_time(text)?,
                        None => f.created_at,
                    },
                    created_by: f.created_by,
                    inspectors: people
                        .get(&f.inspection_id.to_string())
                        .cloned()
                        .unwrap_or_default(),
                    team_id: f.org_id,
                    team_name: team_names
                        .get(&f.org_id)
                        .map(|n| (*n).to_owned())
                        .unwrap_or_default(),
                    closed_at: row.closed_at.as_deref().map(parse_time).transpose()?,
                    overdue_days: (overdue > 0).then_some(overdue),
                    photos: f.photos,
                    after_photos: f.after_photos,
                    last_comment,
                })
            })
            .collect()
    }

    /// The statistics over `filters` (level, status, overdue, inspector, enterprise and text
    /// filters are not statistics filters and should be None).
    pub async fn stats(
        &self,
        filters: &Filters,
        now: DateTime<Utc>,
    ) -> Result<StatsResponse, sqlx::Error> {
        let today_date = china_day(now);
        let today = today_date.to_string();

        // Four independent queries, run side by side on the pool.
        // Region × sector × level × status, with overdue counts: one scan of the index.
        let w_cells = Where::findings(filters, &today, true, self.backend);
        let p_today = format!("${}", w_cells.args.len() + 1);
        let cells_sql = format!(
            "SELECT f.county, f.township, f.sector, f.level, f.status, COUNT(*) AS n, \
             SUM(CASE WHEN f.status = 'rectifying' AND f.deadline < {p_today} THEN 1 ELSE 0 END) \
             AS overdue FROM findings f WHERE {} \
             GROUP BY f.county, f.township, f.sector, f.level, f.status",
            w_cells.sql()
        );
        let cells_query = w_cells
            .bind(sqlx::query_as::<_, CellRow>(AssertSqlSafe(cells_sql)))
            .bind(today.clone())
            .fetch_all(&self.pool);

        // The 重大隐患 series: every major finding found up to `to`, by found and closed month.
        let major = Filters {
            level: Some(Level::Major),
            ..filters.clone()
        };
        let w_months = Where::findings(&major, &today, false, self.backend);
        let months_sql = format!(
            "SELECT SUBSTR(f.found_day, 1, 7) AS found_month, \
             SUBSTR(f.closed_day, 1, 7) AS closed_month, COUNT(*) AS n \
             FROM findings f WHERE {} GROUP BY SUBSTR(f.found_day, 1, 7), \
             SUBSTR(f.closed_day, 1, 7)",
            w_months.sql()
        );
        let months_query = w_months
            .bind(sqlx::query_as::<_, MonthRow>(AssertSqlSafe(months_sql)))
            .fetch_all(&self.pool);

        // Work per inspector: inspections they took part in, and the findings of those
        // (counted per inspection first, so the join is per inspection, not per finding).
        let ii = inspections_where(filters, self.backend);
        let inspections_sql = format!(
            "SELECT user_id, MAX(name) AS name, COUNT(*) AS n FROM inspection_inspectors \
             WHERE {} GROUP BY user_id",
            ii.sql()
        );
        let inspections_query = ii
            .bind(sqlx::query_as::<_, InspectorRow>(AssertSqlSafe(
                inspections_sql,
            )))
            .fetch_all(&self.pool);
        let w_found = Where::findings(filters, &today, true, self.backend);
        let found_sql = format!(
            "SELECT ii.user_id, MAX(ii.name) AS name, CAST(SUM(c.n) AS BIGINT) AS n FROM \
             (SELECT f.inspection_id, COUNT(*) AS n FROM findings f WHERE {} \
             GROUP BY f.inspection_id) c \
             JOIN inspection_inspectors ii ON ii.inspection_id = c.inspection_id \
             GROUP BY ii.user_id",
            w_found.sql()
        );
        let found_query = w_found
            .bind(sqlx::query_as::<_, InspectorRow>(AssertSqlSafe(found_sql)))
            .fetch_all(&self.pool);
        let (rows, months, inspections, found, rates) = tokio::try_join!(
            cells_query,
            months_query,
            inspections_query,
            found_query,
            self.rates(filters, &today)
        )?;

        type CellKey = (String, String, Option<String>, String);
        let mut cells: BTreeMap<CellKey, (u64, u64)> = BTreeMap::new();
        let (mut total, mut confirmed, mut rectified, mut overdue) = (0u64, 0u64, 0u64, 0u64);
        for row in rows {
            let n = u64::try_from(row.n).unwrap_or(0);
            let status: FindingStatus = parse_enum(&row.status)?;
            total += n;
            if matches!(
                status,
                FindingStatus::Rectifying | FindingStatus::Verified | FindingStatus::Closed
            ) {
                confirmed += n;
            }
            if matches!(status, FindingStatus::Verified | FindingStatus::Closed) {
                rectified += n;
            }
            overdue += u64::try_from(row.overdue).unwrap_or(0);
            let cell = cells
                .entry((row.county, row.township, row.sector, row.level))
                .or_default();
            if status == FindingStatus::Closed {
                cell.1 += n;
            } else {
                cell.0 += n;
            }
        }
        let mut cells_out = Vec::with_capacity(cells.len());
        for ((county, township, sector, level), (open, closed)) in cells {
            cells_out.push(StatsCell {
                county,
                township,
                sector: sector.as_deref().map(parse_enum).transpose()?,
                level: parse_enum(&level)?,
                open,
                closed,
            });
        }

        let major_monthly = month_series(&months, filters.from, filters.to.unwrap_or(today_date));

        let mut people: BTreeMap<String, InspectorStats> = BTreeMap::new();
        for (row, is_finding) in inspections
            .into_iter()
            .map(|r| (r, false))
            .chain(found.into_iter().map(|r| (r, true)))
        {
            let user_id = parse_id(&row.user_id)?;
            let entry = people.entry(row.user_id).or_insert_with(|| InspectorStats {
                user_id,
                name: row.name,
                inspections: 0,
                findings: 0,
                cases: 0,
                penalties: 0,
            });
            let n = u64::try_from(row.n).unwrap_or(0);
            if is_finding {
                entry.findings += n;
            } else {
                entry.inspections += n;
            }
        }
        for (user_id, (cases, penalties)) in &rates.by_officer {
            if let Some(person) = people.get_mut(user_id) {
                person.cases += cases;
                person.penalties += penalties;
            }
        }
        let mut by_inspector: Vec<InspectorStats> = people.into_values().collect();
        by_inspector.sort_by(|a, b| {
            (b.findings, b.inspections, &a.name).cmp(&(a.findings, a.inspections, &b.name))
        });

        Ok(StatsResponse {
            cells: cells_out,
            major_monthly,
            total,
            confirmed,
            rectified,
            rectification_rate: (confirmed > 0).then(|| rectified as f64 / confirmed as f64),
            overdue,
            by_inspector,
            by_team: rates.by_team,
            as_of: now,
        })
    }
}

/// The monthly series from the grouped counts: every month from `from` (else the earliest found
/// month) to `to`, at most `MAX_MONTHS` (the latest).
fn month_series(rows: &[MonthRow], from: Option<NaiveDate>, to: NaiveDate) -> Vec<MonthPoint> {
    let last = (to.year(), to.month());
    let earliest = rows
        .iter()
        .filter_map(|r| r.found_month.as_deref().and_then(parse_month))
        .min();
    let Some(mut month) = from.map(|d| (d.year(), d.month())).or(earliest) else {
        return Vec::new();
    };
    let mut months = Vec::new();
    while month <= last {
        months.push(month);
        month = next_month(month);
    }
    if months.len() > MAX_MONTHS {
        months.drain(..months.len() - MAX_MONTHS);
    }
    let parsed: Vec<(Option<Month>, Option<Month>, u64)> = rows
        .iter()
        .map(|r| {
            (
                r.found_month.as_deref().and_then(parse_month),
                r.closed_month.as_deref().and_then(parse_month),
                u64::try_from(r.n).unwrap_or(0),
            )
        })
        .collect();
    months
        .into_iter()
        .map(|m| {
            let mut point = MonthPoint {
                month: month_of(NaiveDate::from_ymd_opt(m.0, m.1, 1).unwrap_or_default()),
                found: 0,
                closed: 0,
                open_at_end: 0,
            };
            for (found, closed, n) in &parsed {
                if *found == Some(m) {
                    point.found += n;
                }
                if *closed == Some(m) {
                    point.closed += n;
                }
                let found_by_end = found.is_some_and(|f| f <= m);
                let open_at_end = closed.is_none_or(|c| c > m);
                if found_by_end && open_at_end {
                    point.open_at_end += n;
                }
            }
            point
        })
        .collect()
}

mod rates;

#[cfg(test)]
mod tests;
