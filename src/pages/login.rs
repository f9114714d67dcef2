//! 登录: once online; afterwards the app opens offline until the session expires. Logging in
//! downloads what a day offline needs (roster, enterprise directory, packs, open findings).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::Page;
use crate::state;
use crate::storage::Session;
use crate::sync::{api, engine::use_sync_engine, keys};

async fn login_and_download(
    username: String,
    password: String,
    progress: WriteSignal<String>,
) -> Result<(), String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let device_id = db.device_id().await.map_err(|e| e.to_string())?;
    db.may_sign_in(username.trim())
        .await
        .map_err(|e| e.to_string())?;
    let next_seq = db.next_seq().await.map_err(|e| e.to_string())?;
    progress.set("正在登录…".to_owned());
    // The phone's signing key, made once and registered with every login. A browser that
    // cannot make one still logs in; its records go unsigned.
    let public_key = match keys::ensure(&db).await {
        Ok(key) => Some(key.public_hex),
        Err(error) => {
            leptos::logging::warn!("设备签名密钥不可用：{error}");
            None
        }
    };
    let login = api::login(username.trim(), &password, device_id, next_seq, public_key)
        .await
        .map_err(|e| e.to_string())?;
    // Another user's records leave the phone now (only when all of them are on the server).
    db.switch_user(&login.user)
        .await
        .map_err(|e| e.to_string())?;
    let session = Session {
        token: login.token.clone(),
        expires_at: login.expires_at,
        user: login.user,
        device_code: login.device_code,
    };
    db.put_session(&session).await.map_err(|e| e.to_string())?;
    progress.set("正在下载人员名单、企业名录和待复查隐患（1/2）…".to_owned());
    let bootstrap = api::bootstrap(&login.token)
        .await
        .map_err(|e| e.to_string())?;
    db.put_bootstrap(&bootstrap)
        .await
        .map_err(|e| e.to_string())?;
    let total = bootstrap.packs.len();
    let mut packs = Vec::with_capacity(total);
    for (n, summary) in bootstrap.packs.iter().enumerate() {
        progress.set(format!(
            "正在下载检查表（2/2）：{}/{} {}",
            n + 1,
            total,
            summary.title
        ));
        // The packs are data, not code: downloaded here and kept on the device, so they add
        // nothing to the app's first load.
        let pack = api::checklist(&login.token, summary.id.as_str(), summary.version)
            .await
            .map_err(|e| e.to_string())?;
        packs.push(pack);
    }
    db.put_packs(&packs).await.map_err(|e| e.to_string())?;
    progress.set(format!(
        "离线资料已就绪：{} 名人员，{} 家企业，{} 份检查表，{} 条待复查隐患。",
        bootstrap.roster.len(),
        bootstrap.enterprises.len(),
        total,
        bootstrap.open_findings.len()
    ));
    Ok(())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let (username, set_username) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let (progress, set_progress) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let engine = use_sync_engine();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match login_and_download(
                username.get_untracked(),
                password.get_untracked(),
                set_progress,
            )
            .await
            {
                Ok(()) => {
                    set_password.set(String::new());
                    engine.sync_now();
                    navigate(&Page::Home.path(), Default::default());
                }
                Err(e) => set_error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <section class="page page--login">
            <h1 class="page__title">"登录"</h1>
            <p class="muted">"首次使用需联网登录；登录后可离线工作，直到登录有效期结束。"</p>
            <form class="form" on:submit=submit>
                <label class="field">
                    <span class="field__label">"用户名"</span>
                    <input class="field__input" name="username" autocomplete="username" required
                        prop:value=username on:input=move |ev| set_username.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span class="field__label">"密码"</span>
                    <input class="field__input" name="password" type="password" autocomplete="current-password" required
                        prop:value=password on:input=move |ev| set_password.set(event_target_value(&ev)) />
                </label>
                <button class="button button--wide" type="submit" disabled=busy>
                    {move || if busy.get() { "请稍候…" } else { "登录" }}
                </button>
            </form>
            <p class="progress" role="status">{progress}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
    .into_any()
}
