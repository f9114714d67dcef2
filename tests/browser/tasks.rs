//! 我的任务 and the start screen's entry (#22): a task kept from the bootstrap is listed offline
//! and starts an inspection carrying its plan, approval, campaign and officers; a start needs a
//! 扫码入企 scan or the reason for none, a 四不两直 visit its approval, and a visit past the
//! yearly cap its reason; QR codes are read from pixels, and from a camera's frames.

use chrono::{Duration, NaiveDate, Utc};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use zhicha::components::qr_scan::decode_qr;
use zhicha::pages::Page;
use zhicha::state;
use zhicha::storage::PlanData;
use zhicha_core::ids::{DrawId, PlanId, TaskId};
use zhicha_core::model::{Enterprise, Inspection, InspectionKind, User};
use zhicha_core::packs;
use zhicha_core::plan::api::Visits;
use zhicha_core::plan::{
    Approval, CapRule, Grade, NO_SCAN_REASONS, OverCap, OverCapReason, Task, default_caps, scan,
};
use zhicha_core::protocol::BootstrapResponse;

use crate::fixtures;
use crate::screens::{document, find, open_app, sleep, type_into, wait_text};

/// The inspector of these tests, a colleague of his team, and an enterprise of their directory.
struct Day {
    user: User,
    colleague: User,
    enterprise: Enterprise,
}

/// Signs in an inspector with a colleague and stores a bootstrap with `tasks`, `caps` and
/// `visits` (as a login does).
async fn day(
    enterprise: Enterprise,
    tasks: impl FnOnce(&Day) -> Vec<Task>,
    caps: Vec<CapRule>,
    visits: Vec<Visits>,
) -> Day {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("task-inspector", "周明", "15062201", None);
    let colleague = fixtures::inspector("task-colleague", "吴芳", "15062202", Some(user.org_id));
    fixtures::sign_in(&user).await;
    db.put_packs(packs::all()).await.expect("packs");
    let mut enterprise = enterprise;
    enterprise.org_id = user.org_id;
    let day = Day {
        user,
        colleague,
        enterprise,
    };
    let bootstrap = BootstrapResponse {
        user: day.user.clone(),
        roster: vec![day.user.clone(), day.colleague.clone()],
        packs: vec![],
        enterprises: vec![day.enterprise.clone()],
        open_findings: vec![],
        orgs: vec![],
        server_time: Some(Utc::now()),
        tasks: tasks(&day),
        caps,
        visits,
    };
    db.put_bootstrap(&bootstrap).await.expect("bootstrap");
    day
}

fn task_for(day: &Day) -> Task {
    Task {
        id: TaskId::new(),
        plan_id: PlanId::new(),
        draw_id: DrawId::new(),
        org_id: day.user.org_id,
        enterprise_id: day.enterprise.id,
        officers: vec![day.user.id, day.colleague.id],
        key: true,
        due: zhicha_core::time::china_date(Utc::now()) - Duration::days(1),
        campaign: "安全生产月".to_owned(),
        approval: Some(Approval {
            by: "王局长".to_owned(),
            on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            reference: "达应急审〔2026〕3号".to_owned(),
        }),
        inspection_id: None,
    }
}

/// Ticks `user` among the co-inspectors.
async fn tick_user(user: &User) {
    find(&format!(
        "[data-testid=co-inspectors] [data-user='{}'] input",
        user.id
    ))
    .await
    .click();
}

/// Waits for the position fix to settle; when there is none (headless), gives the reason.
pub(crate) async fn settle_fix() {
    for _ in 0..200 {
        if document()
            .query_selector("[data-testid=fix-note]")
            .unwrap()
            .is_some()
            || document().body().unwrap().inner_text().contains("已定位")
        {
            break;
        }
        sleep(50).await;
    }
    if let Some(note) = document().query_selector("[data-testid=fix-note]").unwrap() {
        let note: HtmlInputElement = note.dyn_into().unwrap();
        note.set_value("室内无定位信号");
        note.dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    }
}

/// Gives the first reason for no scan and, for a 四不两直 visit, its approval.
pub(crate) async fn fill_entry(unannounced: bool) {
    type_into(
        &find("[data-testid=no-scan-reason]").await,
        NO_SCAN_REASONS[0],
    );
    if unannounced {
        type_into(&find("[data-testid=approval-by]").await, "王局长");
    }
}

/// The inspection the start screen saved for `enterprise`, once it is there.
async fn started_of(enterprise: &Enterprise) -> Inspection {
    let db = state::db().await.unwrap();
    for _ in 0..200 {
        if let Some(found) = db
            .inspections()
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.enterprise_id == enterprise.id)
        {
            return found;
        }
        sleep(50).await;
    }
    panic!(
        "no inspection was started; page: {}",
        document().body().unwrap().inner_text()
    );
}

#[wasm_bindgen_test]
async fn a_stored_task_is_listed_offline_and_starts_an_inspection_with_its_plan_and_officers() {
    let mut enterprise = fixtures::enterprise();
    enterprise.name = "达拉特旗任务煤矿".to_owned();
    let day = day(enterprise, |d| vec![task_for(d)], vec![], vec![]).await;
    let task = state::db().await.unwrap().plan_data().await.unwrap().tasks[0].clone();

    let app = open_app(&Page::Tasks.path());
    let card = find(&format!("[data-task='{}']", task.id)).await;
    let text = card.inner_text();
    for expected in [
        "达拉特旗任务煤矿",
        "重点",
        "本人",
        "逾期",
        "周明、吴芳",
        "专项行动：安全生产月",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    let start = find(&format!(
        "[data-task='{}'] [data-testid=task-start]",
        task.id
    ))
    .await;
    let path = Page::StartTask(task.id).path();
    assert_eq!(start.get_attribute("href").as_deref(), Some(path.as_str()));
    drop(app);
    let app = open_app(&path);
    wait_text("按任务开始检查", true).await;
    wait_text("计划审批：王局长，2026-03-01，达应急审〔2026〕3号", true).await;
    wait_text("专项行动：安全生产月", true).await;
    // The task's colleague is ticked; planned work is 日常检查.
    let routine = find("[data-testid=kind-routine]").await;
    assert_eq!(
        routine.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    let ticked: HtmlInputElement = find(&format!(
        "[data-testid=co-inspectors] [data-user='{}'] input",
        day.colleague.id
    ))
    .await
    .dyn_into()
    .unwrap();
    assert!(ticked.checked(), "the task's officer is preselected");
    settle_fix().await;

    // Neither a scan nor a reason: refused in words.
    find("[data-testid=start]").await.click();
    wait_text(
        "请扫码入企（执法监督码或营业执照二维码），无法扫码时写明原因",
        true,
    )
    .await;
    fill_entry(false).await;
    find("[data-testid=start]").await.click();
    let started = started_of(&day.enterprise).await;
    assert_eq!(started.entry.task_id, Some(task.id));
    assert_eq!(started.entry.plan_id, Some(task.plan_id));
    assert_eq!(started.entry.draw_id, Some(task.draw_id));
    assert_eq!(started.entry.approval, task.approval);
    assert_eq!(started.entry.campaign, "安全生产月");
    assert_eq!(started.entry.no_scan_reason, NO_SCAN_REASONS[0]);
    assert_eq!(started.kind, InspectionKind::Routine);
    assert!(
        started
            .inspectors
            .iter()
            .any(|i| i.user_id == day.colleague.id)
    );
    drop(app);

    // Before any sync, the list shows it started, and home no longer counts it.
    let app = open_app(&Page::Tasks.path());
    let progress = find(&format!(
        "[data-task='{}'] [data-testid=task-progress]",
        task.id
    ))
    .await;
    assert_eq!(progress.inner_text(), "已开始");
    find(&format!(
        "[data-task='{}'] [data-testid=task-continue]",
        task.id
    ))
    .await;
    drop(app);
}

#[wasm_bindgen_test]
async fn my_tasks_says_in_words_when_there_are_none() {
    day(fixtures::enterprise(), |_| vec![], vec![], vec![]).await;
    let app = open_app(&Page::Tasks.path());
    let empty = find("[data-testid=tasks-empty]").await;
    assert!(empty.inner_text().contains("暂无任务"));
    drop(app);
    let app = open_app(&Page::Home.path());
    let link = find("[data-testid=my-tasks]").await;
    assert_eq!(link.inner_text(), "我的任务（0）");
    drop(app);
}

#[wasm_bindgen_test]
async fn an_unannounced_visit_without_approval_is_refused() {
    let day = day(fixtures::enterprise(), |_| vec![], vec![], vec![]).await;
    let app = open_app(&Page::StartInspection(day.enterprise.id).path());
    tick_user(&day.colleague).await;
    settle_fix().await;
    type_into(
        &find("[data-testid=no-scan-reason]").await,
        NO_SCAN_REASONS[1],
    );
    find("[data-testid=start]").await.click();
    wait_text("四不两直暗访须记录审批（审批人与日期）", true).await;
    type_into(&find("[data-testid=approval-by]").await, "王局长");
    type_into(
        &find("[data-testid=approval-ref]").await,
        "暗访审〔2026〕7号",
    );
    find("[data-testid=start]").await.click();
    let started = started_of(&day.enterprise).await;
    let approval = started.entry.approval.expect("approval recorded");
    assert_eq!(approval.by, "王局长");
    assert_eq!(approval.reference, "暗访审〔2026〕7号");
    assert_eq!(approval.on, zhicha_core::time::china_date(Utc::now()));
    assert_eq!(started.entry.notice, None);
    drop(app);
}

#[wasm_bindgen_test]
async fn an_enterprise_at_its_cap_warns_and_requires_a_reason() {
    let mut enterprise = fixtures::enterprise();
    enterprise.grade = Some(Grade::C);
    let id = enterprise.id;
    // Coal, class C: at most 6 a year by the default table; the server counted 6.
    let day = day(
        enterprise,
        |_| vec![],
        default_caps(),
        vec![Visits {
            enterprise_id: id,
            visits: 6,
        }],
    )
    .await;
    let app = open_app(&Page::StartInspection(day.enterprise.id).path());
    let warning = find("[data-testid=cap-warning]").await;
    assert!(
        warning
            .inner_text()
            .contains("该单位本年度已检查 6 次，已达年度检查上限 6 次"),
        "{}",
        warning.inner_text()
    );
    tick_user(&day.colleague).await;
    settle_fix().await;
    fill_entry(true).await;
    find("[data-testid=start]").await.click();
    wait_text("继续检查须说明理由", true).await;
    assert!(
        state::db()
            .await
            .unwrap()
            .inspections()
            .await
            .unwrap()
            .iter()
            .all(|i| i.enterprise_id != id)
    );
    type_into(
        &find("[data-testid=over-cap-reason]").await,
        OverCapReason::Complaint.label_zh(),
    );
    find("[data-testid=start]").await.click();
    let started = started_of(&day.enterprise).await;
    assert_eq!(
        started.entry.over_cap,
        Some(OverCap {
            visits: 6,
            cap: 6,
            reason: OverCapReason::Complaint,
        })
    );
    drop(app);
}

/// `text` as a QR code in an RGBA image, `scale` pixels a module, with the quiet zone.
fn qr_rgba(text: &str, scale: usize) -> (u32, u32, Vec<u8>) {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("encodes");
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 8) * scale;
    let mut rgba = vec![255u8; side * side * 4];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
            if mx < modules && my < modules && colors[my * modules + mx] == qrcode::Color::Dark {
                let at = (y * side + x) * 4;
                rgba[at..at + 3].fill(0);
            }
        }
    }
    (side as u32, side as u32, rgba)
}

#[wasm_bindgen_test]
fn decode_qr_reads_a_licence_url_and_the_bureau_code() {
    let enterprise = fixtures::enterprise();
    let licence = "http://www.gsxt.gov.cn/index.html?uniscid=91150621MA0N000001";
    let (w, h, rgba) = qr_rgba(licence, 4);
    let read = decode_qr(w, h, &rgba).expect("the licence code is read");
    assert_eq!(read, licence);
    assert!(scan::scan_matches(&enterprise, &read));

    let bureau = scan::bureau_code(enterprise.id);
    let (w, h, rgba) = qr_rgba(&bureau, 3);
    assert_eq!(decode_qr(w, h, &rgba).as_deref(), Some(bureau.as_str()));

    // A blank frame, or a buffer shorter than its size says, reads nothing.
    assert_eq!(decode_qr(w, h, &vec![255; rgba.len()]), None);
    assert_eq!(decode_qr(w, h, &rgba[..100]), None);
}

/// A camera whose picture is `text` as a QR code: `getUserMedia` answers with a canvas's stream
/// (the canvas is painted again and again: a canvas stream has a frame only after a paint).
fn fake_camera(text: &str) -> (HtmlCanvasElement, gloo::timers::callback::Interval) {
    let (w, h, rgba) = qr_rgba(text, 6);
    let canvas: HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(w);
    canvas.set_height(h);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let image = web_sys::ImageData::new_with_js_u8_clamped_array_and_sh(
        // A copy in JS: a view of wasm memory would go stale as it grows.
        &js_sys::Uint8ClampedArray::from(rgba.as_slice()),
        w,
        h,
    )
    .unwrap();
    document().body().unwrap().append_child(&canvas).unwrap();
    let stream = canvas.capture_stream().unwrap();
    let answer = js_sys::Function::new_with_args("s", "return () => Promise.resolve(s);")
        .call1(&JsValue::NULL, &stream)
        .unwrap();
    let devices = web_sys::window()
        .unwrap()
        .navigator()
        .media_devices()
        .unwrap();
    js_sys::Reflect::set(&devices, &JsValue::from_str("getUserMedia"), &answer).unwrap();
    context.put_image_data(&image, 0.0, 0.0).unwrap();
    let paint = gloo::timers::callback::Interval::new(100, move || {
        context.put_image_data(&image, 0.0, 0.0).unwrap();
    });
    (canvas, paint)
}

fn real_camera((canvas, paint): (HtmlCanvasElement, gloo::timers::callback::Interval)) {
    drop(paint);
    let devices = web_sys::window()
        .unwrap()
        .navigator()
        .media_devices()
        .unwrap();
    js_sys::Reflect::delete_property(&devices, &JsValue::from_str("getUserMedia")).unwrap();
    canvas.remove();
}

#[wasm_bindgen_test]
async fn a_code_held_to_the_camera_is_read_and_recorded_as_the_entry_scan() {
    let day = day(fixtures::enterprise(), |_| vec![], vec![], vec![]).await;
    let canvas = fake_camera(&scan::bureau_code(day.enterprise.id));
    let app = open_app(&Page::StartInspection(day.enterprise.id).path());
    tick_user(&day.colleague).await;
    settle_fix().await;
    find("[data-testid=scan-start]").await.click();
    let result = find("[data-testid=scan-result]").await;
    assert_eq!(
        result.inner_text(),
        format!("已核验：{}", day.enterprise.name)
    );
    // The camera is closed again, and no reason is asked any more.
    find("[data-testid=scan-start]").await;
    assert!(
        document()
            .query_selector("[data-testid=no-scan-reason]")
            .unwrap()
            .is_none()
    );
    type_into(&find("[data-testid=approval-by]").await, "王局长");
    find("[data-testid=start]").await.click();
    let started = started_of(&day.enterprise).await;
    let scanned = started.entry.scan.expect("the scan is recorded");
    assert_eq!(scanned.text, scan::bureau_code(day.enterprise.id));
    assert!(scanned.matches);
    assert!(started.entry.no_scan_reason.is_empty());
    drop(app);
    real_camera(canvas);
}

#[wasm_bindgen_test]
async fn a_code_of_another_enterprise_is_recorded_with_a_warning() {
    let day = day(fixtures::enterprise(), |_| vec![], vec![], vec![]).await;
    let other = fixtures::enterprise();
    let canvas = fake_camera(&scan::bureau_code(other.id));
    let app = open_app(&Page::StartInspection(day.enterprise.id).path());
    find("[data-testid=scan-start]").await.click();
    let result = find("[data-testid=scan-result]").await;
    assert_eq!(
        result.inner_text(),
        "注意：执法监督码不是所选单位的，已记录"
    );
    drop(app);
    real_camera(canvas);
}

#[wasm_bindgen_test]
async fn a_refused_camera_is_said_in_words_and_leaves_the_reason_to_choose() {
    let day = day(fixtures::enterprise(), |_| vec![], vec![], vec![]).await;
    let refuse = js_sys::Function::new_no_args(
        "return Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));",
    );
    let devices = web_sys::window()
        .unwrap()
        .navigator()
        .media_devices()
        .unwrap();
    js_sys::Reflect::set(&devices, &JsValue::from_str("getUserMedia"), &refuse).unwrap();
    let app = open_app(&Page::StartInspection(day.enterprise.id).path());
    find("[data-testid=scan-start]").await.click();
    let error = find("[data-testid=scan-error]").await;
    assert!(
        error
            .inner_text()
            .starts_with("无法打开相机：未获准使用相机"),
        "{}",
        error.inner_text()
    );
    find("[data-testid=scan-start]").await;
    find("[data-testid=no-scan-reason]").await;
    drop(app);
    js_sys::Reflect::delete_property(&devices, &JsValue::from_str("getUserMedia")).unwrap();
}

#[wasm_bindgen_test]
fn visits_this_year_add_the_phones_inspections_the_server_had_not_counted() {
    let enterprise = fixtures::enterprise();
    let now = Utc::now();
    let counted = fixtures::inspection(&enterprise);
    let since = fixtures::inspection(&enterprise);
    let mut last_year = fixtures::inspection(&enterprise);
    last_year.started_at = now - Duration::days(400);
    let on_phone = [counted.clone(), since, last_year];
    let data = PlanData {
        visits: vec![Visits {
            enterprise_id: enterprise.id,
            visits: 2,
        }],
        fetched_at: Some(now),
        counted: vec![counted.id],
        ..PlanData::default()
    };
    // The server's 2 (the first inspection among them) and the one it has not seen.
    assert_eq!(data.visits_this_year(enterprise.id, &on_phone, now), 3);
    // Last year's bootstrap says nothing of this year: the phone's own two count.
    let stale = PlanData {
        fetched_at: Some(now - Duration::days(400)),
        ..data
    };
    assert_eq!(stale.visits_this_year(enterprise.id, &on_phone, now), 2);
}
