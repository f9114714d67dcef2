//! The demo's plan data: the classes and 重点 marks of the demo enterprises (by credit code) and,
//! for `serve --demo`, the bureau's annual plan, ready for a leader to draw from.

use chrono::{Datelike as _, Utc};
use zhicha_core::ids::PlanId;
use zhicha_core::plan::{Approval, Grade, Plan, Staffing, WORKDAYS_PER_OFFICER};
use zhicha_core::time::china_date;

use super::seed::DemoSummary;
use crate::Store;

/// 重点 and class of a demo enterprise, by its credit code: the underground coal mine, the
/// chemical plant and the gas company are 重点; every entry has a class.
pub fn demo_class(credit_code: &str) -> (bool, Option<Grade>) {
    match credit_code {
        "91150621DEMO000011" => (true, Some(Grade::B)),
        "91150621DEMO000029" => (false, Some(Grade::C)),
        "91150621DEMO000037" => (false, Some(Grade::C)),
        "91150621DEMO000045" => (false, Some(Grade::D)),
        "91150621DEMO000053" => (true, Some(Grade::Level2)),
        "91150621DEMO000061" => (false, Some(Grade::Level3)),
        "91150621DEMO000079" => (false, Some(Grade::B)),
        "91150621DEMO000087" => (true, Some(Grade::A)),
        "91150621DEMO000095" => (false, Some(Grade::C)),
        "91150621DEMO000100" => (false, Some(Grade::Level3)),
        "91150621DEMO000118" => (false, Some(Grade::B)),
        "91150623DEMO000126" => (false, Some(Grade::Level1)),
        "91150626DEMO000134" => (false, Some(Grade::Unrated)),
        "91150621DEMO000142" => (false, Some(Grade::A)),
        _ => (false, None),
    }
}

/// The bureau's plan for this year, made by the demo admin (no draw yet).
pub async fn demo_plan(store: &Store, summary: &DemoSummary) -> anyhow::Result<Plan> {
    let admin = summary
        .users
        .iter()
        .find(|u| u.username == "admin")
        .ok_or_else(|| anyhow::anyhow!("demo user admin"))?;
    let now = Utc::now();
    let year = china_date(now).year();
    let plan = Plan {
        id: PlanId::new(),
        org_id: summary.bureau.id,
        year,
        title: format!("{}{year}年度安全生产监督检查计划", summary.bureau.name),
        campaign: "治本攻坚三年行动".to_owned(),
        staffing: Staffing {
            officers: 3,
            workdays_per_officer: WORKDAYS_PER_OFFICER,
            other_enforcement_days: 300,
            non_enforcement_days: 200,
            days_per_inspection: 2,
        },
        min_random_pct: 70,
        approval: Some(Approval {
            by: "局长办公会".to_owned(),
            on: china_date(now),
            reference: format!("达旗应急〔{year}〕1号"),
        }),
        created_by: admin.id,
        created_at: now,
    };
    store.insert_plan(&plan).await?;
    Ok(plan)
}
