//! A file the leader exports from the server (the ledger, the statistics): one at a time, saved
//! through a hidden link under its name, with "正在导出…" and the error in words while it lasts.

use std::future::Future;

use leptos::html;
use leptos::prelude::*;
use web_sys::Blob;

use crate::sync::leader::ObjectUrl;

/// The state of one page's exports.
#[derive(Clone, Copy)]
pub(super) struct Export {
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    link: NodeRef<html::A>,
    /// Kept until the next export so the download can finish reading it.
    last: StoredValue<Option<ObjectUrl>, LocalStorage>,
}

impl Export {
    pub fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            link: NodeRef::new(),
            last: StoredValue::new_local(None),
        }
    }

    pub fn busy(self) -> Signal<bool> {
        self.busy.into()
    }

    /// Fetches the file and saves it as `name`; ignored while another export runs.
    pub fn run(self, name: String, fetch: impl Future<Output = Result<Blob, String>> + 'static) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        leptos::task::spawn_local(async move {
            let result = fetch.await.and_then(|blob| {
                ObjectUrl::new(&blob).ok_or_else(|| "无法保存导出的文件".to_owned())
            });
            match result {
                Ok(url) => {
                    if let Some(link) = self.link.get_untracked() {
                        link.set_href(url.as_str());
                        link.set_download(&name);
                        link.click();
                    }
                    self.last.set_value(Some(url));
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.busy.set(false);
        });
    }

    /// The hidden link, and the state while exporting or after a failure.
    pub fn view(self) -> impl IntoView {
        view! {
            <a class="hidden" node_ref=self.link aria-hidden="true"></a>
            {move || self.busy.get().then(|| view! { <p class="muted" role="status">"正在导出…"</p> })}
            {move || self.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        }
    }
}
