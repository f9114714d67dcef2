//! Browser platform glue for an installed app: the service worker and its updates, and the
//! storage the browser grants (persistence, quota).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};

/// Message the service worker understands as "activate now" (see public/sw.js).
const SKIP_WAITING: &str = "zhicha:skip-waiting";
/// How often the page looks for an installed, waiting new version.
const WAITING_POLL_MS: u32 = 2_000;

/// False on plain HTTP to anything but this device itself: the browser then gives no service
/// worker, no install, no persistent storage and no `crypto.subtle`.
pub fn is_secure_context() -> bool {
    web_sys::window().is_some_and(|window| window.is_secure_context())
}

fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    // Absent on insecure origins and in some embedded browsers: the app then runs online only.
    js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker"))
        .ok()
        .filter(|has| *has)
        .map(|_| navigator.service_worker())
}

/// Registers `/sw.js` and calls `on_update` once a new version is installed and waiting.
/// Checks for a new version at start and whenever `check_for_update` is called.
pub async fn register_service_worker(on_update: impl Fn() + Clone + 'static) -> Result<(), String> {
    let Some(container) = container() else {
        return Err("此浏览器不支持离线安装".to_owned());
    };
    let registration: ServiceWorkerRegistration = resolve(container.register("/sw.js"))
        .await
        .map_err(|e| format!("离线缓存注册失败：{e:?}"))?;
    let on_update_polled = on_update.clone();
    if registration.waiting().is_some() && container.controller().is_some() {
        on_update();
    }
    // The browser may have started installing a new version before this code ran (it checks on
    // every navigation): watch that one too, not only those found from now on.
    if let Some(installing) = registration.installing() {
        watch_install(&installing, on_update.clone());
    }
    let watched = registration.clone();
    let on_found = Closure::<dyn FnMut()>::new(move || {
        if let Some(worker) = watched.installing() {
            watch_install(&worker, on_update.clone());
        }
    });
    registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
    on_found.forget();
    // Events can be missed (a worker that finished installing while this page was still
    // loading); a waiting worker is also looked for now and then. It costs no network.
    let polled = registration.clone();
    gloo::timers::callback::Interval::new(WAITING_POLL_MS, move || {
        if polled.waiting().is_some() && container_controlled() {
            on_update_polled();
        }
    })
    .forget();
    Ok(())
}

/// Calls `on_update` when `worker` finishes installing while an older version controls the page.
fn watch_install(worker: &ServiceWorker, on_update: impl Fn() + 'static) {
    let observed = worker.clone();
    let on_state = Closure::<dyn FnMut()>::new(move || {
        // With no controller this is the first install, not an update.
        if observed.state() == ServiceWorkerState::Installed && container_controlled() {
            on_update();
        }
    });
    worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
    on_state.forget();
}

fn container_controlled() -> bool {
    container().is_some_and(|c| c.controller().is_some())
}

/// Asks the server whether a new version exists (index.html and sw.js are never cached).
pub async fn check_for_update() {
    let Some(container) = container() else { return };
    if let Ok(registration) =
        resolve::<ServiceWorkerRegistration>(container.get_registration()).await
        && let Ok(promise) = registration.update()
    {
        let _ = JsFuture::from(promise).await;
    }
}

/// Switches to the waiting version and reloads once it has taken over. The caller must have
/// checked that nothing unsynced is on the device.
pub async fn apply_update() -> Result<(), String> {
    let container = container().ok_or_else(|| "此浏览器不支持离线安装".to_owned())?;
    let registration: ServiceWorkerRegistration = resolve(container.get_registration())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let reload_now = || {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    let Some(waiting) = registration.waiting() else {
        // The new version already took over (the browser activates a waiting worker once no
        // page holds the old one): this page still shows the old one until it reloads.
        if registration.active().is_some() {
            reload_now();
            return Ok(());
        }
        return Err("没有待安装的新版本".to_owned());
    };
    let reload = Closure::<dyn FnMut()>::new(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
    waiting
        .post_message(&JsValue::from_str(SKIP_WAITING))
        .map_err(|e| format!("{e:?}"))
}

/// What the browser grants the app: whether its data is protected from eviction, and space.
/// A quota of 0 means the browser gave no figures (`navigator.storage` absent or refused).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StorageStatus {
    pub persisted: bool,
    pub usage: f64,
    pub quota: f64,
}

impl StorageStatus {
    /// The browser reported a quota: the figures are real, not a placeholder.
    pub fn is_known(&self) -> bool {
        self.quota > 0.0
    }

    /// Share of the quota in use, 0..=1 (0 when the quota is unknown).
    pub fn used_share(&self) -> f64 {
        if self.is_known() {
            (self.usage / self.quota).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// Above 80% of the quota the inspector is warned to sync and prune.
    pub fn is_nearly_full(&self) -> bool {
        self.used_share() > 0.8
    }
}

/// Asks for persistent storage (once granted it stays) and reads usage and quota.
pub async fn storage_status() -> StorageStatus {
    let Some(window) = web_sys::window() else {
        return StorageStatus::default();
    };
    let navigator = window.navigator();
    // Absent in some embedded browsers and on insecure origins.
    if !js_sys::Reflect::has(&navigator, &JsValue::from_str("storage")).unwrap_or(false) {
        return StorageStatus::default();
    }
    let storage = navigator.storage();
    let persisted = match storage.persist() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    };
    let estimate = match storage.estimate() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    // The estimate is a plain object, not an instance of a `StorageEstimate` class: a checked
    // cast fails on it in every engine, so its fields are read by name.
    let figure = |name: &str| {
        estimate
            .as_ref()
            .and_then(|e| js_sys::Reflect::get(e, &JsValue::from_str(name)).ok())
            .and_then(|v| v.as_f64())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(0.0)
    };
    StorageStatus {
        persisted,
        usage: figure("usage"),
        quota: figure("quota"),
    }
}

/// The app inside another app's built-in browser, named by its user agent: there it cannot be
/// installed (no 添加到主屏幕), and its storage may be cleared with the host app's cache.
/// Returns the host app's name, as the inspector knows it.
pub fn in_app_browser(user_agent: &str) -> Option<&'static str> {
    // Most specific first: 企业微信 also says MicroMessenger.
    const HOSTS: [(&str, &str); 8] = [
        ("wxwork", "企业微信"),
        ("micromessenger", "微信"),
        ("dingtalk", "钉钉"),
        ("alipayclient", "支付宝"),
        ("feishu", "飞书"),
        ("lark/", "飞书"),
        ("weibo", "微博"),
        // QQ's own browser pane; the QQ浏览器 app says MQQBrowser, not QQ/.
        ("qq/", "QQ"),
    ];
    let user_agent = user_agent.to_ascii_lowercase();
    HOSTS
        .iter()
        .find(|(mark, _)| user_agent.contains(mark))
        .map(|(_, name)| *name)
}

/// This browser's user agent (empty when it cannot be read).
pub fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

async fn resolve<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    JsFuture::from(promise).await?.dyn_into::<T>()
}
