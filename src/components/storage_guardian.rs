//! Storage guardian: persistence, space used, what is unsynced, and a logout that strands nothing.

use leptos::prelude::*;

use crate::pwa::{self, StorageStatus};
use crate::state::{self, logout_refusal, use_unsynced};
use crate::sync;

const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

/// Bytes as the inspector reads them: KB below a megabyte, MB below a gigabyte, GB from there.
pub fn format_bytes(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{:.1} GB", bytes / GIB)
    } else if bytes < MIB {
        format!("{:.0} KB", bytes / 1024.0)
    } else {
        format!("{:.1} MB", bytes / MIB)
    }
}

/// Usage and quota as the browser reported them, or 未知 when it reported none.
pub fn usage_line(s: &StorageStatus) -> String {
    if !s.is_known() {
        return "本机已用 未知 / 可用 未知（此浏览器未提供存储用量）".to_owned();
    }
    let percent = s.used_share() * 100.0;
    // A few MB of a large quota is not "0%": say that it is under one percent.
    let share = if percent < 1.0 && s.usage > 0.0 {
        "不足 1%".to_owned()
    } else {
        format!("{percent:.0}%")
    };
    format!(
        "本机已用 {} / 可用 {}（{share}）",
        format_bytes(s.usage),
        format_bytes(s.quota)
    )
}

/// The figures of `status` and, above 80 % of the quota, the warning to sync and clean up.
#[component]
pub fn StorageFigures(status: StorageStatus) -> impl IntoView {
    view! {
        <p class="guardian__line" data-testid="storage-usage"
            data-usage=status.usage.to_string() data-quota=status.quota.to_string()>
            {usage_line(&status)}
        </p>
        {status.is_nearly_full().then(|| view! {
            <p class="guardian__line warn" role="alert" data-testid="storage-nearly-full">
                "存储空间已用超过 80%，请同步后清理已上传的照片。"
            </p>
        })}
    }
    .into_any()
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
    // Nothing is claimed before the browser has answered.
    let storage_line = move || {
        let Some(s): Option<StorageStatus> = status.get() else {
            return view! { <p class="guardian__line muted">"正在读取存储用量…"</p> }.into_any();
        };
        let persisted = if s.persisted {
            "已开启持久存储，浏览器不会自动清除检查数据"
        } else {
            "未开启持久存储：空间不足时浏览器可能清除数据，请尽快同步"
        };
        view! {
            <p class=move || if s.persisted { "guardian__line" } else { "guardian__line warn" }>{persisted}</p>
            <StorageFigures status=s />
        }
        .into_any()
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
