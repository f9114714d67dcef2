//! Says, in the inspector's words, that the app was opened over plain HTTP and what the bureau
//! must fix — instead of offline use, install and photo hashing failing later one by one.

use leptos::prelude::*;

use crate::pwa;

/// Shown only in a non-secure context (plain HTTP on anything but this device's own address).
#[component]
pub fn SecureContextNotice() -> impl IntoView {
    if pwa::is_secure_context() {
        return ().into_any();
    }
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    view! {
        <div class="banner banner--insecure" role="alert">
            <strong>"连接不安全：直查无法离线使用"</strong>
            <span class="banner__note">
                "当前地址 " {origin} " 未使用 HTTPS。浏览器只在安全连接下允许离线使用、"
                "添加到主屏幕、长期保存本机数据和计算照片校验值，现场记录可能无法保存或同步。"
            </span>
            <span class="banner__note">
                "请联系本局信息管理员：为直查服务器配置 HTTPS 证书（见部署说明），"
                "并改用 https:// 开头的地址打开。在此之前请勿带入现场离线使用。"
            </span>
        </div>
    }
    .into_any()
}
