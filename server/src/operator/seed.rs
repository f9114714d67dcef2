//! Demo data: the 达拉特旗 bureau with two teams, fictional enterprises in real places of the
//! region across every sector, the demo accounts (all with the password `zhicha-demo`) and,
//! for `serve --demo`, a spread of inspections and findings pushed through the real sync path,
//! with their photos stored as a phone's upload would store them (images labelled 演示照片 ·
//! 非现场实拍, so nobody mistakes them for evidence).

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use chrono::{Duration, Utc};
use zhicha_core::ids::{
    DeviceId, EnterpriseId, FindingId, InspectionId, MutationId, OrgId, UserId,
};
use zhicha_core::model::{
    CheckIn, Enterprise, Finding, FindingStatus, GeoPoint, Inspection, InspectionKind,
    InspectorRef, Level, Measure, OrgUnit, Role, Sector, Subsector, User,
};
use zhicha_core::packs;
use zhicha_core::protocol::{
    AckStatus, CommentPayload, Mutation, MutationPayload, ReinspectPayload, ReturnPayload,
    SupervisePayload,
};
use zhicha_core::time::china_date;

use super::demo_hazards::demo_hazards;
use super::demo_photos::{DEMO_AFTER, DEMO_BEFORE, demo_photo};
use crate::Store;
use crate::auth::Passwords;
use crate::db::sync::Author;
use crate::photos::PhotoStore;
use crate::scope::Scope;

/// The password of every demo account.
pub use zhicha_core::protocol::DEMO_PASSWORD;

/// The demo accounts: user name, display name, role, team (0 = bureau, 1, 2), certificate.
pub const DEMO_ACCOUNTS: [(&str, &str, Role, usize, Option<&str>); 5] = [
    ("inspector1", "王建军", Role::Inspector, 1, Some("15062101")),
    ("inspector2", "李海燕", Role::Inspector, 1, Some("15062102")),
    ("leader1", "赵志刚", Role::Leader, 1, Some("15062100")),
    ("inspector3", "刘晓东", Role::Inspector, 2, Some("15062201")),
    ("admin", "系统管理员", Role::Admin, 0, None),
];

/// Fictional enterprises: name, credit code, county, township, address, sectors, subsectors,
/// legal representative, lat, lon.
type DemoEnterprise = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [Sector],
    &'static [Subsector],
    &'static str,
    f64,
    f64,
);

const DEMO_ENTERPRISES: [DemoEnterprise; 14] = [
    (
        "达拉特旗瑞丰煤炭有限责任公司",
        "91150621DEMO000011",
        "达拉特旗",
        "白泥井镇",
        "白泥井镇东部矿区",
        &[Sector::Coal],
        &[Subsector::CoalUnderground],
        "孙立新",
        40.29,
        110.35,
    ),
    (
        "达拉特旗金川露天煤业有限公司",
        "91150621DEMO000029",
        "达拉特旗",
        "吉格斯太镇",
        "吉格斯太镇南部露天矿区",
        &[Sector::Coal],
        &[Subsector::CoalOpenPit],
        "周广顺",
        40.21,
        110.62,
    ),
    (
        "达拉特旗北辰砂石建材有限公司",
        "91150621DEMO000037",
        "达拉特旗",
        "昭君镇",
        "昭君镇西侧采石场",
        &[Sector::NonCoalMine],
        &[Subsector::MineOpenPit],
        "马振华",
        40.36,
        109.52,
    ),
    (
        "达拉特旗恒岩尾矿库运营有限公司",
        "91150621DEMO000045",
        "达拉特旗",
        "恩格贝镇",
        "恩格贝镇北沟尾矿库",
        &[Sector::NonCoalMine],
        &[Subsector::TailingsPond],
        "高永明",
        40.38,
        109.37,
    ),
    (
        "鄂尔多斯市华晟精细化工有限公司",
        "91150621DEMO000053",
        "达拉特旗",
        "达拉特经济开发区",
        "达拉特经济开发区化工园区纬三路",
        &[Sector::HazardousChemicals],
        &[],
        "陈国栋",
        40.43,
        110.08,
    ),
    (
        "达拉特旗顺达加油站",
        "91150621DEMO000061",
        "达拉特旗",
        "树林召镇",
        "树林召镇锡尼布拉格街与210国道交汇处",
        &[Sector::HazardousChemicals, Sector::Fire],
        &[],
        "韩玉梅",
        40.39,
        109.98,
    ),
    (
        "达拉特旗万佳福购物广场有限公司",
        "91150621DEMO000079",
        "达拉特旗",
        "树林召镇",
        "树林召镇平原大街",
        &[Sector::Fire],
        &[],
        "杨春来",
        40.40,
        110.03,
    ),
    (
        "达拉特旗康和城市燃气有限公司",
        "91150621DEMO000087",
        "达拉特旗",
        "树林召镇",
        "树林召镇工业路燃气门站",
        &[Sector::UrbanGas],
        &[],
        "吴海东",
        40.41,
        110.01,
    ),
    (
        "鄂尔多斯市宏基建设工程有限公司（新城住宅项目部）",
        "91150621DEMO000095",
        "达拉特旗",
        "树林召镇",
        "树林召镇新城区二期项目工地",
        &[Sector::Construction],
        &[],
        "郭明亮",
        40.38,
        110.05,
    ),
    (
        "达拉特旗恒昌铝型材加工厂",
        "91150621DEMO000100",
        "达拉特旗",
        "王爱召镇",
        "王爱召镇工业集中区",
        &[Sector::IndustryTrade],
        &[],
        "徐建平",
        40.35,
        110.24,
    ),
    (
        "达拉特旗丰穗粮油加工有限公司",
        "91150621DEMO000118",
        "达拉特旗",
        "中和西镇",
        "中和西镇乡镇工业园",
        &[Sector::IndustryTrade, Sector::Fire],
        &[],
        "张桂兰",
        40.33,
        109.24,
    ),
    (
        "内蒙古澄泓新材料有限公司",
        "91150623DEMO000126",
        "鄂托克前旗",
        "上海庙经济开发区",
        "上海庙经济开发区煤化工园区",
        &[Sector::HazardousChemicals],
        &[],
        "罗振宇",
        38.28,
        106.95,
    ),
    (
        "乌审旗远航能源化工有限公司",
        "91150626DEMO000134",
        "乌审旗",
        "苏里格经济开发区",
        "苏里格经济开发区图克工业园",
        &[Sector::HazardousChemicals, Sector::UrbanGas],
        &[],
        "白永刚",
        39.02,
        109.23,
    ),
    (
        "达拉特旗展旦召牧光物流仓储有限公司",
        "91150621DEMO000142",
        "达拉特旗",
        "展旦召苏木",
        "展旦召苏木物流园区",
        &[Sector::IndustryTrade, Sector::Fire],
        &[],
        "其其格",
        40.45,
        109.71,
    ),
];

/// What `demo` created, for printing.
#[derive(Debug)]
pub struct DemoSummary {
    pub bureau: OrgUnit,
    pub teams: [OrgUnit; 2],
    pub users: Vec<User>,
    pub enterprises: usize,
}

/// Seeds the demo bureau. Callers check first that the database is empty.
pub async fn demo(store: &Store, passwords: &Passwords) -> anyhow::Result<DemoSummary> {
    let bureau = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "达拉特旗应急管理局".to_owned(),
        doc_code: "达旗应急".to_owned(),
        region: "达拉特旗".to_owned(),
        review_authority: "达拉特旗人民政府".to_owned(),
        court: "达拉特旗人民法院".to_owned(),
    };
    // The teams' rights notices name the bureau's (empty: inherited).
    let team = |name: &str| OrgUnit {
        id: OrgId::new(),
        parent_id: Some(bureau.id),
        name: name.to_owned(),
        doc_code: "达旗应急".to_owned(),
        region: "达拉特旗".to_owned(),
        review_authority: String::new(),
        court: String::new(),
    };
    let teams = [team("综合行政执法一中队"), team("综合行政执法二中队")];
    store.insert_org(&bureau).await?;
    for t in &teams {
        store.insert_org(t).await?;
    }
    let hash = passwords.hash(DEMO_PASSWORD).await?;
    let mut users = Vec::new();
    for (username, name, role, unit, cert) in DEMO_ACCOUNTS {
        let org_id = if unit == 0 {
            bureau.id
        } else {
            teams[unit - 1].id
        };
        let user = User {
            id: UserId::new(),
            username: username.to_owned(),
            display_name: name.to_owned(),
            role,
            org_id,
            certificate_no: cert.map(str::to_owned),
        };
        store.insert_user(&user, &hash).await?;
        users.push(user);
    }
    for (name, code, county, township, address, sectors, subsectors, legal, lat, lon) in
        DEMO_ENTERPRISES
    {
        let (key, grade) = super::demo_plans::demo_class(code);
        let enterprise = Enterprise {
            key,
            grade,
            id: EnterpriseId::new(),
            org_id: bureau.id,
            name: name.to_owned(),
            credit_code: Some(code.to_owned()),
            address: format!("内蒙古自治区鄂尔多斯市{county}{address}"),
            county: county.to_owned(),
            township: township.to_owned(),
            sectors: sectors.to_vec(),
            subsectors: subsectors.to_vec(),
            legal_representative: legal.to_owned(),
            contact_phone: "0477-0000000".to_owned(),
            location: Some(GeoPoint {
                lat,
                lon,
                accuracy_m: None,
            }),
            ad_hoc: false,
            merged_into: None,
        };
        store.upsert_enterprise(&enterprise).await?;
    }
    Ok(DemoSummary {
        bureau,
        teams,
        users,
        enterprises: DEMO_ENTERPRISES.len(),
    })
}

impl DemoSummary {
    /// The lines printed at start so a tester can log in.
    pub fn accounts_text(&self) -> String {
        let mut text = format!(
            "演示数据已创建：{}（{}、{}）\n演示账号（密码均为 {DEMO_PASSWORD}）：\n",
            self.bureau.name, self.teams[0].name, self.teams[1].name
        );
        for user in &self.users {
            let unit = if user.org_id == self.bureau.id {
                &self.bureau.name
            } else if user.org_id == self.teams[0].id {
                &self.teams[0].name
            } else {
                &self.teams[1].name
            };
            text.push_str(&format!(
                "  {:<11} {} · {} · {}\n",
                user.username,
                user.display_name,
                user.role.label_zh(),
                unit
            ));
        }
        text
    }
}

/// Where a demo finding ends up.
#[derive(Clone, Copy, PartialEq)]
enum DemoOutcome {
    Submitted,
    Returned,
    Rectifying,
    Overdue,
    Verified,
    Closed,
}

/// A device of a demo user that pushes through the sync path like the PWA does.
struct DemoDevice<'a> {
    user: &'a User,
    id: DeviceId,
    seq: u64,
}

impl DemoDevice<'_> {
    fn mutation(
        &mut self,
        entity: uuid::Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> Mutation {
        self.seq += 1;
        Mutation::new(MutationId::new(), self.seq, entity, base_rev, payload)
    }
}

async fn push_all(
    store: &Store,
    orgs: &[OrgUnit],
    device: &mut DemoDevice<'_>,
    mutations: Vec<Mutation>,
) -> anyhow::Result<()> {
    let scope = Scope::of(device.user, orgs, false);
    let author = Author::new(device.user, &scope, orgs);
    let response = store
        .push(&author, device.id, &mutations, None, &[])
        .await?;
    if response.gap.is_some() {
        bail!("demo push stopped at a seq gap");
    }
    for ack in &response.acks {
        if ack.status != AckStatus::Applied {
            bail!("demo mutation not applied: {:?}", ack.error);
        }
    }
    Ok(())
}

/// Seeds a realistic spread of inspections and findings through the sync path: every status of
/// the review loop, some overdue, some 重大 with 挂牌督办, over the last five months, across
/// several townships and sectors; then the bureau's annual plan (`demo_plans`). Returns how
/// many findings were made.
pub async fn demo_findings(
    store: &Store,
    photos: &PhotoStore,
    summary: &DemoSummary,
) -> anyhow::Result<usize> {
    let orgs = store.orgs().await?;
    let enterprises = store.enterprises_in(None).await?;
    let user = |name: &str| {
        summary
            .users
            .iter()
            .find(|u| u.username == name)
            .with_context(|| format!("demo user {name}"))
    };
    let (i1, i2, leader, i3, admin) = (
        user("inspector1")?,
        user("inspector2")?,
        user("leader1")?,
        user("inspector3")?,
        user("admin")?,
    );
    let mut devices: HashMap<UserId, DemoDevice<'_>> = HashMap::new();
    for u in [i1, i2, leader, i3, admin] {
        let id = DeviceId::new();
        store
            .register_device(id, u.id, &summary.bureau.doc_code)
            .await?
            .map_err(|reason| anyhow::anyhow!("no device code for the demo: {reason:?}"))?;
        devices.insert(
            u.id,
            DemoDevice {
                user: u,
                id,
                seq: 0,
            },
        );
    }
    let reference = |u: &User| InspectorRef {
        user_id: u.id,
        name: u.display_name.clone(),
        certificate_no: u.certificate_no.clone().unwrap_or_default(),
    };
    let outcomes = [
        DemoOutcome::Closed,
        DemoOutcome::Rectifying,
        DemoOutcome::Submitted,
        DemoOutcome::Overdue,
        DemoOutcome::Verified,
        DemoOutcome::Closed,
        DemoOutcome::Returned,
        DemoOutcome::Rectifying,
        DemoOutcome::Submitted,
        DemoOutcome::Closed,
    ];
    let now = Utc::now();
    let today = china_date(now);
    let mut made = 0;
    let mut n = 0usize;
    for (e_index, enterprise) in enterprises.iter().enumerate() {
        let Some(sector) = enterprise.sectors.first().copied() else {
            continue;
        };
        let Some(pack) = packs::for_sector(sector).first().map(|p| p.pack_ref()) else {
            continue;
        };
        // Team 1 works the even enterprises, team 2 the odd ones.
        let team1 = e_index % 2 == 0;
        let (recorder, mate) = if team1 {
            (i1, reference(i2))
        } else {
            (
                i3,
                InspectorRef {
                    user_id: UserId::from_uuid(uuid::Uuid::from_u128(
                        0x0190_0000_0000_7000_8000_0000_0000_0001,
                    )),
                    name: "张伟".to_owned(),
                    certificate_no: "15062202".to_owned(),
                },
            )
        };
        let reviewer = if team1 { leader } else { admin };
        let days_ago = 10 + (e_index as i64 * 11) % 140;
        let started_at = now - Duration::days(days_ago) - Duration::hours(2);
        let inspection = Inspection {
            entry: Default::default(),
            id: InspectionId::new(),
            org_id: recorder.org_id,
            enterprise_id: enterprise.id,
            kind: if e_index % 3 == 0 {
                InspectionKind::Special
            } else {
                InspectionKind::Routine
            },
            packs: vec![pack],
            inspectors: vec![reference(recorder), mate],
            created_by: recorder.id,
            started_at,
            check_in: Some(CheckIn {
                at: started_at,
                location: enterprise.location,
                gate_photo: None,
                note: String::new(),
            }),
            places: "生产经营场所".to_owned(),
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
        let device = devices.get_mut(&recorder.id).context("device")?;
        let m = device.mutation(
            inspection.id.0,
            None,
            &MutationPayload::InspectionSave(Box::new(inspection.clone())),
        );
        push_all(store, &orgs, device, vec![m]).await?;
        for (k, (description, place, major, basis)) in demo_hazards(sector).iter().enumerate() {
            let outcome = outcomes[n % outcomes.len()];
            n += 1;
            let created_at = started_at + Duration::minutes(20 * k as i64 + 10);
            let found_on = china_date(created_at);
            let deadline = match outcome {
                // Past its deadline while still being rectified.
                DemoOutcome::Overdue => today - Duration::days(3 + (n as i64 % 9)),
                // Still within its period.
                DemoOutcome::Rectifying => today + Duration::days(7 + (n as i64 % 20)),
                _ => found_on + Duration::days(if *major { 30 } else { 15 }),
            };
            let deadline = deadline.max(found_on);
            let finding = Finding {
                id: FindingId::new(),
                inspection_id: inspection.id,
                enterprise_id: enterprise.id,
                org_id: inspection.org_id,
                item_id: None,
                description: (*description).to_owned(),
                place: (*place).to_owned(),
                level: if *major { Level::Major } else { Level::General },
                legal_basis: (*basis).to_owned(),
                basis_unverified: false,
                measure: if *major {
                    Measure::SuspendOperations
                } else {
                    Measure::Deadline
                },
                deadline: Some(deadline),
                photos: vec![
                    demo_photo(
                        store,
                        photos,
                        DEMO_BEFORE[n % DEMO_BEFORE.len()],
                        &format!("zhicha demo finding {n}"),
                        recorder,
                    )
                    .await?,
                ],
                after_photos: vec![],
                status: FindingStatus::Draft,
                supervised: false,
                created_by: recorder.id,
                created_at,
                history: vec![],
                corrections: vec![],
            };
            let id = finding.id.0;
            let device = devices.get_mut(&recorder.id).context("device")?;
            let save = device.mutation(id, None, &MutationPayload::FindingSave(Box::new(finding)));
            let submit = device.mutation(
                id,
                Some(1),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            );
            push_all(store, &orgs, device, vec![save, submit]).await?;
            let mut steps: Vec<(UserId, MutationPayload)> = Vec::new();
            match outcome {
                DemoOutcome::Submitted => {}
                DemoOutcome::Returned => steps.push((
                    reviewer.id,
                    MutationPayload::FindingReturn(ReturnPayload {
                        comment: "照片未能反映隐患部位，请补拍后重新提交".to_owned(),
                    }),
                )),
                _ => {
                    steps.push((
                        reviewer.id,
                        MutationPayload::FindingConfirm(CommentPayload::default()),
                    ));
                    if *major && outcome != DemoOutcome::Closed {
                        steps.push((
                            reviewer.id,
                            MutationPayload::FindingSupervise(SupervisePayload {
                                supervised: true,
                                comment: "重大事故隐患，挂牌督办".to_owned(),
                            }),
                        ));
                    }
                    if matches!(outcome, DemoOutcome::Verified | DemoOutcome::Closed) {
                        steps.push((
                            recorder.id,
                            MutationPayload::FindingReinspect(ReinspectPayload {
                                passed: true,
                                new_deadline: None,
                                inspection_id: None,
                                after_photos: vec![
                                    demo_photo(
                                        store,
                                        photos,
                                        DEMO_AFTER,
                                        &format!("zhicha demo rectification {n}"),
                                        recorder,
                                    )
                                    .await?,
                                ],
                                comment: "复查合格".to_owned(),
                            }),
                        ));
                    }
                    if outcome == DemoOutcome::Closed {
                        steps.push((
                            reviewer.id,
                            MutationPayload::FindingClose(CommentPayload::default()),
                        ));
                    }
                }
            }
            for (rev, (by, payload)) in (2..).zip(steps) {
                let device = devices.get_mut(&by).context("device")?;
                let m = device.mutation(id, Some(rev), &payload);
                push_all(store, &orgs, device, vec![m]).await?;
            }
            made += 1;
        }
    }
    super::demo_plans::demo_plan(store, summary).await?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_enterprises_cover_every_sector_with_valid_codes() {
        for sector in Sector::ALL {
            assert!(
                DEMO_ENTERPRISES.iter().any(|e| e.5.contains(&sector)),
                "no demo enterprise in {sector:?}"
            );
        }
        for e in DEMO_ENTERPRISES {
            assert!(zhicha_core::validation::is_credit_code(e.1), "{}", e.1);
            for sub in e.6 {
                assert!(e.5.contains(&sub.sector()), "{}", e.0);
            }
        }
    }
}
