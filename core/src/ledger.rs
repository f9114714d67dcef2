//! The leader's ledger (隐患台账) and statistics wire types: the query of `GET /api/v1/findings`
//! (also used by the `.xlsx` / `.csv` exports), its page of rows with a keyset cursor, and the
//! query and answer of `GET /api/v1/stats`.
//!
//! Dates in queries are calendar dates in China Standard Time (`lifecycle::china_offset`); a
//! finding's date is the China date of its `created_at` (发现日期). Drafts are left out of the
//! ledger and the statistics unless `status=draft` is asked for explicitly.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash, UserId};
use crate::model::{FindingStatus, Level, Measure, Sector};

/// Default rows per ledger page.
pub const DEFAULT_LEDGER_LIMIT: u32 = 50;
/// Largest ledger page.
pub const MAX_LEDGER_LIMIT: u32 = 500;
/// Longest accepted text search (`q`), in characters.
pub const MAX_QUERY_TEXT_CHARS: usize = 100;

/// `GET /api/v1/findings` (and `GET /api/v1/ledger.xlsx`, `GET /api/v1/ledger.csv`, which ignore
/// `cursor` and `limit` and export every matching row). Every filter is optional; filters combine
/// with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct FindingsQuery {
    /// 旗县 of the enterprise, exact match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// 苏木镇 / 街道 / 园区 of the enterprise, exact match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township: Option<String>,
    /// The finding's 行业领域 (that of its checklist item's pack, else the inspection's first
    /// pack, else the enterprise's first sector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<Sector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// An org unit (执法队 or a unit above teams): findings of it and of every unit below it,
    /// within the caller's scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<OrgId>,
    /// Findings of inspections this user took part in (检查人员).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<EnterpriseId>,
    /// First 发现日期, inclusive (China date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last 发现日期, inclusive (China date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// true: only overdue (整改中 past the deadline day); false: only those not overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    /// true: only 挂牌督办; false: only those not supervised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervised: Option<bool>,
    /// Text contained in the description, the place or the enterprise name (at most 100
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Findings of inspections tagged with this campaign (安全生产月, a 专项整治…), exact match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// `next_cursor` of the previous page; absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Rows per page, default 50, at most 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl FindingsQuery {
    /// How many filters narrow the ledger (paging aside): said on the folded filter button.
    pub fn active_filters(&self) -> usize {
        [
            self.county.is_some(),
            self.township.is_some(),
            self.sector.is_some(),
            self.level.is_some(),
            self.status.is_some(),
            self.team.is_some(),
            self.inspector.is_some(),
            self.enterprise.is_some(),
            self.from.is_some(),
            self.to.is_some(),
            self.overdue.is_some(),
            self.supervised.is_some(),
            self.q.is_some(),
            self.campaign.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }

    /// The page size to use: the default when absent, clamped to 1..=500.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_LEDGER_LIMIT)
            .clamp(1, MAX_LEDGER_LIMIT)
    }

    /// The query string (without `?`) for these parameters, percent-encoded, in field order.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let mut put = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        };
        put("county", self.county.clone());
        put("township", self.township.clone());
        put("sector", self.sector.map(wire_name));
        put("level", self.level.map(wire_name));
        put("status", self.status.map(wire_name));
        put("team", self.team.map(|v| v.to_string()));
        put("inspector", self.inspector.map(|v| v.to_string()));
        put("enterprise", self.enterprise.map(|v| v.to_string()));
        put("from", self.from.map(|v| v.to_string()));
        put("to", self.to.map(|v| v.to_string()));
        put("overdue", self.overdue.map(|v| v.to_string()));
        put("supervised", self.supervised.map(|v| v.to_string()));
        put("q", self.q.clone());
        put("campaign", self.campaign.clone());
        put("cursor", self.cursor.clone());
        put("limit", self.limit.map(|v| v.to_string()));
        join_pairs(&pairs)
    }

    /// The statistics filters these ledger filters imply (region, sector, team, dates).
    pub fn stats_query(&self) -> StatsQuery {
        StatsQuery {
            county: self.county.clone(),
            township: self.township.clone(),
            sector: self.sector,
            team: self.team,
            from: self.from,
            to: self.to,
            campaign: self.campaign.clone(),
        }
    }
}

/// `GET /api/v1/findings` → one page of the ledger, newest 发现日期 first (`found_at` desc,
/// then id desc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingsPage {
    pub rows: Vec<LedgerRow>,
    /// All rows matching the filters (not just this page).
    pub total: u64,
    /// Pass as `cursor` for the next page; None on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A person on an inspection, as the ledger shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerPerson {
    pub user_id: UserId,
    pub name: String,
}

/// One finding in the ledger: what the ledger table, the export and a review or rectification
/// screen need, without fetching the finding itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerRow {
    pub id: FindingId,
    pub inspection_id: InspectionId,
    /// The server revision, the `base_rev` of a review mutation.
    pub rev: u64,
    pub enterprise_id: EnterpriseId,
    pub enterprise_name: String,
    /// 统一社会信用代码.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// 旗县.
    pub county: String,
    /// 苏木镇 / 街道 / 园区.
    pub township: String,
    /// The finding's 行业领域 (see `FindingsQuery::sector`).
    #[serde(default)]
    pub sector: Option<Sector>,
    /// The enterprise's sectors.
    #[serde(default)]
    pub enterprise_sectors: Vec<Sector>,
    /// The checklist item it answers; None for a free finding.
    #[serde(default)]
    pub item_id: Option<String>,
    pub level: Level,
    pub status: FindingStatus,
    /// 挂牌督办.
    pub supervised: bool,
    pub description: String,
    /// 隐患部位.
    pub place: String,
    /// 依据.
    pub legal_basis: String,
    /// 条文待核.
    #[serde(default)]
    pub basis_unverified: bool,
    pub measure: Measure,
    /// 整改期限 (China date).
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    /// When the finding was recorded (发现日期 is its China date).
    pub found_at: DateTime<Utc>,
    pub created_by: UserId,
    /// 检查人员 of the inspection.
    #[serde(default)]
    pub inspectors: Vec<LedgerPerson>,
    /// The team (执法队) the finding belongs to.
    pub team_id: OrgId,
    pub team_name: String,
    /// When it was closed (销号), if it is.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Whole days past the deadline when overdue, else None.
    #[serde(default)]
    pub overdue_days: Option<i64>,
    /// Evidence photos.
    #[serde(default)]
    pub photos: Vec<PhotoHash>,
    /// Photos after rectification.
    #[serde(default)]
    pub after_photos: Vec<PhotoHash>,
    /// The comment of the latest history entry that has one (e.g. a return reason).
    #[serde(default)]
    pub last_comment: Option<String>,
}

/// `GET /api/v1/stats`: the statistics filters, all optional (same meaning as in
/// `FindingsQuery`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StatsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<Sector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<OrgId>,
    /// First 发现日期 (China date), inclusive; also the first month of the series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last 发现日期 (China date), inclusive; also the last month of the series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// Only findings of inspections tagged with this campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

impl StatsQuery {
    /// How many filters narrow the statistics: said on the folded filter button.
    pub fn active_filters(&self) -> usize {
        [
            self.county.is_some(),
            self.township.is_some(),
            self.sector.is_some(),
            self.team.is_some(),
            self.from.is_some(),
            self.to.is_some(),
            self.campaign.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }

    /// The query string (without `?`) for these parameters, percent-encoded.
    pub fn to_query_string(&self) -> String {
        FindingsQuery {
            county: self.county.clone(),
            township: self.township.clone(),
            sector: self.sector,
            team: self.team,
            from: self.from,
            to: self.to,
            campaign: self.campaign.clone(),
            ..FindingsQuery::default()
        }
        .to_query_string()
    }
}

/// One cell of region × sector × level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsCell {
    pub county: String,
    pub township: String,
    /// None when no sector could be told (see `FindingsQuery::sector`).
    #[serde(default)]
    pub sector: Option<Sector>,
    pub level: Level,
    /// Not yet 已销号.
    pub open: u64,
    /// 已销号.
    pub closed: u64,
}

/// One month of the 重大隐患 动态清零 series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthPoint {
    /// `YYYY-MM` (China time).
    pub month: String,
    /// Major findings found in the month.
    pub found: u64,
    /// Major findings closed in the month.
    pub closed: u64,
    /// Major findings found by the end of the month and not closed by then.
    pub open_at_end: u64,
}

/// Work per inspector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectorStats {
    pub user_id: UserId,
    pub name: String,
    /// Inspections they took part in (started within the date filters, of the team filter).
    pub inspections: u64,
    /// Findings (not drafts) of those inspections matching every filter.
    pub findings: u64,
    /// Cases filed (立案) from those inspections with this officer among the case's officers.
    #[serde(default)]
    pub cases: u64,
    /// Of those, the ones decided with a penalty (a fine, on the spot or not).
    #[serde(default)]
    pub penalties: u64,
}

/// The bureau's own measures of its enforcement, per team (隐患发现率、立案率、处罚率): the
/// inspections of the team within the filters, what they found, and the cases filed and
/// penalised from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamRates {
    pub org_id: OrgId,
    pub name: String,
    pub inspections: u64,
    /// Findings (not drafts) of those inspections.
    pub findings: u64,
    /// Of which 重大.
    pub major: u64,
    /// Cases from those inspections that were filed (立案), or decided on the spot.
    pub cases: u64,
    /// Of those, decided with a fine.
    pub penalties: u64,
}

impl TeamRates {
    fn per_inspection(&self, n: u64) -> Option<f64> {
        (self.inspections > 0).then(|| n as f64 / self.inspections as f64)
    }

    /// 隐患发现率: findings per inspection.
    pub fn finding_rate(&self) -> Option<f64> {
        self.per_inspection(self.findings)
    }

    /// 重大隐患 per inspection.
    pub fn major_rate(&self) -> Option<f64> {
        self.per_inspection(self.major)
    }

    /// 立案率: cases per inspection.
    pub fn case_rate(&self) -> Option<f64> {
        self.per_inspection(self.cases)
    }

    /// 处罚率: penalties per inspection.
    pub fn penalty_rate(&self) -> Option<f64> {
        self.per_inspection(self.penalties)
    }

    /// 零处罚: inspections made and no penalty from any of them.
    pub fn zero_penalties(&self) -> bool {
        self.inspections > 0 && self.penalties == 0
    }
}

/// `GET /api/v1/stats` → the leader's statistics over the caller's scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsResponse {
    /// Non-empty cells only, ordered by county, township, sector, level.
    pub cells: Vec<StatsCell>,
    /// Every month from the first (`from`, else the month of the earliest major finding) to the
    /// last (`to`, else the current month); at most 120 months (the latest).
    pub major_monthly: Vec<MonthPoint>,
    /// All findings matching the filters (drafts excluded).
    pub total: u64,
    /// Confirmed by a leader: 整改中, 复查合格 or 已销号.
    pub confirmed: u64,
    /// 复查合格 or 已销号.
    pub rectified: u64,
    /// `rectified ÷ confirmed`; None when nothing is confirmed.
    #[serde(default)]
    pub rectification_rate: Option<f64>,
    /// 整改中 past the deadline day now.
    pub overdue: u64,
    /// Ordered by findings, then inspections, descending.
    pub by_inspector: Vec<InspectorStats>,
    /// Per team with inspections within the filters, by name.
    #[serde(default)]
    pub by_team: Vec<TeamRates>,
    /// The time the figures were computed at (overdue depends on it).
    pub as_of: DateTime<Utc>,
}

/// A position in the ledger's order (`found_at` desc, id desc): the last row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerCursor {
    pub found_at: DateTime<Utc>,
    pub id: FindingId,
}

impl LedgerCursor {
    /// The opaque text form, `<found_at in ms since the epoch>.<id as 32 hex digits>`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.found_at.timestamp_millis(),
            self.id.0.simple()
        )
    }

    /// Parses `encode`'s form; None for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (millis, id) = text.split_once('.')?;
        if id.len() != 32 {
            return None;
        }
        let millis: i64 = millis.parse().ok()?;
        let found_at = Utc.timestamp_millis_opt(millis).single()?;
        let id = uuid::Uuid::try_parse(id).ok()?;
        Some(Self {
            found_at,
            id: FindingId(id),
        })
    }
}

/// The snake_case wire name of a unit enum.
fn wire_name<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn join_pairs(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but the URL-unreserved characters (RFC 3986), UTF-8 bytewise.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(millis: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(millis).single().unwrap()
    }

    #[test]
    fn active_filters_count_what_narrows_not_the_paging() {
        let mut query = FindingsQuery::default();
        assert_eq!(query.active_filters(), 0);
        query.cursor = Some("abc".to_owned());
        query.limit = Some(10);
        assert_eq!(query.active_filters(), 0, "paging is not a filter");
        query.status = Some(FindingStatus::Returned);
        query.overdue = Some(true);
        query.q = Some("瓦斯".to_owned());
        assert_eq!(query.active_filters(), 3);
        let stats = query.stats_query();
        assert_eq!(
            stats.active_filters(),
            0,
            "status, overdue and text do not narrow statistics"
        );
        let stats = StatsQuery {
            county: Some("达拉特旗".to_owned()),
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            ..StatsQuery::default()
        };
        assert_eq!(stats.active_filters(), 2);
    }

    #[test]
    fn cursor_round_trips() {
        let cursor = LedgerCursor {
            found_at: at(1_767_225_600_123),
            id: FindingId::new(),
        };
        let text = cursor.encode();
        assert_eq!(LedgerCursor::decode(&text), Some(cursor));
        // Millisecond precision is what the ledger stores; a cursor of an earlier epoch works too.
        let old = LedgerCursor {
            found_at: at(0) - Duration::days(1),
            id: FindingId::new(),
        };
        assert_eq!(LedgerCursor::decode(&old.encode()), Some(old));
    }

    #[test]
    fn cursor_rejects_garbage() {
        for bad in [
            "",
            ".",
            "abc",
            "12.",
            "x.0123456789abcdef0123456789abcdef",
            "12.0123456789abcdef0123456789abcdeg",
            "12.0123456789abcdef",
            "99999999999999999999.0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(LedgerCursor::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn effective_limit_defaults_and_clamps() {
        let mut q = FindingsQuery::default();
        assert_eq!(q.effective_limit(), DEFAULT_LEDGER_LIMIT);
        q.limit = Some(0);
        assert_eq!(q.effective_limit(), 1);
        q.limit = Some(10_000);
        assert_eq!(q.effective_limit(), MAX_LEDGER_LIMIT);
    }

    #[test]
    fn query_string_names_every_filter_with_wire_values() {
        let team = OrgId::new();
        let q = FindingsQuery {
            township: Some("树林召镇".into()),
            sector: Some(Sector::NonCoalMine),
            level: Some(Level::Major),
            status: Some(FindingStatus::Rectifying),
            team: Some(team),
            from: NaiveDate::from_ymd_opt(2026, 1, 2),
            overdue: Some(true),
            q: Some("a b&c".into()),
            limit: Some(20),
            ..FindingsQuery::default()
        };
        assert_eq!(
            q.to_query_string(),
            format!(
                "township=%E6%A0%91%E6%9E%97%E5%8F%AC%E9%95%87&sector=non_coal_mine&level=major\
                 &status=rectifying&team={team}&from=2026-01-02&overdue=true&q=a%20b%26c&limit=20"
            )
        );
        assert_eq!(FindingsQuery::default().to_query_string(), "");
    }

    #[test]
    fn stats_query_keeps_the_shared_filters() {
        let q = FindingsQuery {
            county: Some("达拉特旗".into()),
            level: Some(Level::Major),
            to: NaiveDate::from_ymd_opt(2026, 3, 31),
            ..FindingsQuery::default()
        };
        let s = q.stats_query();
        assert_eq!(s.county.as_deref(), Some("达拉特旗"));
        assert_eq!(s.to, q.to);
        assert_eq!(
            s.to_query_string(),
            "county=%E8%BE%BE%E6%8B%89%E7%89%B9%E6%97%97&to=2026-03-31"
        );
    }

    #[test]
    fn findings_query_json_round_trips() {
        let q = FindingsQuery {
            enterprise: Some(EnterpriseId::new()),
            inspector: Some(UserId::new()),
            supervised: Some(false),
            cursor: Some("1.0123456789abcdef0123456789abcdef".into()),
            ..FindingsQuery::default()
        };
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<FindingsQuery>(&json).unwrap(), q);
    }
}
