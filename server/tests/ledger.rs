//! The leader's ledger, statistics and exports, on SQLite and PostgreSQL: every filter against
//! an independent model of the seeded findings, complete and stable keyset paging, the
//! statistics figures, the .xlsx and .csv files, org-subtree scoping and role checks.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{Backend, Device, TestApp};
use zhicha_core::ids::{EnterpriseId, FindingId, OrgId, PhotoHash, UserId};
use zhicha_core::ledger::{FindingsPage, FindingsQuery, LedgerCursor, StatsQuery, StatsResponse};
use zhicha_core::lifecycle::china_offset;
use zhicha_core::model::{Enterprise, FindingStatus, InspectorRef, Level, Measure, Sector};
use zhicha_core::packs;
use zhicha_core::protocol::{
    AckStatus, CommentPayload, MutationPayload, ReinspectPayload, ReturnPayload, SupervisePayload,
};

on_both_backends!(
    every_ledger_filter_returns_exactly_the_matching_rows,
    paging_is_complete_and_stable,
    statistics_match_the_seeded_findings,
    a_leader_sees_only_their_org_subtree,
    an_inspector_cannot_use_the_ledger_or_statistics,
    bad_ledger_queries_answer_400,
    the_xlsx_export_has_chinese_headers_real_dates_and_status_labels,
    the_csv_export_has_a_bom_and_one_row_per_finding,
);

/// Who records a finding: inspector1 (team 1), inspector2 (team 1), inspector3 (team 2).
#[derive(Clone, Copy, PartialEq)]
enum Who {
    I1,
    I2,
    I3,
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Draft,
    Submitted,
    Returned,
    Rectifying,
    Verified,
    Closed,
}

struct Spec {
    who: Who,
    /// Index into the chosen enterprises.
    ent: usize,
    level: Level,
    days_ago: i64,
    /// Deadline relative to today (China date), in days.
    deadline_in: i64,
    target: Target,
    supervised: bool,
    description: &'static str,
}

// One row of the table below, positionally like its columns.
#[allow(clippy::too_many_arguments)]
const fn spec(
    who: Who,
    ent: usize,
    level: Level,
    days_ago: i64,
    deadline_in: i64,
    target: Target,
    supervised: bool,
    description: &'static str,
) -> Spec {
    Spec {
        who,
        ent,
        level,
        days_ago,
        deadline_in,
        target,
        supervised,
        description,
    }
}

const SPECS: [Spec; 12] = [
    spec(
        Who::I1,
        0,
        Level::General,
        3,
        20,
        Target::Submitted,
        false,
        "配电箱未接地",
    ),
    spec(
        Who::I1,
        0,
        Level::Major,
        40,
        -10,
        Target::Rectifying,
        true,
        "主通风机无备用电源",
    ),
    spec(
        Who::I1,
        1,
        Level::General,
        20,
        10,
        Target::Rectifying,
        false,
        "灭火器压力不足",
    ),
    spec(
        Who::I1,
        1,
        Level::General,
        70,
        -30,
        Target::Verified,
        false,
        "安全出口标识缺失",
    ),
    spec(
        Who::I1,
        0,
        Level::Major,
        100,
        -60,
        Target::Closed,
        false,
        "瓦斯监测探头失效",
    ),
    spec(
        Who::I2,
        1,
        Level::General,
        5,
        10,
        Target::Draft,
        false,
        "草稿：消防通道堆放杂物",
    ),
    spec(
        Who::I2,
        0,
        Level::General,
        8,
        10,
        Target::Returned,
        false,
        "应急照明不亮",
    ),
    spec(
        Who::I3,
        2,
        Level::Major,
        10,
        -5,
        Target::Rectifying,
        true,
        "储罐区防火堤破损",
    ),
    spec(
        Who::I3,
        2,
        Level::General,
        50,
        -20,
        Target::Closed,
        false,
        "静电接地线断开",
    ),
    spec(
        Who::I3,
        2,
        Level::General,
        1,
        20,
        Target::Submitted,
        false,
        "仓库 100%_满载 超高堆放",
    ),
    // Two findings recorded at the same instant: the ledger orders them by id.
    spec(
        Who::I1,
        1,
        Level::General,
        15,
        15,
        Target::Submitted,
        false,
        "同时发现之一",
    ),
    spec(
        Who::I1,
        1,
        Level::General,
        15,
        15,
        Target::Submitted,
        false,
        "同时发现之二",
    ),
];

/// What the model knows of a seeded finding.
#[derive(Clone, Debug)]
struct Seeded {
    id: FindingId,
    team: OrgId,
    enterprise: EnterpriseId,
    enterprise_name: String,
    county: String,
    township: String,
    sector: Sector,
    level: Level,
    status: FindingStatus,
    supervised: bool,
    found_at: DateTime<Utc>,
    found_day: NaiveDate,
    closed_day: Option<NaiveDate>,
    inspectors: Vec<UserId>,
    inspector_names: Vec<String>,
    overdue: bool,
    description: String,
    place: String,
}

struct World {
    t: TestApp,
    i1: Device,
    i3: Device,
    leader: Device,
    admin: Device,
    team1: OrgId,
    team2: OrgId,
    bureau: OrgId,
    seeded: Vec<Seeded>,
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&china_offset()).date_naive()
}

fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china_offset()).date_naive()
}

fn expect_applied(response: &zhicha_core::protocol::PushResponse) {
    assert!(
        response.gap.is_none() && response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );
}

/// Seeds `SPECS` through the real push path: inspections and findings by the inspectors,
/// review by the team's leader (admin for team 2, which has no leader).
async fn world(backend: Backend) -> World {
    let t = TestApp::start(backend).await;
    let i1 = t.login("inspector1").await;
    let i2 = t.login("inspector2").await;
    let i3 = t.login("inspector3").await;
    let leader = t.login("leader1").await;
    let admin = t.login("admin").await;
    let bootstrap = t.get("/api/v1/bootstrap", &admin.token).await.json();
    let enterprises: Vec<Enterprise> =
        serde_json::from_value(bootstrap["enterprises"].clone()).unwrap();
    // Three enterprises in three different townships, each with a sector that has a pack.
    let mut chosen: Vec<Enterprise> = Vec::new();
    for e in enterprises {
        let has_pack = e
            .sectors
            .first()
            .is_some_and(|s| !packs::for_sector(*s).is_empty());
        if has_pack && chosen.iter().all(|c| c.township != e.township) {
            chosen.push(e);
        }
        if chosen.len() == 3 {
            break;
        }
    }
    assert_eq!(chosen.len(), 3, "the demo directory has three townships");
    let bureau = admin.user.org_id;
    let (team1, team2) = (i1.user.org_id, i3.user.org_id);
    let base = Utc::now() - Duration::hours(1);
    let mut seeded = Vec::new();
    for (n, s) in SPECS.iter().enumerate() {
        let device = match s.who {
            Who::I1 => &i1,
            Who::I2 => &i2,
            Who::I3 => &i3,
        };
        let reviewer = if s.who == Who::I3 { &admin } else { &leader };
        let enterprise = &chosen[s.ent];
        let sector = enterprise.sectors[0];
        let found_at = base - Duration::days(s.days_ago);
        let mut inspection = device.inspection(enterprise.id);
        inspection.packs = vec![packs::for_sector(sector)[0].pack_ref()];
        inspection.started_at = found_at - Duration::minutes(30);
        if s.who == Who::I1 {
            inspection.inspectors[1] = InspectorRef {
                user_id: i2.user.id,
                name: i2.user.display_name.clone(),
                certificate_no: i2.user.certificate_no.clone().unwrap_or_default(),
            };
        }
        let mut finding = device.finding(&inspection);
        finding.level = s.level;
        finding.created_at = found_at;
        finding.description = s.description.to_owned();
        finding.place = format!("部位{n}");
        finding.measure = Measure::Deadline;
        finding.deadline = Some(today() + Duration::days(s.deadline_in));
        if s.level == Level::Major {
            finding.photos = vec![PhotoHash::of_bytes(format!("evidence {n}").as_bytes())];
            finding.legal_basis = "《煤矿重大事故隐患判定标准》第八条".to_owned();
        }
        let id = finding.id.0;
        let mut batch = vec![
            device.save_inspection(&inspection, None),
            device.save_finding(&finding, None),
        ];
        if s.target != Target::Draft {
            batch.push(device.mutation(
                id,
                Some(1),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            ));
        }
        expect_applied(&t.push(device, &batch).await);
        let mut review: Vec<(&Device, MutationPayload)> = Vec::new();
        let status = match s.target {
            Target::Draft => FindingStatus::Draft,
            Target::Submitted => FindingStatus::Submitted,
            Target::Returned => {
                review.push((
                    reviewer,
                    MutationPayload::FindingReturn(ReturnPayload {
                        comment: "照片不清晰，请补拍".to_owned(),
                    }),
                ));
                FindingStatus::Returned
            }
            Target::Rectifying | Target::Verified | Target::Closed => {
                review.push((
                    reviewer,
                    MutationPayload::FindingConfirm(CommentPayload::default()),
                ));
                if s.supervised {
                    review.push((
                        reviewer,
                        MutationPayload::FindingSupervise(SupervisePayload {
                            supervised: true,
                            comment: "挂牌督办".to_owned(),
                        }),
                    ));
                }
                if s.target == Target::Rectifying {
                    FindingStatus::Rectifying
                } else {
                    review.push((
                        device,
                        MutationPayload::FindingReinspect(ReinspectPayload {
                            passed: true,
                            new_deadline: None,
                            inspection_id: None,
                            after_photos: vec![],
                            comment: String::new(),
                        }),
                    ));
                    if s.target == Target::Closed {
                        review.push((
                            reviewer,
                            MutationPayload::FindingClose(CommentPayload::default()),
                        ));
                        FindingStatus::Closed
                    } else {
                        FindingStatus::Verified
                    }
                }
            }
        };
        // The submit left the finding at rev 2; each review step adds one.
        for (rev, (by, payload)) in (2..).zip(review) {
            expect_applied(&t.push(by, &[by.mutation(id, Some(rev), &payload)]).await);
        }
        let mut inspectors: Vec<UserId> = inspection.inspectors.iter().map(|p| p.user_id).collect();
        inspectors.sort();
        seeded.push(Seeded {
            id: finding.id,
            team: device.user.org_id,
            enterprise: enterprise.id,
            enterprise_name: enterprise.name.clone(),
            county: enterprise.county.clone(),
            township: enterprise.township.clone(),
            sector,
            level: s.level,
            status,
            supervised: s.supervised,
            found_at,
            found_day: day_of(found_at),
            closed_day: (status == FindingStatus::Closed).then(today),
            inspectors,
            inspector_names: inspection
                .inspectors
                .iter()
                .map(|p| p.name.clone())
                .collect(),
            overdue: status == FindingStatus::Rectifying && s.deadline_in < 0,
            description: s.description.to_owned(),
            place: format!("部位{n}"),
        });
    }
    World {
        t,
        i1,
        i3,
        leader,
        admin,
        team1,
        team2,
        bureau,
        seeded,
    }
}

impl World {
    /// All ledger rows for `query`, following the cursor with `limit` rows per page; asserts
    /// `total` on every page.
    async fn ledger(&self, device: &Device, query: &FindingsQuery, limit: u32) -> Vec<FindingId> {
        let mut cursor = query.cursor.clone();
        let mut ids = Vec::new();
        let mut last: Option<(DateTime<Utc>, FindingId)> = None;
        loop {
            let q = FindingsQuery {
                cursor: cursor.clone(),
                limit: Some(limit),
                ..query.clone()
            };
            let reply = self
                .t
                .get(
                    &format!("/api/v1/findings?{}", q.to_query_string()),
                    &device.token,
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let page: FindingsPage = serde_json::from_slice(&reply.body).unwrap();
            assert!(page.rows.len() <= limit as usize);
            for row in &page.rows {
                let key = (row.found_at, row.id);
                if let Some(prev) = last {
                    assert!(key < prev, "ledger order is found_at desc, id desc");
                }
                last = Some(key);
                ids.push(row.id);
            }
            let all_so_far = ids.len();
            match page.next_cursor {
                Some(next) => {
                    assert_eq!(page.rows.len(), limit as usize);
                    cursor = Some(next);
                }
                None => {
                    if query.cursor.is_none() {
                        assert_eq!(page.total as usize, all_so_far, "total of {query:?}");
                    }
                    return ids;
                }
            }
        }
    }

    fn expected(&self, visible: impl Fn(&Seeded) -> bool, q: &FindingsQuery) -> Vec<FindingId> {
        let mut rows: Vec<&Seeded> = self
            .seeded
            .iter()
            .filter(|s| visible(s) && matches(s, q) && team_matches(self, s, q.team))
            .collect();
        rows.sort_by_key(|s| std::cmp::Reverse((s.found_at, s.id)));
        rows.into_iter().map(|s| s.id).collect()
    }
}

/// The model's answer to a ledger query.
fn matches(s: &Seeded, q: &FindingsQuery) -> bool {
    let text = q.q.as_deref().map(str::to_lowercase);
    (match q.status {
        Some(status) => s.status == status,
        None => s.status != FindingStatus::Draft,
    }) && q.county.as_ref().is_none_or(|c| *c == s.county)
        && q.township.as_ref().is_none_or(|t| *t == s.township)
        && q.sector.is_none_or(|x| x == s.sector)
        && q.level.is_none_or(|l| l == s.level)
        && q.inspector.is_none_or(|u| s.inspectors.contains(&u))
        && q.enterprise.is_none_or(|e| e == s.enterprise)
        && q.from.is_none_or(|d| s.found_day >= d)
        && q.to.is_none_or(|d| s.found_day <= d)
        && q.overdue.is_none_or(|o| o == s.overdue)
        && q.supervised.is_none_or(|v| v == s.supervised)
        && text.is_none_or(|t| {
            s.description.to_lowercase().contains(&t)
                || s.place.to_lowercase().contains(&t)
                || s.enterprise_name.to_lowercase().contains(&t)
        })
}

async fn every_ledger_filter_returns_exactly_the_matching_rows(backend: Backend) {
    let w = world(backend).await;
    let s = &w.seeded;
    let mut queries = vec![FindingsQuery::default()];
    let q = FindingsQuery::default;
    for status in FindingStatus::ALL {
        queries.push(FindingsQuery {
            status: Some(status),
            ..q()
        });
    }
    for level in [Level::General, Level::Major] {
        queries.push(FindingsQuery {
            level: Some(level),
            ..q()
        });
    }
    let sectors: BTreeSet<Sector> = s.iter().map(|x| x.sector).collect();
    assert!(sectors.len() >= 2, "the seed spans sectors");
    for sector in sectors {
        queries.push(FindingsQuery {
            sector: Some(sector),
            ..q()
        });
    }
    for x in s.iter().take(10) {
        queries.push(FindingsQuery {
            township: Some(x.township.clone()),
            ..q()
        });
        queries.push(FindingsQuery {
            enterprise: Some(x.enterprise),
            ..q()
        });
    }
    queries.push(FindingsQuery {
        county: Some(s[0].county.clone()),
        ..q()
    });
    queries.push(FindingsQuery {
        county: Some("不存在的旗县".into()),
        ..q()
    });
    for team in [w.team1, w.team2, w.bureau] {
        queries.push(FindingsQuery {
            team: Some(team),
            ..q()
        });
    }
    for user in [&w.i1, &w.i3, &w.leader] {
        queries.push(FindingsQuery {
            inspector: Some(user.user.id),
            ..q()
        });
    }
    // inspector2 took part in inspector1's inspections and recorded their own.
    queries.push(FindingsQuery {
        inspector: Some(
            s[0].inspectors
                .iter()
                .copied()
                .find(|u| *u != w.i1.user.id)
                .unwrap(),
        ),
        ..q()
    });
    let t = today();
    queries.push(FindingsQuery {
        from: Some(t - Duration::days(45)),
        to: Some(t - Duration::days(5)),
        ..q()
    });
    queries.push(FindingsQuery {
        from: Some(s[0].found_day),
        to: Some(s[0].found_day),
        ..q()
    });
    queries.push(FindingsQuery {
        to: Some(t - Duration::days(60)),
        ..q()
    });
    for flag in [true, false] {
        queries.push(FindingsQuery {
            overdue: Some(flag),
            ..q()
        });
        queries.push(FindingsQuery {
            supervised: Some(flag),
            ..q()
        });
    }
    for text in [
        "接地",
        "部位3",
        "100%_",
        "100%",
        "%",
        "_满",
        &s[7].enterprise_name[..],
    ] {
        queries.push(FindingsQuery {
            q: Some(text.to_owned()),
            ..q()
        });
    }
    queries.push(FindingsQuery {
        level: Some(Level::Major),
        status: Some(FindingStatus::Rectifying),
        overdue: Some(true),
        supervised: Some(true),
        team: Some(w.team1),
        ..q()
    });
    let mut non_empty = 0;
    for query in &queries {
        let got = w.ledger(&w.admin, query, 4).await;
        let want = w.expected(|_| true, query);
        assert_eq!(got, want, "filter {query:?}");
        non_empty += usize::from(!want.is_empty());
    }
    // The filters are not vacuous: most select something, and the overdue ones exactly two.
    assert!(
        non_empty * 4 > queries.len() * 3,
        "{non_empty} of {}",
        queries.len()
    );
    let overdue = w.expected(
        |_| true,
        &FindingsQuery {
            overdue: Some(true),
            ..q()
        },
    );
    assert_eq!(overdue.len(), 2);

    // A row carries what a review screen needs.
    let page: FindingsPage =
        w.t.get(
            &format!(
                "/api/v1/findings?{}",
                FindingsQuery {
                    status: Some(FindingStatus::Returned),
                    ..q()
                }
                .to_query_string()
            ),
            &w.admin.token,
        )
        .await
        .json()
        .pipe(serde_json::from_value)
        .unwrap();
    let returned = &page.rows[0];
    let model = s.iter().find(|x| x.id == returned.id).unwrap();
    assert_eq!(returned.last_comment.as_deref(), Some("照片不清晰，请补拍"));
    assert_eq!(returned.enterprise_name, model.enterprise_name);
    assert_eq!(returned.township, model.township);
    assert_eq!(returned.sector, Some(model.sector));
    assert_eq!(returned.team_id, w.team1);
    assert!(!returned.team_name.is_empty());
    assert_eq!(returned.rev, 3);
    let mut names: Vec<String> = returned.inspectors.iter().map(|p| p.name.clone()).collect();
    names.sort();
    let mut want_names = model.inspector_names.clone();
    want_names.sort();
    assert_eq!(names, want_names);
    let overdue_page: FindingsPage =
        w.t.get(
            &format!(
                "/api/v1/findings?{}",
                FindingsQuery {
                    overdue: Some(true),
                    level: Some(Level::Major),
                    team: Some(w.team2),
                    ..q()
                }
                .to_query_string()
            ),
            &w.admin.token,
        )
        .await
        .json()
        .pipe(serde_json::from_value)
        .unwrap();
    assert_eq!(overdue_page.rows.len(), 1);
    assert_eq!(overdue_page.rows[0].overdue_days, Some(5));
    assert!(overdue_page.rows[0].supervised);
    assert!(overdue_page.rows[0].closed_at.is_none());
    w.t.finish().await;
}

async fn paging_is_complete_and_stable(backend: Backend) {
    let w = world(backend).await;
    let all = w.expected(|_| true, &FindingsQuery::default());
    for limit in [1, 2, 3, 5, 500] {
        let got = w.ledger(&w.admin, &FindingsQuery::default(), limit).await;
        assert_eq!(got, all, "limit {limit}");
        let unique: BTreeSet<_> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "no duplicates");
    }
    // A page after a cursor never repeats the cursor's row, even for rows of the same instant.
    let same: Vec<&Seeded> = w
        .seeded
        .iter()
        .filter(|s| s.description.starts_with("同时发现"))
        .collect();
    assert_eq!(same[0].found_at, same[1].found_at);
    let upper = same.iter().map(|s| s.id).max().unwrap();
    let cursor = LedgerCursor {
        found_at: same[0].found_at,
        id: upper,
    };
    let page: FindingsPage =
        w.t.get(
            &format!("/api/v1/findings?limit=1&cursor={}", cursor.encode()),
            &w.admin.token,
        )
        .await
        .json()
        .pipe(serde_json::from_value)
        .unwrap();
    let lower = same.iter().map(|s| s.id).min().unwrap();
    assert_eq!(page.rows[0].id, lower);
    // New findings recorded while paging do not disturb the pages after the cursor.
    let first: FindingsPage =
        w.t.get("/api/v1/findings?limit=4", &w.admin.token)
            .await
            .json()
            .pipe(serde_json::from_value)
            .unwrap();
    let inspection = w.i1.inspection(w.seeded[0].enterprise);
    let finding = w.i1.finding(&inspection);
    let id = finding.id.0;
    expect_applied(
        &w.t.push(
            &w.i1,
            &[
                w.i1.save_inspection(&inspection, None),
                w.i1.save_finding(&finding, None),
                w.i1.mutation(
                    id,
                    Some(1),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
            ],
        )
        .await,
    );
    let rest = w
        .ledger(
            &w.admin,
            &FindingsQuery {
                cursor: first.next_cursor.clone(),
                ..FindingsQuery::default()
            },
            3,
        )
        .await;
    let mut joined: Vec<FindingId> = first.rows.iter().map(|r| r.id).collect();
    joined.extend(rest);
    assert_eq!(joined, all);
    assert_eq!(first.total as usize, all.len());
    w.t.finish().await;
}

fn stats_of<'a>(
    w: &'a World,
    visible: impl Fn(&Seeded) -> bool,
    q: &StatsQuery,
) -> Vec<&'a Seeded> {
    let fq = FindingsQuery {
        county: q.county.clone(),
        township: q.township.clone(),
        sector: q.sector,
        team: q.team,
        from: q.from,
        to: q.to,
        ..FindingsQuery::default()
    };
    w.seeded
        .iter()
        .filter(|s| visible(s) && matches(s, &fq) && team_matches(w, s, q.team))
        .collect()
}

fn team_matches(w: &World, s: &Seeded, team: Option<OrgId>) -> bool {
    match team {
        None => true,
        Some(t) if t == w.bureau => true,
        Some(t) => s.team == t,
    }
}

async fn get_stats(w: &World, device: &Device, q: &StatsQuery) -> StatsResponse {
    let reply =
        w.t.get(
            &format!("/api/v1/stats?{}", q.to_query_string()),
            &device.token,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

fn check_stats(w: &World, got: &StatsResponse, rows: &[&Seeded], q: &StatsQuery) {
    // Region × sector × level, open and closed.
    let mut cells: BTreeMap<(String, String, Sector, &str), (u64, u64)> = BTreeMap::new();
    for s in rows {
        let level = if s.level == Level::Major {
            "major"
        } else {
            "general"
        };
        let cell = cells
            .entry((s.county.clone(), s.township.clone(), s.sector, level))
            .or_default();
        if s.status == FindingStatus::Closed {
            cell.1 += 1;
        } else {
            cell.0 += 1;
        }
    }
    let got_cells: BTreeMap<(String, String, Sector, &str), (u64, u64)> = got
        .cells
        .iter()
        .map(|c| {
            let level = if c.level == Level::Major {
                "major"
            } else {
                "general"
            };
            (
                (
                    c.county.clone(),
                    c.township.clone(),
                    c.sector.unwrap(),
                    level,
                ),
                (c.open, c.closed),
            )
        })
        .collect();
    assert_eq!(got_cells, cells, "{q:?}");
    let count = |f: &dyn Fn(&Seeded) -> bool| rows.iter().filter(|s| f(s)).count() as u64;
    assert_eq!(got.total, rows.len() as u64);
    let confirmed = count(&|s| {
        matches!(
            s.status,
            FindingStatus::Rectifying | FindingStatus::Verified | FindingStatus::Closed
        )
    });
    let rectified = count(&|s| matches!(s.status, FindingStatus::Verified | FindingStatus::Closed));
    assert_eq!(got.confirmed, confirmed);
    assert_eq!(got.rectified, rectified);
    assert_eq!(
        got.rectification_rate,
        (confirmed > 0).then(|| rectified as f64 / confirmed as f64)
    );
    assert_eq!(got.overdue, count(&|s| s.overdue));

    // Findings per inspector (inspections are checked by the caller, which knows the drafts).
    let mut per: BTreeMap<UserId, u64> = BTreeMap::new();
    for s in rows {
        for u in &s.inspectors {
            *per.entry(*u).or_default() += 1;
        }
    }
    let got_per: BTreeMap<UserId, u64> = got
        .by_inspector
        .iter()
        .filter(|p| p.findings > 0)
        .map(|p| (p.user_id, p.findings))
        .collect();
    assert_eq!(got_per, per);
    let _ = w;
}

async fn statistics_match_the_seeded_findings(backend: Backend) {
    let w = world(backend).await;
    let not_draft = |s: &Seeded| s.status != FindingStatus::Draft;
    let t = today();
    let queries = [
        StatsQuery::default(),
        StatsQuery {
            team: Some(w.team1),
            ..StatsQuery::default()
        },
        StatsQuery {
            township: Some(w.seeded[7].township.clone()),
            ..StatsQuery::default()
        },
        StatsQuery {
            sector: Some(w.seeded[0].sector),
            county: Some(w.seeded[0].county.clone()),
            ..StatsQuery::default()
        },
        StatsQuery {
            from: Some(t - Duration::days(45)),
            to: Some(t),
            ..StatsQuery::default()
        },
    ];
    for q in &queries {
        let got = get_stats(&w, &w.admin, q).await;
        let rows = stats_of(&w, not_draft, q);
        check_stats(&w, &got, &rows, q);
    }

    // Inspections per inspector: every seeded inspection, drafts' included.
    let all = get_stats(&w, &w.admin, &StatsQuery::default()).await;
    let mut inspections: BTreeMap<UserId, u64> = BTreeMap::new();
    for s in &w.seeded {
        for u in &s.inspectors {
            *inspections.entry(*u).or_default() += 1;
        }
    }
    let got: BTreeMap<UserId, u64> = all
        .by_inspector
        .iter()
        .map(|p| (p.user_id, p.inspections))
        .collect();
    assert_eq!(got, inspections);
    let i1 = all
        .by_inspector
        .iter()
        .find(|p| p.user_id == w.i1.user.id)
        .unwrap();
    assert_eq!(i1.name, w.i1.user.display_name);

    // The 重大隐患 series: months from `from` to now; found, closed, open at month end.
    let from = t - Duration::days(120);
    let q = StatsQuery {
        from: Some(from),
        ..StatsQuery::default()
    };
    let got = get_stats(&w, &w.admin, &q).await;
    let majors: Vec<&Seeded> = w
        .seeded
        .iter()
        .filter(|s| s.level == Level::Major && not_draft(s))
        .collect();
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    assert_eq!(got.major_monthly.first().unwrap().month, month(from));
    assert_eq!(got.major_monthly.last().unwrap().month, month(t));
    for point in &got.major_monthly {
        let found = majors
            .iter()
            .filter(|s| month(s.found_day) == point.month)
            .count() as u64;
        let closed = majors
            .iter()
            .filter(|s| s.closed_day.map(month).as_deref() == Some(point.month.as_str()))
            .count() as u64;
        let open = majors
            .iter()
            .filter(|s| {
                month(s.found_day) <= point.month
                    && s.closed_day.is_none_or(|c| month(c) > point.month)
            })
            .count() as u64;
        assert_eq!(
            (point.found, point.closed, point.open_at_end),
            (found, closed, open),
            "{point:?}"
        );
    }
    assert_eq!(
        got.major_monthly.iter().map(|p| p.found).sum::<u64>(),
        majors.len() as u64
    );
    assert_eq!(got.major_monthly.last().unwrap().open_at_end, 2);
    w.t.finish().await;
}

async fn a_leader_sees_only_their_org_subtree(backend: Backend) {
    let w = world(backend).await;
    let team1 = w.team1;
    let mine = w.ledger(&w.leader, &FindingsQuery::default(), 50).await;
    assert_eq!(
        mine,
        w.expected(|s| s.team == team1, &FindingsQuery::default())
    );
    assert!(!mine.is_empty());
    // Asking for another team, or for the bureau above, is refused.
    for team in [w.team2, w.bureau] {
        let q = FindingsQuery {
            team: Some(team),
            ..FindingsQuery::default()
        };
        for path in ["findings", "stats", "ledger.xlsx", "ledger.csv"] {
            let reply =
                w.t.get(
                    &format!("/api/v1/{path}?{}", q.to_query_string()),
                    &w.leader.token,
                )
                .await;
            reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    // Other filters never reach outside the subtree.
    let other_enterprise = FindingsQuery {
        enterprise: Some(w.seeded[7].enterprise),
        ..FindingsQuery::default()
    };
    assert!(w.ledger(&w.leader, &other_enterprise, 10).await.is_empty());
    let stats = get_stats(&w, &w.leader, &StatsQuery::default()).await;
    let rows = stats_of(
        &w,
        |s| s.team == team1 && s.status != FindingStatus::Draft,
        &StatsQuery::default(),
    );
    check_stats(&w, &stats, &rows, &StatsQuery::default());
    assert!(stats.by_inspector.iter().all(|p| p.user_id != w.i3.user.id));
    // The export holds the same rows.
    let csv = w.t.get("/api/v1/ledger.csv", &w.leader.token).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = String::from_utf8(csv.body.to_vec()).unwrap();
    assert_eq!(text.lines().count(), mine.len() + 1);
    assert!(!text.contains(&w.seeded[7].description));
    // The admin sees everything.
    let all = w.ledger(&w.admin, &FindingsQuery::default(), 50).await;
    assert_eq!(all, w.expected(|_| true, &FindingsQuery::default()));
    w.t.finish().await;
}

async fn an_inspector_cannot_use_the_ledger_or_statistics(backend: Backend) {
    let w = world(backend).await;
    for device in [&w.i1, &w.i3] {
        for path in [
            "/api/v1/findings",
            "/api/v1/findings?status=submitted",
            "/api/v1/stats",
            "/api/v1/ledger.xlsx",
            "/api/v1/ledger.csv",
        ] {
            w.t.get(path, &device.token)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let reply =
        w.t.call(axum::http::Method::GET, "/api/v1/findings", None, None)
            .await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    w.t.finish().await;
}

async fn bad_ledger_queries_answer_400(backend: Backend) {
    let t = TestApp::start(backend).await;
    let leader = t.login("leader1").await;
    let long = "隐".repeat(101);
    let cases = [
        ("level=bogus", "invalid_query"),
        ("status=open", "invalid_query"),
        ("sector=mining", "invalid_query"),
        ("from=2026-13-01", "invalid_query"),
        ("to=yesterday", "invalid_query"),
        ("overdue=maybe", "invalid_query"),
        ("supervised=2", "invalid_query"),
        ("limit=-1", "invalid_query"),
        ("limit=many", "invalid_query"),
        ("team=not-a-uuid", "invalid_query"),
        ("inspector=1", "invalid_query"),
        ("enterprise=%00", "invalid_query"),
        ("cursor=garbage", "invalid"),
        ("cursor=1.2", "invalid"),
        ("from=2026-03-02&to=2026-03-01", "invalid"),
        ("team=0190d6a0-0000-7000-8000-000000000000", "invalid"),
    ];
    for (query, code) in cases {
        // The exports ignore the cursor: they hold every matching row.
        let paths: &[&str] = if query.starts_with("cursor") {
            &["findings"]
        } else {
            &["findings", "ledger.xlsx", "ledger.csv"]
        };
        for path in paths {
            t.get(&format!("/api/v1/{path}?{query}"), &leader.token)
                .await
                .assert_error(StatusCode::BAD_REQUEST, code);
        }
    }
    let q = format!("q={}", zhicha_core::ledger::percent_encode(&long));
    t.get(&format!("/api/v1/findings?{q}"), &leader.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    for query in [
        "from=2026-13-01",
        "from=2026-03-02&to=2026-03-01",
        "sector=x",
        "team=1",
    ] {
        let reply = t
            .get(&format!("/api/v1/stats?{query}"), &leader.token)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
    }
    // Empty values are no filter; an unknown parameter is ignored.
    let reply = t
        .get(
            "/api/v1/findings?county=&township=&q=&cursor=&other=1",
            &leader.token,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    t.finish().await;
}

async fn the_xlsx_export_has_chinese_headers_real_dates_and_status_labels(backend: Backend) {
    let w = world(backend).await;
    let reply = w.t.get("/api/v1/ledger.xlsx", &w.admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = reply.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".xlsx"),
        "{disposition}"
    );
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body.to_vec())).unwrap();
    let sheet = book.worksheet_range("隐患台账").unwrap();
    let header: Vec<String> = (0..18)
        .map(|c| sheet.get((0, c)).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(header, zhicha_server::routes::ledger::HEADERS);
    let expected = w.expected(|_| true, &FindingsQuery::default());
    assert_eq!(sheet.height(), expected.len() + 1, "one row per finding");
    // Rows follow the ledger order; find the closed major one and check its cells.
    let closed = w
        .seeded
        .iter()
        .find(|s| s.status == FindingStatus::Closed && s.level == Level::Major)
        .unwrap();
    let r = 1 + expected.iter().position(|id| *id == closed.id).unwrap() as u32;
    let cell = |c: u32| {
        sheet
            .get((r as usize, c as usize))
            .cloned()
            .unwrap_or(Data::Empty)
    };
    assert_eq!(cell(0), Data::Float(f64::from(r)));
    assert_eq!(cell(1).to_string(), closed.enterprise_name);
    assert_eq!(cell(5).to_string(), closed.sector.label_zh());
    assert_eq!(cell(6).to_string(), closed.description);
    assert_eq!(cell(8).to_string(), "重大隐患");
    assert_eq!(cell(12).to_string(), "已销号");
    assert_eq!(cell(13).to_string(), "否");
    let Data::DateTime(found) = cell(14) else {
        panic!("发现日期 is an Excel date, got {:?}", cell(14));
    };
    // Excel's serial day numbers count from 1899-12-30.
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    assert_eq!(
        epoch + Duration::days(found.as_f64() as i64),
        closed.found_day
    );
    let Data::DateTime(closed_on) = cell(17) else {
        panic!("销号日期 is an Excel date, got {:?}", cell(17));
    };
    assert_eq!(epoch + Duration::days(closed_on.as_f64() as i64), today());
    assert!(matches!(cell(11), Data::DateTime(_)), "整改期限 is a date");
    let names = cell(15).to_string();
    assert!(
        closed.inspector_names.iter().all(|n| names.contains(n)),
        "{names}"
    );
    // Filters apply to the export too.
    let reply =
        w.t.get(
            "/api/v1/ledger.xlsx?level=major&status=closed",
            &w.admin.token,
        )
        .await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(reply.body.to_vec())).unwrap();
    let sheet = book.worksheet_range("隐患台账").unwrap();
    assert_eq!(sheet.height(), 2);
    w.t.finish().await;
}

async fn the_csv_export_has_a_bom_and_one_row_per_finding(backend: Backend) {
    let w = world(backend).await;
    let reply =
        w.t.get("/api/v1/ledger.csv?overdue=true", &w.admin.token)
            .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(reply.body.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let mut reader = csv::Reader::from_reader(&reply.body[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, zhicha_server::routes::ledger::HEADERS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let want = w.expected(
        |_| true,
        &FindingsQuery {
            overdue: Some(true),
            ..FindingsQuery::default()
        },
    );
    assert_eq!(rows.len(), want.len());
    for (i, (row, id)) in rows.iter().zip(&want).enumerate() {
        let s = w.seeded.iter().find(|s| s.id == *id).unwrap();
        assert_eq!(&row[0], (i + 1).to_string());
        assert_eq!(&row[6], s.description);
        assert!(row[12].starts_with("整改中（逾期"), "{}", &row[12]);
        assert_eq!(&row[14], s.found_day.to_string());
    }
    w.t.finish().await;
}

/// `value.pipe(f)`: applies `f`, for reading chains top to bottom.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl<T> Pipe for T {}
