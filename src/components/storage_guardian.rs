//! Storage guardian: persistence, space used, what is unsynced, and a logout that strands nothing.

use leptos::prelude::*;

use crate::pwa::{self, StorageStatus};
use crate::state::{self, logout_refusal, use_unsynced};
use crate::sync;

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_048_576.0)
}

#[component]
pub fn StorageGuardian() -> impl IntoView {
    let unsynced = use_unsynced();
    let status = LocalResource::new(pwa::storage_status);
    let (message, set_message) = signal(None::<String>);
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            // Decide on what the database holds now, not on the counts last shown.
            let message = match state::read_unsynced().await {
                Err(e) => e.to_string(),
                Ok(counts) => match logout_refusal(counts) {
                    Some(refusal) => refusal,
                    None => match state::db().await {
                        Err(e) => e.to_string(),
                        Ok(db) => match db.clear_session().await {
                            Err(e) => e.to_string(),
                            // The phone is logged out either way; the server is told now, or
                            // on the next connection.
                            Ok(()) if sync::revoke_pending(&db).await => {
                                "已退出登录，服务器上的登录令牌已注销。".to_owned()
                            }
                            Ok(()) => {
                                "已退出登录。本机暂未联网，登录令牌将在下次联网时在服务器上注销。"
                                    .to_owned()
                            }
                        },
                    },
                },
            };
            unsynced.refresh();
            set_message.set(Some(message));
        });
    };
    let storage_line = move || {
        let s: StorageStatus = status.get().unwrap_or_default();
        let persisted = if s.persisted {
            "已开启持久存储，浏览器不会自动清除检查数据"
        } else {
            "未开启持久存储：空间不足时浏览器可能清除数据，请尽快同步"
        };
        view! {
            <p class=move || if s.persisted { "guardian__line" } else { "guardian__line warn" }>{persisted}</p>
            <p class="guardian__line">
                "本机已用 " {megabytes(s.usage)} " / 可用 " {megabytes(s.quota)}
                " （" {format!("{:.0}%", s.used_share() * 100.0)} "）"
            </p>
            <Show when=move || s.is_nearly_full()>
                <p class="guardian__line warn" role="alert">
                    "存储空间已用超过 80%，请同步后清理已上传的照片。"
                </p>
            </Show>
        }
    };
    view! {
        <section class="card guardian" aria-label="本机存储">
            <h2 class="card__title">"本机存储"</h2>
            {storage_line}
            <p class="guardian__line guardian__unsynced">
                {move || {
                    let c = unsynced.counts.get().unwrap_or_default();
                    format!("未同步：{} 条记录，{} 张照片，{} 条同步错误", c.mutations, c.photos, c.errors)
                }}
            </p>
            <button class="button button--secondary" on:click=logout>"退出登录"</button>
            {move || message.get().map(|m| view! { <p class="guardian__message" role="alert">{m}</p> })}
        </section>
    }
    .into_any()
}
