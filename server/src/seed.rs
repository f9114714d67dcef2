//! Demo data: the 达拉特旗 bureau with two teams, fictional enterprises in real places of the
//! region across every sector, and the demo accounts (all with the password `zhicha-demo`).

use zhicha_core::ids::{EnterpriseId, OrgId, UserId};
use zhicha_core::model::{Enterprise, GeoPoint, OrgUnit, Role, Sector, Subsector, User};

use crate::Store;
use crate::auth::Passwords;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "zhicha-demo";

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
    };
    let team = |name: &str| OrgUnit {
        id: OrgId::new(),
        parent_id: Some(bureau.id),
        name: name.to_owned(),
        doc_code: "达旗应急".to_owned(),
        region: "达拉特旗".to_owned(),
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
        let enterprise = Enterprise {
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
            assert!(crate::rules::is_credit_code(e.1), "{}", e.1);
            for sub in e.6 {
                assert!(e.5.contains(&sub.sector()), "{}", e.0);
            }
        }
    }
}
