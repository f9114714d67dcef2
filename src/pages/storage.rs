//! 本机存储: the storage guardian on a page of its own, reachable from the home screen, and the
//! signed-in user's own password.

use leptos::prelude::*;
use zhicha_core::protocol::{PasswordChange, new_password_problem};

use super::Page;
use crate::components::storage_guardian::StorageGuardian;
use crate::state;
use crate::sync::api;

#[component]
pub fn StoragePage() -> impl IntoView {
    view! {
        <section class="page page--storage">
            <h1 class="page__title">"本机存储与同步状态"</h1>
            <StorageGuardian />
            <PasswordForm />
            <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
        </section>
    }
    .into_any()
}

/// Changes the signed-in user's password on the server (online only); the user's other
/// sessions end there, this one stays.
async fn change_password(current: String, new: String, again: String) -> Result<(), String> {
    if new != again {
        return Err("两次输入的新密码不一致".to_owned());
    }
    if let Some(problem) = new_password_problem(&new, &current) {
        return Err(problem.to_owned());
    }
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录".to_owned())?;
    let change = PasswordChange {
        current_password: current,
        new_password: new,
    };
    api::change_password(&session.token, &change)
        .await
        .map_err(|e| match e {
            api::SyncError::Offline => "修改密码需要联网，请在有网络时再试".to_owned(),
            other => other.to_string(),
        })
}

#[component]
fn PasswordForm() -> impl IntoView {
    let (current, set_current) = signal(String::new());
    let (new, set_new) = signal(String::new());
    let (again, set_again) = signal(String::new());
    let (message, set_message) = signal(None::<(bool, String)>);
    let (busy, set_busy) = signal(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_message.set(None);
        leptos::task::spawn_local(async move {
            let result = change_password(
                current.get_untracked(),
                new.get_untracked(),
                again.get_untracked(),
            )
            .await;
            set_message.set(Some(match result {
                Ok(()) => {
                    set_current.set(String::new());
                    set_new.set(String::new());
                    set_again.set(String::new());
                    (
                        true,
                        "密码已修改。其他设备上的登录已失效，需用新密码重新登录。".to_owned(),
                    )
                }
                Err(e) => (false, e),
            }));
            set_busy.set(false);
        });
    };
    view! {
        <section class="card" aria-label="修改密码">
            <h2 class="card__title">"修改密码"</h2>
            <form class="form" on:submit=submit>
                <label class="field">
                    <span class="field__label">"原密码"</span>
                    <input class="field__input" name="current-password" type="password"
                        autocomplete="current-password" required
                        prop:value=current on:input=move |ev| set_current.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span class="field__label">"新密码（至少 8 个字符）"</span>
                    <input class="field__input" name="new-password" type="password"
                        autocomplete="new-password" required
                        prop:value=new on:input=move |ev| set_new.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span class="field__label">"再次输入新密码"</span>
                    <input class="field__input" name="new-password-again" type="password"
                        autocomplete="new-password" required
                        prop:value=again on:input=move |ev| set_again.set(event_target_value(&ev)) />
                </label>
                <button class="button button--secondary" type="submit" disabled=busy>
                    {move || if busy.get() { "请稍候…" } else { "修改密码" }}
                </button>
            </form>
            {move || message.get().map(|(ok, m)| {
                view! { <p class=if ok { "guardian__message" } else { "error" } role="alert">{m}</p> }
            })}
        </section>
    }
    .into_any()
}
