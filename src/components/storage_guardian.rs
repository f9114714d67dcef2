//! Storage guardian: persistence, space used, how many more photos fit, removing the full
//! images of photos the server holds, what is unsynced, and a logout that strands nothing.

use leptos::prelude::*;
use zhicha_core::storage_budget::{average_photo_bytes, photos_left, photos_left_line};

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

/// The figures of `status`, about how many more photos of `average_photo` bytes fit (the
/// default size when not given) and, above 80 % of the quota, the warning to sync and clean up.
#[component]
pub fn StorageFigures(
    status: StorageStatus,
    #[prop(optional)] average_photo: Option<f64>,
) -> impl IntoView {
    let average = average_photo.unwrap_or_else(|| average_photo_bytes(&[]));
    let left = photos_left(status.usage, status.quota, average);
    view! {
        <p class="guardian__line" data-testid="storage-usage"
            data-usage=status.usage.to_string() data-quota=status.quota.to_string()>
            {usage_line(&status)}
        </p>
        <p class="guardian__line" data-testid="photos-left">{photos_left_line(left)}</p>
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
    // The forecast divides by the photos this phone took; the default size until it took any.
    let average = LocalResource::new(|| async {
        let sizes = match state::db().await {
            Ok(db) => db.own_photo_sizes().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        average_photo_bytes(&sizes)
    });
    let (message, set_message) = signal(None::<String>);
    let (pruning, set_pruning) = signal(false);
    let prune = move |_| {
        if pruning.get_untracked() {
            return;
        }
        set_pruning.set(true);
        leptos::task::spawn_local(async move {
            let text = match state::db().await {
                Err(e) => e.to_string(),
                Ok(db) => match db.prune_photos(u64::MAX).await {
                    Err(e) => e.to_string(),
                    Ok(report) if report.photos == 0 => {
                        "没有可清理的原图：未经服务器确认收到的照片不会清理。".to_owned()
                    }
                    Ok(report) => format!(
                        "已清理 {} 张已上传照片的原图，释放约 {}；缩略图和拍摄信息仍保留，联网后可查看原图。",
                        report.photos,
                        format_bytes(report.bytes as f64)
                    ),
                },
            };
            status.refetch();
            set_message.set(Some(text));
            set_pruning.set(false);
        });
    };
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
            <StorageFigures status=s average_photo=average.get().unwrap_or_else(|| average_photo_bytes(&[])) />
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
            <button class="button button--secondary" type="button" data-testid="prune-photos"
                disabled=pruning on:click=prune>"清理已上传的原图"</button>
            <button class="button button--secondary" on:click=logout>"退出登录"</button>
            {move || message.get().map(|m| view! { <p class="guardian__message" role="alert">{m}</p> })}
        </section>
    }
    .into_any()
}
