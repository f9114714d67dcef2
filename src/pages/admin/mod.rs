//! 系统管理 (the admin role, online): accounts, org units and the enterprise directory of the
//! admin's bureau. Every screen reads from and writes to the server at once; the server decides
//! what the admin may touch (his own bureau's subtree) against its stored records.

mod directory;
mod orgs;
mod users;

pub use directory::AdminDirectoryPage;
pub use orgs::AdminOrgsPage;
pub use users::AdminUsersPage;

use std::future::Future;

use leptos::prelude::*;
use zhicha_core::ids::OrgId;
use zhicha_core::model::{OrgUnit, Role};

use super::Page;
use super::leader::NOT_SIGNED_IN;
use crate::state;
use crate::sync::SyncError;

/// Shown to anyone else who opens an admin screen (the server refuses them too).
const NOT_AN_ADMIN: &str = "此页面仅供管理员使用。";

/// The admin's token, or why this user may not be here.
async fn admin_token() -> Result<String, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| NOT_SIGNED_IN.to_owned())?;
    if session.user.role != Role::Admin {
        return Err(NOT_AN_ADMIN.to_owned());
    }
    Ok(session.token)
}

/// A failed admin call in words the admin understands.
fn server_error(error: SyncError) -> String {
    match error {
        SyncError::Offline | SyncError::Server(_) => {
            "无法连接服务器。账号、单位和企业名录的管理需要联网，请在有网络时再试。".to_owned()
        }
        SyncError::Unauthorized => "登录已过期或已被注销，请重新登录。".to_owned(),
        other => other.to_string(),
    }
}

/// Runs one admin call with the signed-in admin's token.
async fn call<T, F, Fut>(f: F) -> Result<T, String>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<T, SyncError>>,
{
    let token = admin_token().await?;
    f(token).await.map_err(server_error)
}

/// Runs one write of a form unless one is under way: `busy` while it runs, a failure in
/// `error` (cleared when it starts), `ok` with the server's answer.
fn write<T: 'static>(
    busy: RwSignal<bool>,
    error: RwSignal<Option<(bool, String)>>,
    work: impl Future<Output = Result<T, String>> + 'static,
    ok: impl FnOnce(T) + 'static,
) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    error.set(None);
    leptos::task::spawn_local(async move {
        let result = work.await;
        busy.set(false);
        match result {
            Ok(answer) => ok(answer),
            Err(e) => error.set(Some((false, e))),
        }
    });
}

/// The three admin screens as tabs.
#[component]
fn AdminNav(current: Page) -> impl IntoView {
    let tab = move |page: Page, label: &'static str| {
        let class = if page == current {
            "tab tab--active"
        } else {
            "tab"
        };
        view! { <a class=class href=page.path()>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="系统管理">
            {tab(Page::AdminUsers, "账号")}
            {tab(Page::AdminOrgs, "单位")}
            {tab(Page::AdminDirectory, "企业名录")}
        </nav>
    }
}

/// A result line under a form: a confirmation, or an error read out by screen readers.
fn notice(message: Option<(bool, String)>) -> impl IntoView {
    message.map(|(ok, text)| {
        if ok {
            view! { <p class="notice" role="status">{text}</p> }.into_any()
        } else {
            view! { <p class="error" role="alert">{text}</p> }.into_any()
        }
    })
}

/// The org units in tree order, each with its depth (roots first, children under their
/// parent, siblings by name). Units whose parent is not listed count as roots.
fn tree(orgs: &[OrgUnit]) -> Vec<(usize, OrgUnit)> {
    fn visit(
        parent: Option<OrgId>,
        depth: usize,
        orgs: &[OrgUnit],
        out: &mut Vec<(usize, OrgUnit)>,
    ) {
        let mut children: Vec<&OrgUnit> = orgs
            .iter()
            .filter(|o| match parent {
                None => o.parent_id.is_none_or(|p| !orgs.iter().any(|x| x.id == p)),
                Some(p) => o.parent_id == Some(p),
            })
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        for child in children {
            if out.iter().any(|(_, o)| o.id == child.id) {
                continue;
            }
            out.push((depth, child.clone()));
            visit(Some(child.id), depth + 1, orgs, out);
        }
    }
    let mut out = Vec::with_capacity(orgs.len());
    visit(None, 0, orgs, &mut out);
    out
}

/// `<option>`s of the org units, indented by depth.
fn org_options(orgs: &[OrgUnit], selected: Option<OrgId>) -> impl IntoView + use<> {
    tree(orgs)
        .into_iter()
        .map(|(depth, org)| {
            let label = format!("{}{}", "　".repeat(depth), org.name);
            view! {
                <option value=org.id.to_string() selected=selected == Some(org.id)>{label}</option>
            }
        })
        .collect_view()
}

fn org_name(orgs: &[OrgUnit], id: OrgId) -> String {
    orgs.iter()
        .find(|o| o.id == id)
        .map_or_else(|| "（本局以外的单位）".to_owned(), |o| o.name.clone())
}
