//! The app shell: the app bar's back and home, its network and unsynced indicator, the storage
//! card's real figures, the loading splash and the hint inside other apps' built-in browsers.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;
use zhicha::app::SPLASH_ID;
use zhicha::components::app_bar::{InAppHistory, Network, install_hint, status_text};
use zhicha::components::storage_guardian::{StorageFigures, format_bytes, usage_line};
use zhicha::pages::Page;
use zhicha::pwa::{StorageStatus, in_app_browser};
use zhicha::state;
use zhicha_core::protocol::{Change, EntityKind};

use crate::fixtures;
use crate::screens::{document, find, open_app, sleep, wait_text};

fn pathname() -> String {
    web_sys::window().unwrap().location().pathname().unwrap()
}

fn history_length() -> u32 {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .length()
        .unwrap()
}

/// Polls until the address is `path`, for up to 10 s.
async fn wait_path(path: &str) {
    for _ in 0..200 {
        if pathname() == path {
            return;
        }
        sleep(50).await;
    }
    panic!("the app stayed at {} instead of {path}", pathname());
}

/// Moves the app to `path` as the router does for the browser's forward button. (A tap on a link
/// cannot be used here: routers of apps mounted by earlier tests still listen for clicks.)
fn go_to(path: &str) {
    let window = web_sys::window().unwrap();
    window
        .history()
        .unwrap()
        .push_state_with_url(&JsValue::NULL, "", Some(path))
        .unwrap();
    window
        .dispatch_event(&web_sys::Event::new("popstate").unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn back_stays_inside_the_app_and_goes_home_when_the_app_was_opened_on_that_screen() {
    // Opened straight on a screen (from a link or the home-screen icon): whatever the browser
    // holds before it is not the app's, so back goes home.
    let app = open_app(&Page::SyncErrors.path());
    let back = find("[data-testid=app-back]").await;
    assert_eq!(back.get_attribute("disabled"), None);
    back.click();
    wait_path(&Page::Home.path()).await;
    wait_text("检查记录", true).await;

    // Inside the app, back is the browser's back: no new history entry, the previous screen.
    go_to(&Page::Storage.path());
    wait_text("本机存储与同步状态", true).await;
    let entries = history_length();
    find("[data-testid=app-back]").await.click();
    wait_path(&Page::Home.path()).await;
    wait_text("本机存储与同步状态", false).await;
    assert_eq!(
        history_length(),
        entries,
        "back went back, not forward to home"
    );

    // The title and 首页 lead home from every screen; 首页 says where the inspector is.
    go_to(&Page::SyncErrors.path());
    let home = find("[data-testid=app-home]").await;
    let title = find("[data-testid=app-title]").await;
    assert_eq!(home.get_attribute("href"), Some(Page::Home.path()));
    assert_eq!(title.get_attribute("href"), Some(Page::Home.path()));
    wait_attribute(&home, "aria-current", None).await;
    go_to(&Page::Home.path());
    wait_attribute(&home, "aria-current", Some("page")).await;
    drop(app);
}

/// Polls until `el`'s attribute `name` is `value` (None: absent), for up to 5 s.
async fn wait_attribute(el: &HtmlElement, name: &str, value: Option<&str>) {
    for _ in 0..100 {
        if el.get_attribute(name).as_deref() == value {
            return;
        }
        sleep(50).await;
    }
    panic!("{name} is {:?}, not {value:?}", el.get_attribute(name));
}

#[wasm_bindgen_test]
fn in_app_history_never_claims_more_than_the_tab_has_seen() {
    let mut history = InAppHistory::default();
    history.visit("/inspections/1");
    assert!(
        !history.can_go_back(),
        "the first screen has nothing of the app behind it"
    );
    history.visit("/inspections/1/findings/new?item=a");
    assert!(history.can_go_back());
    // Back to the checklist: the list is cut to it.
    history.visit("/inspections/1");
    assert!(!history.can_go_back());
    history.visit("/");
    history.visit("/storage");
    history.visit("/storage");
    assert!(history.can_go_back());
}

/// `navigator.storage.estimate()` in this browser: (usage, quota).
async fn browser_estimate() -> (f64, f64) {
    let storage = web_sys::window().unwrap().navigator().storage();
    let estimate = JsFuture::from(storage.estimate().unwrap()).await.unwrap();
    let figure = |name: &str| {
        js_sys::Reflect::get(&estimate, &JsValue::from_str(name))
            .unwrap()
            .as_f64()
            .unwrap()
    };
    (figure("usage"), figure("quota"))
}

#[wasm_bindgen_test]
async fn the_storage_card_shows_the_browsers_own_usage_and_quota() {
    // Something of the app's is stored, so the usage is not zero either.
    state::db().await.unwrap();
    let app = open_app(&Page::Storage.path());
    let line = find("[data-testid=storage-usage]").await;
    let (usage, quota) = browser_estimate().await;
    assert!(quota > 0.0, "this browser reports a quota");
    let shown_quota: f64 = line.get_attribute("data-quota").unwrap().parse().unwrap();
    let shown_usage: f64 = line.get_attribute("data-usage").unwrap().parse().unwrap();
    // Chromium derives the quota from the disk's free space, which other programs move by a
    // few bytes between two readings: the same figure within 0.1 %.
    assert!(
        (shown_quota - quota).abs() <= quota * 0.001,
        "shown quota {shown_quota}, browser {quota}"
    );
    // Usage moves as the app writes; a megabyte of slack.
    assert!(
        (shown_usage - usage).abs() < 1_048_576.0,
        "shown {shown_usage}, browser {usage}"
    );
    let text = line.inner_text();
    assert!(text.contains(&format_bytes(quota)), "{text}");
    assert!(!text.contains("未知"), "{text}");
    assert!(!text.contains("0.0 MB / 可用 0.0 MB"), "{text}");
    drop(app);
}

fn mount_figures(status: StorageStatus) -> (HtmlElement, impl Drop) {
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        leptos::prelude::view! { <StorageFigures status=status /> }
    });
    (host, handle)
}

#[wasm_bindgen_test]
fn the_storage_warning_follows_the_figures_and_unknown_is_said() {
    let status = |usage: f64, quota: f64| StorageStatus {
        persisted: true,
        usage,
        quota,
    };
    let (host, full) = mount_figures(status(85.0 * 1_048_576.0, 100.0 * 1_048_576.0));
    assert!(
        host.query_selector("[data-testid=storage-nearly-full]")
            .unwrap()
            .is_some()
    );
    assert!(
        host.inner_text()
            .contains("本机已用 85.0 MB / 可用 100.0 MB（85%）")
    );
    drop(full);
    let (host, roomy) = mount_figures(status(50.0, 100.0));
    assert!(
        host.query_selector("[data-testid=storage-nearly-full]")
            .unwrap()
            .is_none()
    );
    drop(roomy);
    let (host, unknown) = mount_figures(status(0.0, 0.0));
    assert!(host.inner_text().contains("未知"), "{}", host.inner_text());
    assert!(
        host.query_selector("[data-testid=storage-nearly-full]")
            .unwrap()
            .is_none()
    );
    drop(unknown);

    assert!(status(81.0, 100.0).is_nearly_full());
    assert!(status(99.0, 100.0).is_nearly_full());
    assert!(!status(79.0, 100.0).is_nearly_full());
    assert_eq!(
        usage_line(&status(3.0 * 1_048_576.0, 120.0 * 1_073_741_824.0)),
        "本机已用 3.0 MB / 可用 120.0 GB（不足 1%）"
    );
    assert_eq!(format_bytes(20_480.0), "20 KB");
}

/// Polls until the app bar's indicator reads what the database holds now.
async fn indicator_matches_the_database() -> String {
    let mut shown = String::new();
    for _ in 0..200 {
        let counts = state::read_unsynced().await.unwrap();
        if let Ok(Some(el)) = document().query_selector("[data-testid=app-status]") {
            shown = el.unchecked_into::<HtmlElement>().inner_text();
            // Headless Chromium is online; the test server has no API, which the app may
            // report as the server being out of reach.
            let expected =
                [Network::Online, Network::ServerUnreachable].map(|n| status_text(n, Some(counts)));
            if expected.contains(&shown) {
                return shown;
            }
        }
        sleep(50).await;
    }
    panic!("the indicator reads {shown:?}, not this phone's unsynced counts");
}

#[wasm_bindgen_test]
async fn the_indicator_shows_online_and_only_this_phones_unsynced_work() {
    let db = state::db().await.unwrap();
    // This phone's own record, not yet sent.
    let user = fixtures::inspector("shell-test", "李明", "15001", None);
    let mut own = fixtures::inspection(&fixtures::enterprise());
    own.created_by = user.id;
    db.save_inspection(&own).await.unwrap();
    let app = open_app(&Page::Home.path());
    let shown = indicator_matches_the_database().await;
    assert!(shown.contains("未上传"), "{shown}");
    drop(app);

    // A colleague's inspection pulled from the server is nothing this phone has to send.
    let before = state::read_unsynced().await.unwrap();
    let colleague = fixtures::inspection(&fixtures::enterprise());
    let change = Change {
        entity: EntityKind::Inspection,
        id: colleague.id.0,
        rev: 1,
        data: Some(serde_json::to_value(&colleague).unwrap()),
        deleted: false,
    };
    let cursor = db.pull_cursor().await.unwrap().unwrap_or_default();
    db.apply_pulled(&[change], &cursor).await.unwrap();
    assert!(db.inspection(colleague.id).await.unwrap().is_some());
    assert_eq!(state::read_unsynced().await.unwrap(), before);
    let app = open_app(&Page::Home.path());
    indicator_matches_the_database().await;
    drop(app);
}

#[wasm_bindgen_test]
fn the_indicator_says_offline_and_claims_no_counts_it_has_not_read() {
    use zhicha::storage::UnsyncedCounts;
    let counts = UnsyncedCounts {
        mutations: 2,
        photos: 3,
        errors: 1,
    };
    assert_eq!(
        status_text(Network::Offline, Some(counts)),
        "离线 · 未上传 5 · 退回 1"
    );
    assert_eq!(
        status_text(Network::Online, Some(UnsyncedCounts::default())),
        "在线"
    );
    assert_eq!(
        status_text(Network::ServerUnreachable, None),
        "连不上服务器"
    );
    // Never the words the sync card and the end-to-end tests look for.
    for text in [
        status_text(Network::Online, Some(counts)),
        status_text(Network::Offline, Some(counts)),
    ] {
        for taken in ["待同步", "已同步", "未同步：", "出错", "立即同步"] {
            assert!(!text.contains(taken), "{text} contains {taken}");
        }
    }
}

#[wasm_bindgen_test]
async fn the_loading_splash_is_in_the_page_and_gone_once_the_app_mounts() {
    let index = include_str!("../../index.html");
    assert!(
        index.contains(&format!("id=\"{SPLASH_ID}\"")),
        "index.html has the splash"
    );
    assert!(index.contains("正在加载"));
    let splash = document().create_element("div").unwrap();
    splash.set_id(SPLASH_ID);
    document().body().unwrap().append_child(&splash).unwrap();
    let app = open_app(&Page::Home.path());
    find("[data-testid=app-home]").await;
    assert!(document().get_element_by_id(SPLASH_ID).is_none());
    drop(app);
}

#[wasm_bindgen_test]
fn in_app_browsers_are_told_to_open_the_system_browser() {
    let wechat = "Mozilla/5.0 (Linux; Android 13; V2219A Build/TP1A.220624.014; wv) AppleWebKit/537.36 \
        (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 \
        MMWEBSDK/20231202 MMWEBID/2308 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 \
        Weixin NetType/WIFI Language/zh_CN ABI/arm64";
    assert_eq!(in_app_browser(wechat), Some("微信"));
    let hint = install_hint(wechat).unwrap();
    assert!(
        hint.contains("微信") && hint.contains("在浏览器中打开"),
        "{hint}"
    );
    let wxwork = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
        (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh";
    assert_eq!(in_app_browser(wxwork), Some("企业微信"));
    let qq = "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PEHM00 Build/SKQ1.210216.001) \
        AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 \
        MQQBrowser/13.6 Mobile Safari/537.36 QQ/9.0.8.14755 V1_AND_SQ_9.0.8";
    assert_eq!(in_app_browser(qq), Some("QQ"));
    let alipay = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
        (KHTML, like Gecko) Mobile/15E148 AlipayChannelId/5136 AlipayClient/10.5.36.6000";
    assert_eq!(in_app_browser(alipay), Some("支付宝"));
    let dingtalk = "Mozilla/5.0 (Linux; Android 11) AppleWebKit/537.36 (KHTML, like Gecko) \
        Chrome/101.0 Mobile Safari/537.36 AliApp(DingTalk/7.0.40) com.alibaba.android.rimet";
    assert_eq!(in_app_browser(dingtalk), Some("钉钉"));

    // Browsers that can install the app get no hint.
    for browser in [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
         (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        // QQ浏览器, a browser of its own.
        "Mozilla/5.0 (Linux; U; Android 13; zh-cn; 22081212C Build/TKQ1.220829.002) \
         AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 \
         MQQBrowser/14.3 Mobile Safari/537.36 COVC/046801",
        "Mozilla/5.0 (Linux; Android 13; HUAWEI) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/114.0 Mobile Safari/537.36 HuaweiBrowser/14.0",
    ] {
        assert_eq!(install_hint(browser), None, "{browser}");
    }
}
