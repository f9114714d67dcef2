//! 预立案 on site, offline: the findings it rests on, the party, the suspected violation and the
//! 询问笔录 (questions and answers, signed on the phone by the person, or their refusal with a
//! witness). Saved with its `case.save` in one transaction; a leader's 立案审批 numbers it.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use web_sys::Blob;
use zhicha_core::case::{self, Case, CaseSource, CaseState, Interview, Party, QuestionAnswer};
use zhicha_core::ids::{CaseId, InspectionId, PhotoHash};
use zhicha_core::model::{Finding, Inspection};

use super::Page;
use crate::components::signature_pad::SignaturePad;
use crate::pages::inspect::finish::store_signature;
use crate::state::{self, use_unsynced};

/// The questions an interview usually opens with; the officer edits or adds to them.
const OPENING_QUESTIONS: [&str; 3] = [
    "我们是旗应急管理局执法人员，已出示执法证件。你是否看清？是否申请回避？",
    "请讲一下你的姓名、工作单位和职务。",
    "对本次检查发现的问题，你有什么要说明的？",
];

#[derive(Clone)]
struct Loaded {
    inspection: Inspection,
    findings: Vec<Finding>,
    enterprise: String,
}

async fn load(id: Option<InspectionId>) -> Result<Loaded, String> {
    let id = id.ok_or("链接中的检查编号无效。")?;
    let db = state::db().await.map_err(|e| e.to_string())?;
    let inspection = db
        .inspection(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("本机没有这次检查的记录。")?;
    let findings = db
        .findings_of_inspection(id)
        .await
        .map_err(|e| e.to_string())?;
    let enterprise = super::enterprise_name(&db, inspection.enterprise_id).await;
    Ok(Loaded {
        inspection,
        findings,
        enterprise,
    })
}

#[component]
pub fn PreFilePage(inspection: Option<InspectionId>) -> impl IntoView {
    let loaded = LocalResource::new(move || load(inspection));
    view! {
        <section class="page page--prefile">
            <h1 class="page__title">"预立案"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || loaded.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <PreFileForm data=data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn PreFileForm(data: Loaded) -> impl IntoView {
    let Loaded {
        inspection,
        findings,
        enterprise,
    } = data;
    let chosen = RwSignal::new(findings.iter().map(|f| f.id).collect::<Vec<_>>());
    let party_is_person = RwSignal::new(false);
    let party_name = RwSignal::new(enterprise);
    let facts = RwSignal::new(
        findings
            .iter()
            .map(|f| format!("{}（{}）", f.description, f.place))
            .collect::<Vec<_>>()
            .join("；"),
    );
    let mut bases: Vec<String> = findings
        .iter()
        .map(|f| f.legal_basis.clone())
        .filter(|b| !b.trim().is_empty())
        .collect();
    bases.dedup();
    let provisions = RwSignal::new(bases.join("；"));
    let person = RwSignal::new(String::new());
    let position = RwSignal::new(String::new());
    let place = RwSignal::new(inspection.places.clone());
    let answers = RwSignal::new(
        OPENING_QUESTIONS
            .iter()
            .map(|q| QuestionAnswer {
                question: (*q).to_owned(),
                answer: String::new(),
            })
            .collect::<Vec<_>>(),
    );
    let signature = RwSignal::new(None::<PhotoHash>);
    let refusing = RwSignal::new(false);
    let refusal = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let started_at = Utc::now();
    let unsynced = use_unsynced();
    let navigate = use_navigate();
    let inspection = StoredValue::new(inspection);

    let sign = move |png: Blob| {
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let db = state::db().await.map_err(|e| e.to_string())?;
                store_signature(&db, &inspection.get_value(), &png).await
            }
            .await;
            set_busy.set(false);
            match result {
                Ok(hash) => signature.set(Some(hash)),
                Err(e) => set_error.set(Some(format!("签名未保存：{e}"))),
            }
        });
    };

    let save = move |_| {
        let i = inspection.get_value();
        let answered: Vec<QuestionAnswer> = answers
            .get_untracked()
            .into_iter()
            // A question of the template that was not asked (no answer) is left out; a refusal
            // to answer is written as the answer.
            .filter(|qa| !qa.answer.trim().is_empty())
            .collect();
        let interviews = if person.get_untracked().trim().is_empty() && answered.is_empty() {
            Vec::new()
        } else {
            vec![Interview {
                person: person.get_untracked().trim().to_owned(),
                position: position.get_untracked().trim().to_owned(),
                started_at,
                ended_at: Some(Utc::now()),
                place: place.get_untracked().trim().to_owned(),
                answers: answered,
                signature: signature.get_untracked(),
                refusal: refusing
                    .get_untracked()
                    .then(|| refusal.get_untracked().trim().to_owned()),
            }]
        };
        let case = Case {
            id: CaseId::new(),
            org_id: i.org_id,
            enterprise_id: i.enterprise_id,
            inspection_id: Some(i.id),
            finding_ids: chosen.get_untracked(),
            source: CaseSource::Inspection,
            party: if party_is_person.get_untracked() {
                Party::Person
            } else {
                Party::Organisation
            },
            party_name: party_name.get_untracked().trim().to_owned(),
            facts: facts.get_untracked().trim().to_owned(),
            provisions: provisions.get_untracked().trim().to_owned(),
            proposal: String::new(),
            officers: i.inspectors.iter().map(|o| o.user_id).collect(),
            interviews,
            created_by: i.created_by,
            created_at: Utc::now(),
            state: CaseState::pre_filed(),
            history: Vec::new(),
            decision: None,
            delivery: None,
            preserved: vec![],
        };
        if let Err((_, message)) = case::validate_pre_filing(&case) {
            set_error.set(Some(message));
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let db = state::db().await.map_err(|e| e.to_string())?;
                db.save_case(&case).await.map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(()) => navigate(&Page::Case(case.id).path(), Default::default()),
                Err(e) => set_error.set(Some(format!(
                    "未能保存到本机：{e}。已填写的内容仍在页面上，请重试。"
                ))),
            }
        });
    };

    view! {
        <form class="card prefile" on:submit=|ev| ev.prevent_default()>
            <h2 class="card__title">"案件来源：本次检查发现的隐患"</h2>
            {if findings.is_empty() {
                view! { <p class="muted">"本次检查未记录隐患；可直接填写涉嫌违法事实。"</p> }.into_any()
            } else {
                view! {
                    <ul class="list">
                        {findings.iter().map(|f| {
                            let id = f.id;
                            view! {
                                <li><label class="check">
                                    <input type="checkbox" data-testid="case-finding"
                                        prop:checked=move || chosen.with(|c| c.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| { c.retain(|x| *x != id); if on { c.push(id); } });
                                        } />
                                    {format!("{}（{}）", f.description, f.level.label_zh())}
                                </label></li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <fieldset class="field">
                <legend class="field__label">"当事人类型"</legend>
                <label class="check"><input type="radio" name="party" prop:checked=move || !party_is_person.get()
                    on:change=move |_| party_is_person.set(false) />"单位（法人或其他组织）"</label>
                <label class="check"><input type="radio" name="party" data-testid="party-person" prop:checked=move || party_is_person.get()
                    on:change=move |_| party_is_person.set(true) />"个人"</label>
            </fieldset>
            <label class="field"><span class="field__label">"当事人"</span>
                <input class="field__input" data-testid="case-party" prop:value=party_name
                    on:input=move |ev| party_name.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"涉嫌违法事实"</span>
                <textarea class="field__input" rows="4" data-testid="case-facts" prop:value=facts
                    on:input=move |ev| facts.set(event_target_value(&ev))></textarea></label>
            <label class="field"><span class="field__label">"涉嫌违反的规定（可在立案后补充）"</span>
                <input class="field__input" data-testid="case-provisions" prop:value=provisions
                    on:input=move |ev| provisions.set(event_target_value(&ev)) /></label>
            <p class="muted">{format!("办案人员：{}", inspection.with_value(|i| i.inspectors.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join("、")))}</p>

            <h2 class="card__title">"询问笔录"</h2>
            <label class="field"><span class="field__label">"被询问人"</span>
                <input class="field__input" data-testid="interview-person" prop:value=person
                    on:input=move |ev| person.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"工作单位及职务"</span>
                <input class="field__input" data-testid="interview-position" prop:value=position
                    on:input=move |ev| position.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"询问地点"</span>
                <input class="field__input" prop:value=place
                    on:input=move |ev| place.set(event_target_value(&ev)) /></label>
            <ol class="qa">
                {move || (0..answers.with(Vec::len)).map(|n| view! {
                    <li class="qa__pair">
                        <label class="field"><span class="field__label">"问"</span>
                            <textarea class="field__input" rows="2" data-testid="qa-question"
                                prop:value=move || answers.with(|a| a.get(n).map(|qa| qa.question.clone()).unwrap_or_default())
                                on:input=move |ev| answers.update(|a| if let Some(qa) = a.get_mut(n) { qa.question = event_target_value(&ev); })></textarea></label>
                        <label class="field"><span class="field__label">"答"</span>
                            <textarea class="field__input" rows="2" data-testid="qa-answer"
                                prop:value=move || answers.with(|a| a.get(n).map(|qa| qa.answer.clone()).unwrap_or_default())
                                on:input=move |ev| answers.update(|a| if let Some(qa) = a.get_mut(n) { qa.answer = event_target_value(&ev); })></textarea></label>
                    </li>
                }).collect_view()}
            </ol>
            <button class="button button--secondary" type="button" on:click=move |_| answers.update(|a| a.push(QuestionAnswer { question: String::new(), answer: String::new() }))>
                "+ 增加一问一答"</button>
            <p class="muted">"未作答的问题不记入笔录；拒绝回答的，请在“答”中写明。以上笔录须向被询问人宣读或交其阅看，核对无误后由其签名。"</p>
            {move || match (signature.get(), refusing.get()) {
                (Some(_), _) => view! { <p class="badge badge--ok" data-testid="interview-signed">"被询问人已签名"</p> }.into_any(),
                (None, false) => view! {
                    <SignaturePad who="被询问人".to_owned() busy=busy on_signed=Callback::new(sign) />
                    <button class="button button--secondary" type="button" data-testid="interview-refuse"
                        on:click=move |_| refusing.set(true)>"被询问人拒绝签名"</button>
                }.into_any(),
                (None, true) => view! {
                    <label class="field"><span class="field__label">"拒绝签名的情况及见证人"</span>
                        <input class="field__input" data-testid="interview-refusal" prop:value=refusal
                            placeholder="例如：被询问人拒绝签名，见证人 周六（村委会主任）"
                            on:input=move |ev| refusal.set(event_target_value(&ev)) /></label>
                    <button class="button button--secondary" type="button" on:click=move |_| refusing.set(false)>"返回签名"</button>
                }.into_any(),
            }}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button class="button button--wide" type="button" data-testid="case-save" disabled=busy on:click=save>
                "保存预立案（离线可用，联网后报负责人审批）"</button>
        </form>
    }
}
