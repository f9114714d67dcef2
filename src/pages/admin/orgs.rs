//! 单位管理: the bureau's org units as a tree — add a team or section under a unit, rename one,
//! change its short name in document numbers (文书字号), the region it covers, or the 行政复议机关
//! and court its documents' rights notice (权利告知) names (empty: the parent unit's apply).

use leptos::prelude::*;
use zhicha_core::admin::{NewOrg, OrgUpdate};
use zhicha_core::ids::OrgId;
use zhicha_core::model::OrgUnit;

use super::{AdminNav, call, notice, org_options, tree, write};
use crate::pages::Page;
use crate::sync::admin as api;

#[component]
pub fn AdminOrgsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        reload.track();
        async move { call(|t| async move { api::orgs(&t).await }).await }
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let editing = RwSignal::new(None::<OrgId>);
    let done = Callback::new(move |result: (bool, String)| {
        message.set(Some(result));
        editing.set(None);
        reload.update(|n| *n += 1);
    });
    view! {
        <section class="page page--admin">
            <h1 class="page__title">"系统管理 · 单位"</h1>
            <AdminNav current=Page::AdminOrgs />
            {move || notice(message.get())}
            <Transition fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(orgs) => {
                        let chosen = editing
                            .get()
                            .and_then(|id| orgs.iter().find(|o| o.id == id).cloned());
                        view! {
                            {chosen.map(|org| view! { <EditOrgForm org=org done=done /> })}
                            {org_list(&orgs, editing)}
                            <NewOrgForm orgs=orgs done=done />
                        }
                        .into_any()
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn org_list(orgs: &[OrgUnit], editing: RwSignal<Option<OrgId>>) -> impl IntoView + use<> {
    let rows = tree(orgs)
        .into_iter()
        .map(|(depth, org)| {
            let id = org.id;
            view! {
                <li class="list__item org" data-org=org.name.clone()
                    style=format!("margin-left: {}rem", depth as f32 * 1.2)>
                    <strong>{org.name.clone()}</strong>
                    <span class="muted">{format!("文书字号：{} · 地区：{}", org.doc_code, org.region)}</span>
                    <button class="button button--small button--secondary" type="button"
                        aria-label=format!("修改 {}", org.name)
                        on:click=move |_| editing.set(Some(id))>"修改"</button>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="list orgs">{rows}</ul> }
}

fn field(label: &'static str, name: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">{label}</span>
            <input class="field__input" name=name autocomplete="off"
                prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

#[component]
fn NewOrgForm(orgs: Vec<OrgUnit>, done: Callback<(bool, String)>) -> impl IntoView {
    let parent = RwSignal::new(orgs.first().map(|o| o.id));
    let name = RwSignal::new(String::new());
    let doc_code = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let review_authority = RwSignal::new(String::new());
    let court = RwSignal::new(String::new());
    let error = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let org = NewOrg {
            parent_id: parent.get_untracked(),
            name: name.get_untracked().trim().to_owned(),
            doc_code: doc_code.get_untracked().trim().to_owned(),
            region: region.get_untracked().trim().to_owned(),
            review_authority: review_authority.get_untracked().trim().to_owned(),
            court: court.get_untracked().trim().to_owned(),
        };
        if org.name.is_empty() {
            error.set(Some((false, "请填写单位名称".to_owned())));
            return;
        }
        let work = call(|t| async move { api::create_org(&t, &org).await });
        write(busy, error, work, move |created| {
            for value in [name, doc_code, region, review_authority, court] {
                value.set(String::new());
            }
            done.run((true, format!("已新增单位 {}", created.name)));
        });
    };
    view! {
        <section class="card" aria-label="新增单位">
            <h2 class="card__title">"新增单位（执法队、科室）"</h2>
            <form class="form" on:submit=submit>
                <label class="field">
                    <span class="field__label">"上级单位"</span>
                    <select class="field__input" name="org-parent"
                        on:change=move |ev| parent.set(event_target_value(&ev).parse::<OrgId>().ok())>
                        {org_options(&orgs, orgs.first().map(|o| o.id))}
                    </select>
                </label>
                {field("单位名称", "org-name", name)}
                {field("文书字号（不填则沿用上级）", "org-doc-code", doc_code)}
                {field("所辖地区（不填则沿用上级）", "org-region", region)}
                {field("行政复议机关（权利告知）", "org-review-authority", review_authority)}
                {field("人民法院（权利告知）", "org-court", court)}
                <p class="muted">"留空则沿用上级单位的设置"</p>
                <button class="button" type="submit" disabled=busy>"新增单位"</button>
            </form>
            {move || notice(error.get())}
        </section>
    }
}

#[component]
fn EditOrgForm(org: OrgUnit, done: Callback<(bool, String)>) -> impl IntoView {
    let id = org.id;
    let name = RwSignal::new(org.name.clone());
    let doc_code = RwSignal::new(org.doc_code.clone());
    let region = RwSignal::new(org.region.clone());
    let review_authority = RwSignal::new(org.review_authority.clone());
    let court = RwSignal::new(org.court.clone());
    let error = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let original = org.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let changed = |value: RwSignal<String>, old: &str| {
            let new = value.get_untracked().trim().to_owned();
            (new != old).then_some(new)
        };
        let update = OrgUpdate {
            name: changed(name, &original.name),
            doc_code: changed(doc_code, &original.doc_code),
            region: changed(region, &original.region),
            review_authority: changed(review_authority, &original.review_authority),
            court: changed(court, &original.court),
        };
        if update == OrgUpdate::default() {
            error.set(Some((false, "没有需要保存的修改".to_owned())));
            return;
        }
        let work = call(move |t| async move { api::update_org(&t, id, &update).await });
        write(busy, error, work, move |saved| {
            done.run((true, format!("已保存单位 {}", saved.name)));
        });
    };
    view! {
        <section class="card" aria-label=format!("修改单位 {}", org.name)>
            <h2 class="card__title">{format!("修改单位：{}", org.name)}</h2>
            <form class="form" on:submit=submit>
                {field("单位名称", "edit-org-name", name)}
                {field("文书字号", "edit-org-doc-code", doc_code)}
                {field("所辖地区", "edit-org-region", region)}
                {field("行政复议机关（权利告知）", "edit-org-review-authority", review_authority)}
                {field("人民法院（权利告知）", "edit-org-court", court)}
                <p class="muted">"留空则沿用上级单位的设置"</p>
                <button class="button" type="submit" disabled=busy>"保存修改"</button>
            </form>
            <p class="muted">"文书字号用于此后新开具的文书编号，已开具的文书编号不变。"</p>
            {move || notice(error.get())}
        </section>
    }
}
