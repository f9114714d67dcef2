//! Home: where an inspector's day starts — the inspections on this device and its storage.

use leptos::prelude::*;
use zhicha_core::model::Inspection;

use crate::components::storage_guardian::StorageGuardian;
use crate::state;

#[derive(Clone)]
struct Row {
    enterprise: String,
    inspection: Inspection,
}

async fn load_inspections() -> Result<Vec<Row>, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let inspections = db.inspections().await.map_err(|e| e.to_string())?;
    let mut rows = Vec::with_capacity(inspections.len());
    for inspection in inspections {
        let enterprise = db
            .enterprise(&inspection.enterprise_id.to_string())
            .await
            .ok()
            .flatten()
            .map_or_else(|| "（未知单位）".to_owned(), |e| e.name);
        rows.push(Row {
            enterprise,
            inspection,
        });
    }
    Ok(rows)
}

#[component]
pub fn HomePage() -> impl IntoView {
    let inspections = LocalResource::new(load_inspections);
    view! {
        <section class="page page--home">
            <h1 class="page__title">"检查记录"</h1>
            <p class="muted">"四不两直：不发通知、不打招呼、不听汇报、不用陪同接待、直奔基层、直插现场。"</p>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || inspections.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => {
                        view! { <p class="empty">"本机尚无检查记录。"</p> }.into_any()
                    }
                    Ok(rows) => view! {
                        <ul class="list inspections">
                            {rows.into_iter().map(|row| {
                                let started = row.inspection.started_at
                                    .with_timezone(&zhicha_core::lifecycle::china_offset())
                                    .format("%Y-%m-%d %H:%M")
                                    .to_string();
                                let state = if row.inspection.finished_at.is_some() { "已完成" } else { "进行中" };
                                view! {
                                    <li class="list__item inspection">
                                        <span class="inspection__enterprise">{row.enterprise}</span>
                                        <span class="inspection__meta">
                                            {row.inspection.kind.label_zh()} " · " {started} " · " {state}
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            <StorageGuardian />
        </section>
    }
}
