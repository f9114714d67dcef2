//! Leader screens: review queue, one finding, rectification board, ledger, statistics, dossier.
//!
//! Review and rectification read what the leader's device pulled (its org subtree), so they
//! work offline; a decision is a mutation in the outbox like any inspector's edit. The ledger
//! and statistics ask the server and say so when it cannot be reached.

mod board;
mod dossier;
mod export;
mod finding;
mod ledger;
pub(crate) mod photo;
mod plan;
mod plans;
mod reports;
mod review;
mod stats;

pub use board::RectificationPage;
pub use dossier::DossierPage;
pub use finding::LeaderFindingPage;
pub use ledger::LedgerPage;
pub use plan::PlanPage;
pub use plans::PlansPage;
pub use reports::ReportsPage;
pub use review::ReviewPage;
pub use stats::StatsPage;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use zhicha_core::ids::UserId;
use zhicha_core::lifecycle::FindingAction;
use zhicha_core::model::{Finding, Role};

use crate::state;
use crate::storage::Session;

/// The leader screens' one navigation: every leader page but the one shown.
#[leptos::component]
pub(crate) fn LeaderNav(current: Option<crate::pages::Page>) -> impl leptos::IntoView {
    use crate::pages::Page;
    use leptos::prelude::*;
    let links = [
        (Page::Review, "待审核"),
        (Page::Rectification, "整改跟踪"),
        (Page::Ledger, "隐患台账"),
        (Page::Stats, "统计分析"),
        (Page::Plans, "年度计划"),
        (Page::Cases, "案件办理"),
        (Page::Reports, "举报受理"),
    ];
    view! {
        <nav class="leader-nav">
            {links
                .into_iter()
                .filter(|(page, _)| current.as_ref() != Some(page))
                .map(|(page, label)| view! { <a href=page.path()>{label}</a> })
                .collect_view()}
        </nav>
    }
}

/// Shown to an inspector who opens a leader screen (the server refuses them too).
pub(crate) const NOT_A_LEADER: &str =
    "此页面仅供队长、科室负责人和管理员使用。执法人员无权审核、督办或销号隐患。";

/// Shown when no one is signed in on this device.
pub(crate) const NOT_SIGNED_IN: &str = "尚未登录。请先联网登录。";

/// The signed-in session, if its user may act as a leader; otherwise why not, in Chinese.
pub(crate) async fn leader_session() -> Result<Session, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| NOT_SIGNED_IN.to_owned())?;
    match session.user.role {
        Role::Leader | Role::Admin => Ok(session),
        Role::Inspector => Err(NOT_A_LEADER.to_owned()),
    }
}

/// A leader's decision on a finding, made on the device (see `steps::take`: core's rules
/// decide; their Chinese message is returned if refused). The caller refreshes the unsynced
/// count and starts a sync.
pub(crate) async fn decide(
    finding: &Finding,
    action: FindingAction,
    comment: &str,
) -> Result<Finding, String> {
    leader_session().await?;
    crate::steps::take(finding, action, comment, Vec::new()).await
}

/// Names of enterprises and users on the device, for lists.
#[derive(Clone, Default)]
pub(crate) struct Names {
    enterprises: HashMap<String, String>,
    users: HashMap<UserId, String>,
}

impl Names {
    pub(crate) async fn load() -> Result<Self, String> {
        let db = state::db().await.map_err(|e| e.to_string())?;
        let enterprises = db
            .search_enterprises(&Default::default())
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|e| (e.id.to_string(), e.name))
            .collect();
        let users = db
            .roster()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        Ok(Self { enterprises, users })
    }

    pub(crate) fn enterprise(&self, finding: &Finding) -> String {
        self.enterprises
            .get(&finding.enterprise_id.to_string())
            .cloned()
            .unwrap_or_else(|| "（单位信息未下载）".to_owned())
    }

    pub(crate) fn user(&self, id: UserId) -> String {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "（未知人员）".to_owned())
    }
}

/// When the finding was last submitted for review (its creation if the history says nothing).
pub(crate) fn submitted_at(finding: &Finding) -> DateTime<Utc> {
    finding
        .history
        .iter()
        .rev()
        .find(|h| h.action == "submit")
        .map_or(finding.created_at, |h| h.at)
}

/// A time in China Standard Time, to the minute.
pub(crate) fn cst(t: DateTime<Utc>) -> String {
    zhicha_core::time::minute(t)
}

pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The history's action names in words.
pub(crate) fn history_label(action: &str) -> &str {
    match action {
        "edit" => "修改",
        "submit" => "提交审核",
        "confirm" => "审核确认",
        "return" => "退回",
        "supervise" => "挂牌督办",
        "unsupervise" => "撤销挂牌督办",
        "reinspect_passed" => "复查合格",
        "reinspect_failed" => "复查不合格",
        "close" => "销号",
        other => other,
    }
}

/// The level badge's class: 重大 stands out.
pub(crate) fn level_class(finding: &Finding) -> &'static str {
    match finding.level {
        zhicha_core::model::Level::Major => "badge badge--major",
        zhicha_core::model::Level::General => "badge",
    }
}
