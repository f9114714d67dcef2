//! The start screen's entry cards (how the inspection came to be): 扫码入企 or why no code could
//! be read, the 审批 of a 四不两直 visit, the 检查通知 of a planned one, the 专项行动, and the
//! reason to go past the enterprise's yearly cap. The rules are core's (`plan::entry_blockers`,
//! run by `fieldwork::start_inspection`); these cards only collect the answers.

use chrono::{NaiveDate, Utc};
use leptos::prelude::*;
use zhicha_core::model::{Enterprise, GeoPoint, InspectionKind};
use zhicha_core::plan::scan::{scan_matches, scan_message};
use zhicha_core::plan::{
    self, Approval, CAMPAIGNS, Entry, EntryScan, NO_SCAN_REASONS, Notice, OverCap, OverCapReason,
};

use crate::components::qr_scan::QrScanner;
use crate::storage::EntryDraft;

/// The value of the 其他 option of the reason and campaign selects.
const OTHER: &str = "其他";
/// How a planned inspection may be announced.
const NOTICE_METHODS: [&str; 4] = ["书面通知", "电话通知", "短信通知", "现场出示"];

/// What the start screen knows before anything is asked: the task's entry (or an empty one),
/// and the enterprise's visits this year against its cap.
#[derive(Clone)]
pub(super) struct EntryBase {
    pub entry: Entry,
    pub visits: u32,
    pub cap: Option<u32>,
}

/// The entry cards' answers, kept in the page's signals.
#[derive(Clone, Copy)]
pub(super) struct EntryForm {
    scan: RwSignal<Option<EntryScan>>,
    no_scan: RwSignal<String>,
    no_scan_note: RwSignal<String>,
    approval_by: RwSignal<String>,
    approval_on: RwSignal<String>,
    approval_ref: RwSignal<String>,
    notice_on: RwSignal<String>,
    notice_method: RwSignal<String>,
    campaign: RwSignal<String>,
    campaign_other: RwSignal<String>,
    over_cap: RwSignal<Option<OverCapReason>>,
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn today() -> NaiveDate {
    zhicha_core::time::china_date(Utc::now())
}

impl EntryForm {
    pub fn new() -> Self {
        Self {
            scan: RwSignal::new(None),
            no_scan: RwSignal::new(String::new()),
            no_scan_note: RwSignal::new(String::new()),
            approval_by: RwSignal::new(String::new()),
            approval_on: RwSignal::new(today().format("%Y-%m-%d").to_string()),
            approval_ref: RwSignal::new(String::new()),
            notice_on: RwSignal::new(String::new()),
            notice_method: RwSignal::new(String::new()),
            campaign: RwSignal::new(String::new()),
            campaign_other: RwSignal::new(String::new()),
            over_cap: RwSignal::new(None),
        }
    }

    /// The cards of a new visit, as a draft: nothing answered, approved today.
    pub fn blank() -> EntryDraft {
        EntryDraft {
            approval_on: today().format("%Y-%m-%d").to_string(),
            ..EntryDraft::default()
        }
    }

    /// The form filled in from a kept draft.
    pub fn from_draft(draft: &EntryDraft) -> Self {
        let form = Self::new();
        form.restore(draft);
        form
    }

    /// Sets every card from `draft` (a restored draft, or the blank form on 放弃草稿).
    pub fn restore(self, draft: &EntryDraft) {
        self.scan.set(draft.scan.clone());
        self.no_scan.set(draft.no_scan.clone());
        self.no_scan_note.set(draft.no_scan_note.clone());
        self.approval_by.set(draft.approval_by.clone());
        self.approval_on.set(draft.approval_on.clone());
        self.approval_ref.set(draft.approval_ref.clone());
        self.notice_on.set(draft.notice_on.clone());
        self.notice_method.set(draft.notice_method.clone());
        self.campaign.set(draft.campaign.clone());
        self.campaign_other.set(draft.campaign_other.clone());
        self.over_cap.set(draft.over_cap);
    }

    /// The cards as answered so far, for the draft (tracked: the draft follows every change).
    pub fn draft(self) -> EntryDraft {
        EntryDraft {
            scan: self.scan.get(),
            no_scan: self.no_scan.get(),
            no_scan_note: self.no_scan_note.get(),
            approval_by: self.approval_by.get(),
            approval_on: self.approval_on.get(),
            approval_ref: self.approval_ref.get(),
            notice_on: self.notice_on.get(),
            notice_method: self.notice_method.get(),
            campaign: self.campaign.get(),
            campaign_other: self.campaign_other.get(),
            over_cap: self.over_cap.get(),
        }
    }

    /// The entry as answered so far, on top of `base`; core decides whether it may start.
    pub fn entry(self, base: &EntryBase, kind: InspectionKind) -> Entry {
        let mut entry = base.entry.clone();
        entry.scan = self.scan.get_untracked();
        if entry.scan.is_none() {
            let chosen = self.no_scan.get_untracked();
            let note = self.no_scan_note.get_untracked().trim().to_owned();
            entry.no_scan_reason = match (chosen.as_str(), note.is_empty()) {
                ("", _) => String::new(),
                (OTHER, _) => note,
                (reason, true) => reason.to_owned(),
                (reason, false) => format!("{reason}：{note}"),
            };
        }
        if kind == InspectionKind::Unannounced {
            entry.notice = None;
            let by = self.approval_by.get_untracked().trim().to_owned();
            if base.entry.approval.is_none() && !by.is_empty() {
                entry.approval = Some(Approval {
                    by,
                    on: day(&self.approval_on.get_untracked()).unwrap_or_else(today),
                    reference: self.approval_ref.get_untracked().trim().to_owned(),
                });
            }
        } else {
            let method = self.notice_method.get_untracked();
            entry.notice = day(&self.notice_on.get_untracked()).map(|on| Notice { on, method });
        }
        if base.entry.campaign.is_empty() {
            entry.campaign = match self.campaign.get_untracked().as_str() {
                OTHER => self.campaign_other.get_untracked().trim().to_owned(),
                chosen => chosen.to_owned(),
            };
        }
        if let (Some(cap), Some(reason)) = (base.cap, self.over_cap.get_untracked())
            && plan::cap_warning(base.visits, Some(cap)).is_some()
        {
            entry.over_cap = Some(OverCap {
                visits: base.visits,
                cap,
                reason,
            });
        }
        entry
    }
}

/// Sets `value` from a text field, on typing and on leaving it.
fn text_field(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">{label}</span>
            <input class="field__input" data-testid=testid prop:value=value placeholder=placeholder
                on:input=move |ev| value.set(event_target_value(&ev))
                on:change=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// A select of `options` (value = label) after an empty first option.
fn select_field(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    empty: &'static str,
    options: Vec<&'static str>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field__label">{label}</span>
            <select class="field__input" data-testid=testid prop:value=value
                on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">{empty}</option>
                {options.into_iter().map(|o| view! { <option value=o>{o}</option> }).collect_view()}
            </select>
        </label>
    }
}

fn approval_line(a: &Approval) -> String {
    let mut line = format!("计划审批：{}，{}", a.by, a.on.format("%Y-%m-%d"));
    if !a.reference.is_empty() {
        line.push_str(&format!("，{}", a.reference));
    }
    line
}

/// 扫码入企: the camera, what it read, or why nothing could be read.
#[component]
pub(super) fn ScanCard(
    form: EntryForm,
    enterprise: Enterprise,
    fix: Signal<Option<GeoPoint>>,
) -> impl IntoView {
    let scan = form.scan;
    let checked = enterprise.clone();
    let on_read = Callback::new(move |text: String| {
        scan.set(Some(EntryScan {
            at: Utc::now(),
            matches: scan_matches(&checked, &text),
            location: fix.get_untracked(),
            text,
        }));
    });
    let mut reasons: Vec<&'static str> = NO_SCAN_REASONS.to_vec();
    reasons.push(OTHER);
    view! {
        <div class="card entry-scan" data-testid="entry-scan">
            <h2 class="card__title">"扫码入企"</h2>
            <p class="muted">"扫描企业的执法监督码或营业执照二维码。"</p>
            <QrScanner on_read />
            {move || scan.get().map(|s| {
                let class = if s.matches { "entry-scan__result ok" } else { "entry-scan__result warn" };
                view! {
                    <p class=class role="status" data-testid="scan-result">{scan_message(&enterprise, &s.text)}</p>
                    <p class="muted entry-scan__text">{format!("扫码时间：{}", zhicha_core::time::minute(s.at))}</p>
                }
            })}
            <Show when=move || scan.get().is_none()>
                {select_field("无法扫码的原因", form.no_scan, "no-scan-reason", "（已扫码时不必选择）", reasons.clone())}
                {text_field("补充说明（选“其他”时必填）", form.no_scan_note, "no-scan-note", "例如：码牌被遮挡")}
            </Show>
        </div>
    }
}

/// 审批 (a 四不两直 visit), 检查通知 (a planned one) and 专项行动.
#[component]
pub(super) fn ApprovalCard(
    form: EntryForm,
    base: Entry,
    kind: ReadSignal<InspectionKind>,
) -> impl IntoView {
    let unannounced = move || kind.get() == InspectionKind::Unannounced;
    let plan_approval = base.approval.as_ref().map(approval_line);
    let asks_approval = base.approval.is_none();
    let mut campaigns: Vec<&'static str> = CAMPAIGNS.to_vec();
    campaigns.push(OTHER);
    let task_campaign = (!base.campaign.is_empty()).then(|| base.campaign.clone());
    view! {
        <div class="card entry-approval">
            <h2 class="card__title">"审批与通知"</h2>
            {plan_approval.map(|line| view! { <p data-testid="plan-approval">{line}</p> })}
            <Show when=move || asks_approval && unannounced()>
                <p class="muted">"四不两直暗访须经审批，不得事先通知被检查单位。"</p>
                {text_field("审批人", form.approval_by, "approval-by", "例如：王局长")}
                <label class="field">
                    <span class="field__label">"审批日期"</span>
                    <input class="field__input" type="date" data-testid="approval-on" prop:value=form.approval_on
                        on:input=move |ev| form.approval_on.set(event_target_value(&ev))
                        on:change=move |ev| form.approval_on.set(event_target_value(&ev)) />
                </label>
                {text_field("审批文号（可选）", form.approval_ref, "approval-ref", "例如：达应急审〔2026〕12号")}
            </Show>
            <Show when=move || !unannounced()>
                <label class="field">
                    <span class="field__label">"检查通知日期（未通知可不填）"</span>
                    <input class="field__input" type="date" data-testid="notice-on" prop:value=form.notice_on
                        on:input=move |ev| form.notice_on.set(event_target_value(&ev))
                        on:change=move |ev| form.notice_on.set(event_target_value(&ev)) />
                </label>
                {select_field("通知方式", form.notice_method, "notice-method", "（请选择）", NOTICE_METHODS.to_vec())}
            </Show>
            {match task_campaign {
                Some(c) => view! { <p data-testid="task-campaign">{format!("专项行动：{c}")}</p> }.into_any(),
                None => view! {
                    {select_field("专项行动（可选）", form.campaign, "campaign", "（无）", campaigns)}
                    <Show when=move || form.campaign.get() == OTHER>
                        {text_field("专项行动名称", form.campaign_other, "campaign-other", "")}
                    </Show>
                }.into_any(),
            }}
        </div>
    }
}

/// The yearly cap's warning and the reason to go on, when the enterprise is at its cap.
#[component]
pub(super) fn CapCard(form: EntryForm, visits: u32, cap: Option<u32>) -> impl IntoView {
    plan::cap_warning(visits, cap).map(|message| {
        let chosen = form.over_cap;
        view! {
            <div class="card entry-cap" data-testid="cap-warning">
                <p class="warn" role="alert">{message}</p>
                <label class="field">
                    <span class="field__label">"超过年度检查上限的理由（必选）"</span>
                    <select class="field__input" data-testid="over-cap-reason"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            chosen.set(OverCapReason::ALL.into_iter().find(|r| r.label_zh() == value));
                        }>
                        <option value="">"（请选择）"</option>
                        {OverCapReason::ALL.into_iter().map(|r| view! {
                            <option value=r.label_zh() selected=move || chosen.get() == Some(r)>{r.label_zh()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
        }
    })
}
