//! 统计分析: region × sector × level, the monthly 重大隐患 found / closed / still open (动态清零),
//! rectification rate, overdue count, and work per inspector — tables with hand-drawn SVG charts
//! next to them. Figures come from the server; offline the page says so.

use std::collections::BTreeMap;

use leptos::prelude::*;
use zhicha_core::ids::OrgId;
use zhicha_core::ledger::{StatsQuery, StatsResponse};
use zhicha_core::model::{Level, Sector};

use super::export::Export;
use super::ledger::{campaign_list, choices, server_error};
use super::{LeaderNav, cst, leader_session};
use crate::components::filter_fold::FilterFold;
use crate::pages::Page;
use crate::sync::leader as api;

/// One horizontal bar with its parts (e.g. 重大, 一般), drawn stacked.
struct Bar {
    label: String,
    parts: Vec<u64>,
}

/// Colours of the stacked parts, in order (red for 重大 / open, then neutral tones).
const COLOURS: [&str; 3] = ["#b3261e", "#5d7fa3", "#9aa0a6"];

/// A horizontal stacked bar chart. `legend` names the parts.
fn bar_chart(title: &str, legend: &[&str], bars: Vec<Bar>) -> impl IntoView + use<> {
    const LABEL_W: f64 = 140.0;
    const BAR_W: f64 = 360.0;
    const ROW_H: f64 = 26.0;
    let max = bars
        .iter()
        .map(|b| b.parts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = ROW_H * bars.len() as f64 + 30.0;
    let legend: Vec<(String, &'static str)> = legend
        .iter()
        .zip(COLOURS)
        .map(|(l, c)| ((*l).to_owned(), c))
        .collect();
    view! {
        <figure class="chart">
            <figcaption>{title.to_owned()}</figcaption>
            <svg class="chart__svg" viewBox=format!("0 0 {} {height}", LABEL_W + BAR_W + 60.0)
                role="img" aria-label=title.to_owned()>
                {bars.into_iter().enumerate().map(|(row, bar)| {
                    let y = row as f64 * ROW_H;
                    let total: u64 = bar.parts.iter().sum();
                    let mut x = LABEL_W;
                    let parts = bar.parts.iter().zip(COLOURS).map(|(value, colour)| {
                        let w = *value as f64 / max * BAR_W;
                        let rect = view! { <rect x=x y=y + 4.0 width=w height=ROW_H - 8.0 fill=colour /> };
                        x += w;
                        rect
                    }).collect_view();
                    view! {
                        <text x=LABEL_W - 6.0 y=y + ROW_H / 2.0 + 5.0 text-anchor="end" class="chart__label">{bar.label}</text>
                        {parts}
                        <text x=x + 4.0 y=y + ROW_H / 2.0 + 5.0 class="chart__value">{total}</text>
                    }
                }).collect_view()}
                {legend.into_iter().enumerate().map(|(n, (label, colour))| {
                    let x = LABEL_W + n as f64 * 110.0;
                    let y = height - 18.0;
                    view! {
                        <rect x=x y=y width="12" height="12" fill=colour />
                        <text x=x + 16.0 y=y + 11.0 class="chart__label">{label}</text>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// Monthly 重大隐患: found and closed as bars, still open at month end as a line.
fn monthly_chart(stats: &StatsResponse) -> impl IntoView + use<> {
    const W: f64 = 560.0;
    const H: f64 = 220.0;
    const PAD: f64 = 30.0;
    let points = &stats.major_monthly;
    let n = points.len().max(1) as f64;
    let max = points
        .iter()
        .map(|p| p.found.max(p.closed).max(p.open_at_end))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (W - 2.0 * PAD) / n;
    let y_of = |v: u64| H - PAD - v as f64 / max * (H - 2.0 * PAD);
    let line = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{:.1},{:.1}",
                PAD + slot * (i as f64 + 0.5),
                y_of(p.open_at_end)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let label_every = (points.len() / 12).max(1);
    view! {
        <figure class="chart">
            <figcaption>"重大隐患动态清零（每月发现、销号与月末未销号）"</figcaption>
            <svg class="chart__svg" viewBox=format!("0 0 {W} {}", H + 24.0) role="img" aria-label="重大隐患按月变化">
                <line x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD stroke="#d9dadf" />
                {points.iter().enumerate().map(|(i, p)| {
                    let x = PAD + slot * i as f64;
                    // Bars stay slim when there are few months; the pair is centred in its slot.
                    let w = (slot / 2.0 - 2.0).clamp(1.0, 28.0);
                    let x = x + slot / 2.0 - w - 2.0;
                    view! {
                        <rect x=x + 2.0 y=y_of(p.found) width=w height=H - PAD - y_of(p.found) fill=COLOURS[0] />
                        <rect x=x + 2.0 + w y=y_of(p.closed) width=w height=H - PAD - y_of(p.closed) fill=COLOURS[1] />
                        <circle cx=PAD + slot * (i as f64 + 0.5) cy=y_of(p.open_at_end) r="3" fill="#1b1b1f" />
                        {(i % label_every == 0).then(|| view! {
                            <text x=PAD + slot * (i as f64 + 0.5) y=H - PAD + 14.0 text-anchor="middle" class="chart__label">{p.month.clone()}</text>
                        })}
                    }
                }).collect_view()}
                <polyline points=line fill="none" stroke="#1b1b1f" stroke-width="2" />
                <rect x=PAD y=H + 6.0 width="12" height="12" fill=COLOURS[0] />
                <text x=PAD + 16.0 y=H + 17.0 class="chart__label">"发现"</text>
                <rect x=PAD + 70.0 y=H + 6.0 width="12" height="12" fill=COLOURS[1] />
                <text x=PAD + 86.0 y=H + 17.0 class="chart__label">"销号"</text>
                <line x1=PAD + 140.0 y1=H + 12.0 x2=PAD + 160.0 y2=H + 12.0 stroke="#1b1b1f" stroke-width="2" />
                <text x=PAD + 164.0 y=H + 17.0 class="chart__label">"月末未销号"</text>
            </svg>
        </figure>
    }
}

fn sector_label(sector: Option<Sector>) -> &'static str {
    sector.map_or("未分类", Sector::label_zh)
}

fn stats_view(stats: StatsResponse) -> impl IntoView {
    // Region bars: 重大 and 一般 per township.
    let mut by_region: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut by_sector: BTreeMap<&'static str, [u64; 2]> = BTreeMap::new();
    for cell in &stats.cells {
        let i = usize::from(cell.level != Level::Major);
        let region = format!("{} {}", cell.county, cell.township)
            .trim()
            .to_owned();
        by_region.entry(region).or_default()[i] += cell.open + cell.closed;
        by_sector.entry(sector_label(cell.sector)).or_default()[i] += cell.open + cell.closed;
    }
    let bars = |map: BTreeMap<String, [u64; 2]>| {
        map.into_iter()
            .map(|(label, v)| Bar {
                label,
                parts: v.to_vec(),
            })
            .collect::<Vec<_>>()
    };
    let region_bars = bars(by_region);
    let sector_bars = bars(
        by_sector
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    );
    let inspector_bars: Vec<Bar> = stats
        .by_inspector
        .iter()
        .map(|p| Bar {
            label: p.name.clone(),
            parts: vec![p.findings],
        })
        .collect();
    let rate = stats
        .rectification_rate
        .map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0));
    view! {
        <div class="kpis">
            <div class="kpi"><span class="kpi__value" data-testid="stats-total">{stats.total}</span><span class="kpi__label">"隐患总数"</span></div>
            <div class="kpi"><span class="kpi__value">{stats.confirmed}</span><span class="kpi__label">"已确认"</span></div>
            <div class="kpi"><span class="kpi__value">{stats.rectified}</span><span class="kpi__label">"已整改"</span></div>
            <div class="kpi"><span class="kpi__value">{rate}</span><span class="kpi__label">"整改率"</span></div>
            <div class="kpi kpi--alert"><span class="kpi__value">{stats.overdue}</span><span class="kpi__label">"逾期未整改"</span></div>
        </div>
        <p class="muted">{format!("统计时间：{}", cst(stats.as_of))}</p>

        <h2 class="section__title">"按地区、行业、等级"</h2>
        <div class="stats-pair">
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr><th>"旗县"</th><th>"苏木镇/街道/园区"</th><th>"行业"</th><th>"等级"</th><th>"未销号"</th><th>"已销号"</th></tr></thead>
                    <tbody>
                        {stats.cells.iter().map(|c| view! {
                            <tr>
                                <td data-label="旗县">{c.county.clone()}</td>
                                <td data-label="苏木镇/街道/园区">{c.township.clone()}</td>
                                <td data-label="行业">{sector_label(c.sector)}</td>
                                <td data-label="等级">{c.level.label_zh()}</td>
                                <td data-label="未销号">{c.open}</td>
                                <td data-label="已销号">{c.closed}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <div>
                {bar_chart("按地区", &["重大隐患", "一般隐患"], region_bars)}
                {bar_chart("按行业", &["重大隐患", "一般隐患"], sector_bars)}
            </div>
        </div>

        <h2 class="section__title">"重大隐患动态清零"</h2>
        <div class="stats-pair">
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr><th>"月份"</th><th>"发现"</th><th>"销号"</th><th>"月末未销号"</th></tr></thead>
                    <tbody>
                        {stats.major_monthly.iter().map(|p| view! {
                            <tr>
                                <td data-label="月份">{p.month.clone()}</td>
                                <td data-label="发现">{p.found}</td>
                                <td data-label="销号">{p.closed}</td>
                                <td data-label="月末未销号">{p.open_at_end}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {monthly_chart(&stats)}
        </div>

        <h2 class="section__title">"执法效能（按检查组）"</h2>
        <p class="muted">"隐患发现率、立案率、处罚率均为每次检查的平均数：统计期内的检查，及由这些检查立案（含当场处罚）和处以罚款的案件。"</p>
        <div class="table-wrap">
            <table class="grid" data-testid="team-rates">
                <thead><tr><th>"检查组"</th><th>"检查次数"</th><th>"发现隐患"</th><th>"隐患发现率"</th><th>"重大隐患"</th><th>"立案"</th><th>"立案率"</th><th>"处罚"</th><th>"处罚率"</th></tr></thead>
                <tbody>
                    {stats.by_team.iter().map(|t| view! {
                        <tr data-team=t.name.clone()>
                            <td data-label="检查组">{t.name.clone()}
                                {t.zero_penalties().then(|| view! { " " <span class="badge badge--error" data-testid="zero-penalties">"零处罚"</span> })}</td>
                            <td data-label="检查次数">{t.inspections}</td>
                            <td data-label="发现隐患">{t.findings}</td>
                            <td data-label="隐患发现率" data-testid="finding-rate">{per_inspection(t.finding_rate())}</td>
                            <td data-label="重大隐患">{t.major}</td>
                            <td data-label="立案" data-testid="cases">{t.cases}</td>
                            <td data-label="立案率" data-testid="case-rate">{percent(t.case_rate())}</td>
                            <td data-label="处罚" data-testid="penalties">{t.penalties}</td>
                            <td data-label="处罚率" data-testid="penalty-rate">{percent(t.penalty_rate())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>

        <h2 class="section__title">"执法人员工作量"</h2>
        <div class="stats-pair">
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr><th>"检查人员"</th><th>"检查次数"</th><th>"发现隐患"</th><th>"立案"</th><th>"处罚"</th></tr></thead>
                    <tbody>
                        {stats.by_inspector.iter().map(|p| view! {
                            <tr>
                                <td data-label="检查人员">{p.name.clone()}</td>
                                <td data-label="检查次数">{p.inspections}</td>
                                <td data-label="发现隐患">{p.findings}</td>
                                <td data-label="立案">{p.cases}</td>
                                <td data-label="处罚">{p.penalties}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {bar_chart("发现隐患数", &["隐患"], inspector_bars)}
        </div>
    }
}

/// A per-inspection average, two decimals ("—" without inspections).
fn per_inspection(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"))
}

/// A per-inspection rate as a percentage ("—" without inspections).
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

#[component]
pub fn StatsPage() -> impl IntoView {
    let choices = LocalResource::new(choices);
    let form = RwSignal::new(StatsQuery::default());
    let applied = RwSignal::new(StatsQuery::default());
    let stats = LocalResource::new(move || {
        let query = applied.get();
        async move {
            let session = leader_session().await?;
            api::stats(&session.token, &query)
                .await
                .map_err(server_error)
        }
    });
    let text = |value: String| {
        let value = value.trim().to_owned();
        (!value.is_empty()).then_some(value)
    };
    let files = Export::new();
    let export = move |_| {
        let query = applied.get_untracked();
        let today = zhicha_core::time::compact_date(chrono::Utc::now());
        files.run(format!("执法统计-{today}.xlsx"), async move {
            let session = leader_session().await?;
            api::stats_file(&session.token, &query)
                .await
                .map_err(server_error)
        });
    };
    view! {
        <section class="page page--leader page--stats">
            <h1 class="page__title">"统计分析"</h1>
            <LeaderNav current=Some(Page::Stats) />
            <FilterFold active=Signal::derive(move || applied.with(StatsQuery::active_filters))>
            <form class="filters" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                applied.set(form.get_untracked());
            }>
                <label class="field field--compact">
                    <span class="field__label">"旗县"</span>
                    <input class="field__input" name="county" list="region-counties" on:input=move |ev| form.update(|q| q.county = text(event_target_value(&ev))) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"苏木镇/街道/园区"</span>
                    <input class="field__input" name="township" list="region-townships" on:input=move |ev| form.update(|q| q.township = text(event_target_value(&ev))) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"行业领域"</span>
                    <select class="field__input" name="sector" on:change=move |ev| form.update(|q| {
                        q.sector = serde_json::from_value(serde_json::Value::String(event_target_value(&ev))).ok();
                    })>
                        <option value="">"全部"</option>
                        {Sector::ALL.iter().map(|s| view! {
                            <option value=serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()>{s.label_zh()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {move || choices.get().map(|c| view! {
                    {c.region_lists()}
                    <label class="field field--compact">
                        <span class="field__label">"执法队"</span>
                        <select class="field__input" name="team" on:change=move |ev| form.update(|q| {
                            q.team = uuid::Uuid::parse_str(&event_target_value(&ev)).ok().map(OrgId);
                        })>
                            <option value="">"全部"</option>
                            {c.orgs.iter().map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                })}
                <label class="field field--compact">
                    <span class="field__label">"专项行动"</span>
                    <input class="field__input" name="campaign" list="campaigns" on:input=move |ev| form.update(|q| q.campaign = text(event_target_value(&ev))) />
                </label>
                {campaign_list()}
                <label class="field field--compact">
                    <span class="field__label">"发现日期自"</span>
                    <input class="field__input" type="date" name="from" on:input=move |ev| form.update(|q| q.from = event_target_value(&ev).parse().ok()) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"至"</span>
                    <input class="field__input" type="date" name="to" on:input=move |ev| form.update(|q| q.to = event_target_value(&ev).parse().ok()) />
                </label>
                <div class="actions">
                    <button class="button" type="submit">"统计"</button>
                </div>
            </form>
            </FilterFold>
            <div class="actions export-actions">
                <button class="button button--secondary" type="button" data-testid="stats-export"
                    disabled=files.busy() on:click=export>"导出统计表（Excel）"</button>
            </div>
            {files.view()}
            <Transition fallback=|| view! { <p class="muted">"正在统计…"</p> }>
                {move || stats.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(stats) => stats_view(stats).into_any(),
                })}
            </Transition>
        </section>
    }
    .into_any()
}
