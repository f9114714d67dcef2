//! The region the `region` benchmark loads: a city bureau over 10 county bureaus with 2–3 teams
//! each, their accounts and enterprise directories, and a deterministic generator of their
//! inspections and findings over 2022-01-01 until today, produced a batch at a time.

use chrono::{DateTime, TimeZone as _, Utc};
use zhicha_core::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash, UserId};
use zhicha_core::model::{
    Enterprise, Finding, FindingStatus, GeoPoint, HistoryEntry, Inspection, InspectionKind,
    InspectorRef, Level, Measure, OrgUnit, Role, Sector, User,
};
use zhicha_core::packs;
use zhicha_server::operator::seed::DEMO_PASSWORD;

use crate::common::TestApp;

pub const ENTERPRISES_PER_COUNTY: usize = 300;
pub const INSPECTORS_PER_TEAM: usize = 5;

/// The counties (旗县区) of the region and their document codes.
pub const COUNTIES: [(&str, &str); 10] = [
    ("达拉特旗", "达旗应急"),
    ("准格尔旗", "准旗应急"),
    ("鄂托克前旗", "鄂前旗应急"),
    ("鄂托克旗", "鄂旗应急"),
    ("杭锦旗", "杭旗应急"),
    ("乌审旗", "乌审应急"),
    ("伊金霍洛旗", "伊旗应急"),
    ("东胜区", "东胜应急"),
    ("康巴什区", "康巴什应急"),
    ("高新区", "高新应急"),
];

pub const TOWNSHIPS: [&str; 6] = ["城区街道", "经济开发区", "东镇", "西镇", "南镇", "北镇"];

pub const DESCRIPTIONS: [&str; 16] = [
    "安全出口被货物堵塞",
    "配电箱未可靠接地",
    "灭火器压力不足",
    "主通风机无备用电源",
    "储罐区防火堤破损",
    "特种作业人员无证上岗",
    "应急预案未按期演练",
    "动火作业未办理审批手续",
    "有限空间作业未检测气体",
    "消防通道被占用",
    "燃气管道无防腐措施",
    "脚手架连墙件缺失",
    "安全警示标志缺失",
    "可燃气体报警器未定期检定",
    "隐患排查记录不完整",
    "从业人员未经安全培训",
];

/// A small deterministic generator (xorshift), so both backends get the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One county: its teams with their inspectors, and its enterprise directory.
pub struct County {
    pub name: &'static str,
    pub teams: Vec<Vec<User>>,
    pub enterprises: Vec<Enterprise>,
}

/// The region's organisation and directories, as seeded.
pub struct Region {
    pub counties: Vec<County>,
}

/// Creates the city bureau, the county bureaus with 2–3 teams each, their accounts (all with
/// the demo password) and enterprise directories.
pub async fn seed_region(t: &TestApp, rng: &mut Rng) -> Region {
    let store = &t.state.store;
    let hash = t.state.passwords.hash(DEMO_PASSWORD).await.unwrap();
    let city = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "鄂尔多斯市应急管理局".to_owned(),
        doc_code: "鄂应急".to_owned(),
        region: "鄂尔多斯市".to_owned(),
        review_authority: String::new(),
        court: String::new(),
    };
    store.insert_org(&city).await.unwrap();
    let person = |username: String, name: String, role: Role, org_id: OrgId| User {
        id: UserId::new(),
        username,
        display_name: name,
        role,
        org_id,
        certificate_no: Some(format!("1506{:04}", rng_cert(org_id))),
    };
    let leader = person(
        "region_leader".into(),
        "市局领导".into(),
        Role::Leader,
        city.id,
    );
    store.insert_user(&leader, &hash).await.unwrap();
    let mut counties = Vec::new();
    for (c, (name, doc_code)) in COUNTIES.iter().enumerate() {
        let bureau = OrgUnit {
            id: OrgId::new(),
            parent_id: Some(city.id),
            name: format!("{name}应急管理局"),
            doc_code: (*doc_code).to_owned(),
            region: (*name).to_owned(),
            review_authority: String::new(),
            court: String::new(),
        };
        store.insert_org(&bureau).await.unwrap();
        for (username, role) in [
            (format!("c{c}_admin"), Role::Admin),
            (format!("c{c}_leader"), Role::Leader),
        ] {
            let user = person(username, format!("{name}负责人"), role, bureau.id);
            store.insert_user(&user, &hash).await.unwrap();
        }
        let mut teams = Vec::new();
        for k in 0..2 + c % 2 {
            let team = OrgUnit {
                id: OrgId::new(),
                parent_id: Some(bureau.id),
                name: format!("综合行政执法{}中队", ["一", "二", "三"][k]),
                doc_code: (*doc_code).to_owned(),
                region: (*name).to_owned(),
                review_authority: String::new(),
                court: String::new(),
            };
            store.insert_org(&team).await.unwrap();
            let mut inspectors = Vec::new();
            for i in 0..INSPECTORS_PER_TEAM {
                let user = person(
                    format!("c{c}_t{k}_i{i}"),
                    format!("执法人员{c}{k}{i}"),
                    Role::Inspector,
                    team.id,
                );
                store.insert_user(&user, &hash).await.unwrap();
                inspectors.push(user);
            }
            teams.push(inspectors);
        }
        let prefix = name;
        let mut enterprises = Vec::new();
        for e in 0..ENTERPRISES_PER_COUNTY {
            let township = format!("{prefix}{}", TOWNSHIPS[rng.below(TOWNSHIPS.len())]);
            let mut sectors = vec![Sector::ALL[rng.below(Sector::ALL.len())]];
            if rng.below(4) == 0 && sectors[0] != Sector::Fire {
                sectors.push(Sector::Fire);
            }
            let enterprise = Enterprise {
                key: false,
                grade: None,
                id: EnterpriseId::new(),
                org_id: bureau.id,
                name: format!("{prefix}第{e}号生产经营单位有限公司"),
                credit_code: Some(format!("911506{c:02}REG{e:07}")),
                address: format!("内蒙古自治区鄂尔多斯市{name}{township}{e}号"),
                county: (*name).to_owned(),
                township,
                sectors,
                subsectors: vec![],
                legal_representative: "法定代表人".to_owned(),
                contact_phone: "0477-0000000".to_owned(),
                location: Some(GeoPoint {
                    lat: 39.0 + rng.below(200) as f64 / 100.0,
                    lon: 108.0 + rng.below(300) as f64 / 100.0,
                    accuracy_m: None,
                }),
                ad_hoc: false,
                merged_into: None,
            };
            store.upsert_enterprise(&enterprise).await.unwrap();
            enterprises.push(enterprise);
        }
        counties.push(County {
            name,
            teams,
            enterprises,
        });
    }
    Region { counties }
}

/// A certificate number derived from an id (deterministic enough, unique enough).
pub fn rng_cert(org: OrgId) -> u16 {
    (org.0.as_u128() % 10_000) as u16
}

/// Generates the region's inspections and findings a batch at a time.
pub struct Generator {
    rng: Rng,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    pub made: usize,
    photo: u64,
}

impl Generator {
    pub fn new() -> Self {
        let start = chrono::FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2022, 1, 1, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        Self {
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            start,
            now: Utc::now(),
            made: 0,
            photo: 0,
        }
    }

    /// Inspections with about `n` findings (never more than `total` overall).
    pub fn batch(
        &mut self,
        region: &Region,
        n: usize,
        total: usize,
    ) -> (Vec<Inspection>, Vec<Finding>) {
        let rng = &mut self.rng;
        let span = (self.now - self.start).num_minutes() as usize;
        let mut inspections = Vec::new();
        let mut findings = Vec::with_capacity(n);
        while findings.len() < n && self.made < total {
            let county = &region.counties[rng.below(region.counties.len())];
            let team = &county.teams[rng.below(county.teams.len())];
            let who = &team[rng.below(team.len())];
            let mate = &team[(team.iter().position(|u| u.id == who.id).unwrap() + 1) % team.len()];
            let enterprise = &county.enterprises[rng.below(county.enterprises.len())];
            let pack = enterprise
                .sectors
                .iter()
                .find_map(|s| packs::for_sector(*s).first().map(|p| p.pack_ref()));
            let started_at = self.start + chrono::Duration::minutes(rng.below(span) as i64);
            let inspection = Inspection {
                entry: Default::default(),
                id: InspectionId::new(),
                org_id: who.org_id,
                enterprise_id: enterprise.id,
                kind: InspectionKind::Routine,
                packs: pack.into_iter().collect(),
                inspectors: [who, mate]
                    .iter()
                    .map(|u| InspectorRef {
                        user_id: u.id,
                        name: u.display_name.clone(),
                        certificate_no: u.certificate_no.clone().unwrap_or_default(),
                    })
                    .collect(),
                created_by: who.id,
                started_at,
                check_in: None,
                places: "生产区".to_owned(),
                item_results: vec![],
                summary: String::new(),
                finished_at: None,
                enterprise_signature: None,
                documents: vec![],
                reinspected_findings: vec![],
                fire_venues: vec![],
                inspector_signatures: vec![],
                recording: None,
                corrections: vec![],
            };
            for k in 0..1 + rng.below(6) {
                if self.made >= total {
                    break;
                }
                let created_at = (started_at + chrono::Duration::minutes(5 * k as i64 + 5))
                    .min(self.now - chrono::Duration::minutes(1));
                let level = if rng.below(20) == 0 {
                    Level::Major
                } else {
                    Level::General
                };
                let age_days = (self.now - created_at).num_days();
                // Old findings are almost all closed, a few still rectifying (so overdue);
                // recent ones are spread over the whole workflow.
                let status = if age_days > 90 {
                    match rng.below(100) {
                        0..=2 => FindingStatus::Rectifying,
                        3 => FindingStatus::Verified,
                        4 => FindingStatus::Submitted,
                        _ => FindingStatus::Closed,
                    }
                } else {
                    match rng.below(100) {
                        0..=4 => FindingStatus::Draft,
                        5..=19 => FindingStatus::Submitted,
                        20..=22 => FindingStatus::Returned,
                        23..=67 => FindingStatus::Rectifying,
                        68..=77 => FindingStatus::Verified,
                        _ => FindingStatus::Closed,
                    }
                };
                let deadline =
                    created_at.date_naive() + chrono::Days::new(rng.below(54) as u64 + 7);
                let history = if status == FindingStatus::Closed {
                    let at = (created_at + chrono::Duration::days(rng.below(60) as i64 + 1))
                        .min(self.now);
                    vec![HistoryEntry {
                        at,
                        by: who.id,
                        action: "close".to_owned(),
                        from: FindingStatus::Verified,
                        to: FindingStatus::Closed,
                        comment: String::new(),
                    }]
                } else {
                    vec![]
                };
                self.photo += 1;
                self.made += 1;
                findings.push(Finding {
                    id: FindingId::new(),
                    inspection_id: inspection.id,
                    enterprise_id: enterprise.id,
                    org_id: inspection.org_id,
                    item_id: None,
                    description: DESCRIPTIONS[rng.below(DESCRIPTIONS.len())].to_owned(),
                    place: format!("{}号车间", rng.below(30) + 1),
                    level,
                    legal_basis: "《中华人民共和国安全生产法》第四十一条".to_owned(),
                    basis_unverified: false,
                    measure: Measure::Deadline,
                    deadline: Some(deadline),
                    photos: vec![PhotoHash::of_bytes(&self.photo.to_le_bytes())],
                    after_photos: vec![],
                    status,
                    supervised: level == Level::Major && rng.below(3) == 0,
                    created_by: who.id,
                    created_at,
                    history,
                    corrections: vec![],
                });
            }
            inspections.push(inspection);
        }
        (inspections, findings)
    }
}
