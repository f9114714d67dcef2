//! One case: its facts, 询问笔录, history, the law's clocks, its documents' numbers and the next
//! act. An act is checked on the phone by core's rules (so a refusal is explained offline),
//! queued as `case.act`, and applied by the server, which numbers a 立案.

use chrono::{NaiveDate, Utc};
use leptos::prelude::*;
use zhicha_core::case::{
    self, Actor, Case, CaseAct, DeliveryMethod, Stage, document_number, documents_at, late_fee_yuan,
};
use zhicha_core::ids::CaseId;
use zhicha_core::model::Role;
use zhicha_core::time::china_date;

use super::{Page, enterprise_name, number_text, running_clocks, stored_case};
use crate::pages::leader::{cst, date};
use crate::state::{self, use_unsynced};
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct Loaded {
    case: Case,
    enterprise: String,
    role: Role,
    actor: Actor,
}

async fn load(id: Option<CaseId>) -> Result<Loaded, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("尚未登录。请先联网登录。")?;
    let case = stored_case(&db, id).await?;
    let enterprise = enterprise_name(&db, case.enterprise_id).await;
    Ok(Loaded {
        case,
        enterprise,
        role: session.user.role,
        actor: Actor {
            id: session.user.id,
            name: session.user.display_name.clone(),
            role: session.user.role,
        },
    })
}

#[component]
pub fn CasePage(id: Option<CaseId>) -> impl IntoView {
    let engine = use_sync_engine();
    let synced = engine.last_success();
    let loaded = LocalResource::new(move || {
        synced.track();
        load(id)
    });
    view! {
        <section class="page page--case">
            <h1 class="page__title">"案件"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || loaded.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <CaseView data=data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn CaseView(data: Loaded) -> impl IntoView {
    let Loaded {
        case,
        enterprise,
        role,
        actor,
    } = data;
    let today = china_date(Utc::now());
    let case_id = case.id;
    let clocks = running_clocks(&case);
    let documents: Vec<(String, String)> = documents_at(case.state.stage(), case.state.on_site)
        .into_iter()
        .map(|(title, prefix)| {
            let number = case
                .state
                .number
                .as_deref()
                .and_then(|n| document_number(n, prefix))
                .unwrap_or_else(|| "（未编号）".to_owned());
            (title.to_owned(), number)
        })
        .collect();
    let owed = case.state.fine_yuan.map(|fine| {
        fine + late_fee_yuan(fine, case.state.served_on, today)
            - case
                .state
                .paid_yuan
                .min(fine + late_fee_yuan(fine, case.state.served_on, today))
    });
    view! {
        <article class="card case" data-testid="case">
            <h2 class="card__title" data-testid="case-number">{number_text(&case)}</h2>
            <p><span class="badge" data-testid="case-stage">{case.state.stage().label_zh()}</span></p>
            <dl class="facts">
                <dt>"当事人"</dt><dd>{case.party_name.clone()}</dd>
                <dt>"被检查单位"</dt><dd>{enterprise}</dd>
                <dt>"涉嫌违法事实"</dt><dd>{case.facts.clone()}</dd>
                <dt>"违反的规定"</dt><dd>{if case.provisions.is_empty() { "（未填写）".to_owned() } else { case.provisions.clone() }}</dd>
                <dt>"立案日期"</dt><dd data-testid="case-filed-on">{case.state.filed_on.map(date).unwrap_or_else(|| "—".to_owned())}</dd>
                {case.decision.clone().map(|d| view! {
                    <dt>"处罚决定"</dt><dd data-testid="case-decision">{format!("{}；{}；罚款 {} 元", d.provisions, d.basis, d.fine_yuan)}</dd>
                })}
                {case.delivery.clone().map(|d| view! {
                    <dt>"送达"</dt><dd>{format!("{}，受送达人 {}{}", d.method.label_zh(), d.recipient,
                        if d.witness.is_empty() { String::new() } else { format!("，见证人 {}", d.witness) })}</dd>
                })}
                {owed.filter(|_| case.state.stage() == Stage::Served).map(|owed| view! {
                    <dt>"尚欠缴"</dt><dd data-testid="case-owed">{format!("{owed} 元（含加处罚款）")}</dd>
                })}
            </dl>
        </article>
        {(!clocks.is_empty()).then(|| view! {
            <section class="card" data-testid="case-clocks">
                <h2 class="card__title">"法定期限"</h2>
                <ul class="list">
                    {clocks.into_iter().map(|c| view! {
                        <li class:error=c.overdue>
                            {format!("{}：{} 前{}", c.kind.label_zh(), date(c.due), if c.overdue { "（已超期）" } else { "" })}
                            {c.holidays_unchecked.then_some("（节假日未核：仅扣除周末）")}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!documents.is_empty()).then(|| view! {
            <section class="card" data-testid="case-documents">
                <h2 class="card__title">"案件文书"</h2>
                <ul class="list">
                    {documents.into_iter().map(|(title, number)| view! { <li>{format!("{title}　{number}")}</li> }).collect_view()}
                </ul>
                <a class="button button--secondary" data-testid="case-print" href=Page::CaseDocuments(case_id).path()>"查看并打印文书"</a>
            </section>
        })}
        <section class="card">
            <h2 class="card__title">"询问笔录"</h2>
            {if case.interviews.is_empty() { Some(view! { <p class="muted">"无"</p> }) } else { None }}
            {case.interviews.iter().map(|i| view! {
                <div class="interview">
                    <p>{format!("被询问人：{} {}　时间：{}　地点：{}", i.person, i.position, cst(i.started_at), i.place)}</p>
                    <ol class="qa">
                        {i.answers.iter().map(|qa| view! { <li><p>{format!("问：{}", qa.question)}</p><p>{format!("答：{}", qa.answer)}</p></li> }).collect_view()}
                    </ol>
                    <p>{match (&i.signature, &i.refusal) {
                        (Some(_), _) => "被询问人已签名".to_owned(),
                        (None, Some(r)) => format!("未签名：{r}"),
                        (None, None) => "未签名".to_owned(),
                    }}</p>
                </div>
            }).collect_view()}
        </section>
        <section class="card">
            <h2 class="card__title">"办理记录"</h2>
            <ol class="list" data-testid="case-history">
                {case.history.iter().map(|s| view! {
                    <li>{format!("{} {} · {}{}", date(s.on), s.stage.label_zh(), s.by_name,
                        if s.note.is_empty() { String::new() } else { format!(" · {}", s.note) })}</li>
                }).collect_view()}
            </ol>
        </section>
        <NextAct case=case role=role actor=actor />
    }
}

/// The form for the next act the case's stage allows to this role.
#[component]
fn NextAct(case: Case, role: Role, actor: Actor) -> impl IntoView {
    let stage = case.state.stage();
    let leader = matches!(role, Role::Leader | Role::Admin);
    let today = china_date(Utc::now());
    let on = RwSignal::new(today.to_string());
    let text = RwSignal::new(String::new());
    let proposal = RwSignal::new(String::new());
    let items = RwSignal::new(String::new());
    let approver = RwSignal::new(String::new());
    let preservation_decision = RwSignal::new(String::new());
    let open_preservation = case
        .state
        .preservations
        .iter()
        .any(|p| p.decided_on.is_none());
    let provisions = RwSignal::new(case.provisions.clone());
    let basis = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let recipient = RwSignal::new(String::new());
    let witness = RwSignal::new(String::new());
    let method = RwSignal::new("in_person".to_owned());
    let (busy, set_busy) = signal(false);
    // One act per stage: once queued, the form waits for the case to come back from the server.
    let (queued, set_queued) = signal(false);
    let (message, set_message) = signal(None::<Result<String, String>>);
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let case = StoredValue::new(case);
    let actor = StoredValue::new(actor);

    let submit = move |kind: &'static str| {
        let day = match NaiveDate::parse_from_str(on.get_untracked().trim(), "%Y-%m-%d") {
            Ok(day) => day,
            Err(_) => {
                set_message.set(Some(Err("请填写日期（年-月-日）".to_owned())));
                return;
            }
        };
        let yuan = || amount.get_untracked().trim().parse::<u64>().ok();
        let act = match kind {
            "approve" => CaseAct::ApproveFiling { on: day },
            "drop" => CaseAct::Drop {
                reason: text.get_untracked(),
            },
            "notify" => CaseAct::Notify {
                on: day,
                proposal: proposal.get_untracked(),
            },
            "hear" => CaseAct::Hear {
                on: day,
                statement: text.get_untracked(),
            },
            "decide" | "on_site" => {
                let Some(fine_yuan) = yuan() else {
                    set_message.set(Some(Err("请填写罚款金额（元，整数）".to_owned())));
                    return;
                };
                let (provisions, basis) = (provisions.get_untracked(), basis.get_untracked());
                if kind == "decide" {
                    CaseAct::Decide {
                        on: day,
                        provisions,
                        basis,
                        fine_yuan,
                    }
                } else {
                    CaseAct::DecideOnSite {
                        on: day,
                        provisions,
                        basis,
                        fine_yuan,
                    }
                }
            }
            "serve" => CaseAct::Serve {
                on: day,
                method: match method.get_untracked().as_str() {
                    "left" => DeliveryMethod::LeftWithWitness,
                    "electronic" => DeliveryMethod::Electronic,
                    _ => DeliveryMethod::InPerson,
                },
                recipient: recipient.get_untracked(),
                witness: witness.get_untracked(),
            },
            "pay" => {
                let Some(yuan) = yuan() else {
                    set_message.set(Some(Err("请填写缴款金额（元，整数）".to_owned())));
                    return;
                };
                CaseAct::Pay { on: day, yuan }
            }
            "preserve" => CaseAct::Preserve {
                on: day,
                items: items.get_untracked(),
                approved_by: approver.get_untracked(),
            },
            "preservation_decided" => CaseAct::DecidePreservation {
                on: day,
                decision: preservation_decision.get_untracked(),
            },
            _ => CaseAct::Close { on: day },
        };
        // The rules run here first, so a refusal is explained offline; the server runs them again.
        if let Err(refusal) = case::act(
            &case.get_value(),
            &act,
            &actor.get_value(),
            "待编号",
            Utc::now(),
        ) {
            set_message.set(Some(Err(refusal.0)));
            return;
        }
        set_busy.set(true);
        set_message.set(None);
        let id = case.with_value(|c| c.id);
        leptos::task::spawn_local(async move {
            let result = async {
                let db = state::db().await.map_err(|e| e.to_string())?;
                db.queue_case_act(id, &act).await.map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(()) => {
                    set_queued.set(true);
                    set_message.set(Some(Ok(
                        "已提交，将自动同步到服务器；同步后显示新的环节和编号。".to_owned(),
                    )));
                    // The page shows the new stage once the sync brings the case back.
                    engine.sync_now();
                }
                Err(e) => set_message.set(Some(Err(format!("未能保存到本机：{e}")))),
            }
        });
    };

    let date_field = move || {
        view! {
            <label class="field"><span class="field__label">"日期"</span>
                <input class="field__input" type="date" data-testid="act-date" prop:value=on
                    on:input=move |ev| on.set(event_target_value(&ev)) /></label>
        }
    };
    let text_field = move |label: &'static str| {
        view! {
            <label class="field"><span class="field__label">{label}</span>
                <textarea class="field__input" rows="2" data-testid="act-text" prop:value=text
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea></label>
        }
    };
    let decision_fields = move || {
        view! {
            <label class="field"><span class="field__label">"违反的规定"</span>
                <input class="field__input" data-testid="act-provisions" prop:value=provisions
                    on:input=move |ev| provisions.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"处罚依据及裁量情形"</span>
                <input class="field__input" data-testid="act-basis" prop:value=basis
                    placeholder="例如：《安全生产法》第九十九条；裁量：一般"
                    on:input=move |ev| basis.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"罚款（元）"</span>
                <input class="field__input" inputmode="numeric" data-testid="act-amount" prop:value=amount
                    on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
        }
    };
    let button = move |kind: &'static str, label: &'static str| {
        view! {
            <button class="button" type="button" data-testid=format!("act-{kind}")
            disabled=move || busy.get() || queued.get()
                on:click=move |_| submit(kind)>{label}</button>
        }
    };

    let form = match stage {
        Stage::PreFiled => view! {
            {date_field()}
            {leader.then(|| button("approve", "批准立案"))}
            <details><summary>"当场处罚（简易程序，罚款不超过 200 元 / 单位 3000 元）"</summary>
                {decision_fields()}{button("on_site", "作出当场处罚决定")}</details>
            {leader.then(|| view! { {text_field("不予立案的理由")}{button("drop", "不予立案")} })}
        }.into_any(),
        Stage::Filed => view! {
            {date_field()}
            <label class="field"><span class="field__label">"拟作出的行政处罚（告知书载明）"</span>
                <input class="field__input" data-testid="act-proposal" prop:value=proposal
                    placeholder="例如：罚款人民币贰万元"
                    on:input=move |ev| proposal.set(event_target_value(&ev)) /></label>
            {button("notify", "已送达行政处罚告知书")}
            {leader.then(|| view! { {text_field("撤销的理由")}{button("drop", "撤销案件")} })}
        }.into_any(),
        Stage::Notified => view! {
            {date_field()}{text_field("陈述申辩（或听证）情况；放弃的请写明")}{button("hear", "记录陈述申辩")}
        }.into_any(),
        Stage::Heard => if leader {
            view! { {date_field()}{decision_fields()}{button("decide", "作出行政处罚决定")} }.into_any()
        } else {
            view! { <p class="muted">"待负责人作出行政处罚决定。"</p> }.into_any()
        },
        Stage::Decided => view! {
            {date_field()}
            <label class="field"><span class="field__label">"送达方式"</span>
                <select class="field__input" data-testid="act-method" on:change=move |ev| method.set(event_target_value(&ev))>
                    <option value="in_person">"直接送达（受送达人签收）"</option>
                    <option value="left">"留置送达（拒收，见证人在场）"</option>
                    <option value="electronic">"电子送达（当事人书面同意）"</option>
                </select></label>
            <label class="field"><span class="field__label">"受送达人"</span>
                <input class="field__input" data-testid="act-recipient" prop:value=recipient
                    on:input=move |ev| recipient.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"见证人（留置送达时必填）"</span>
                <input class="field__input" data-testid="act-witness" prop:value=witness
                    on:input=move |ev| witness.set(event_target_value(&ev)) /></label>
            {button("serve", "记录送达")}
        }.into_any(),
        Stage::Served => view! {
            {date_field()}
            <label class="field"><span class="field__label">"缴款金额（元）"</span>
                <input class="field__input" inputmode="numeric" data-testid="act-amount" prop:value=amount
                    on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
            {button("pay", "记录缴款")}
            {leader.then(|| button("close", "批准结案"))}
        }.into_any(),
        Stage::Executed => if leader {
            view! { {date_field()}{button("close", "批准结案")} }.into_any()
        } else {
            view! { <p class="muted">"已执行完毕，待负责人批准结案。"</p> }.into_any()
        },
        Stage::Closed | Stage::Dropped => view! { <p class="muted">"本案已办结。"</p> }.into_any(),
    };
    // 先行登记保存 (Art. 56) while no decision is made: its notice on site, its 处理决定 within
    // seven working days.
    let before_decision = matches!(
        stage,
        Stage::PreFiled | Stage::Filed | Stage::Notified | Stage::Heard
    );
    let preservation = before_decision.then(|| view! {
        <details class="case-preserve" data-testid="case-preserve">
            <summary>"先行登记保存证据（证据可能灭失或以后难以取得时，经负责人批准）"</summary>
            <label class="field"><span class="field__label">"登记保存的证据（名称、数量、存放地点）"</span>
                <input class="field__input" data-testid="preserve-items" prop:value=items
                    on:input=move |ev| items.set(event_target_value(&ev)) /></label>
            <label class="field"><span class="field__label">"批准人（行政机关负责人）"</span>
                <input class="field__input" data-testid="preserve-approver" prop:value=approver
                    on:input=move |ev| approver.set(event_target_value(&ev)) /></label>
            {button("preserve", "登记保存并出具通知书")}
            {open_preservation.then(|| view! {
                <p class="muted">"已登记保存的证据须在七个工作日内作出处理决定。"</p>
                <label class="field"><span class="field__label">"处理决定（解除、移送、没收等）"</span>
                    <input class="field__input" data-testid="preserve-decision" prop:value=preservation_decision
                        on:input=move |ev| preservation_decision.set(event_target_value(&ev)) /></label>
                {button("preservation_decided", "作出处理决定")}
            })}
        </details>
    });
    view! {
        <section class="card case-act no-print" data-testid="case-act">
            <h2 class="card__title">"下一环节"</h2>
            {form}
            {preservation}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
        </section>
    }
}
