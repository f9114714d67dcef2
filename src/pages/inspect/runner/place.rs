//! The runner's place in a long checklist: the sticky bar (progress, 目录, 只看未检查), the group
//! the inspector is in, jumping to a group, and coming back to it after a reload or a trip to the
//! finding editor (kept on the device by `storage::runner_state`).
//!
//! Scrolling is the window's; the bar sticks to the top, so a group is brought to just under it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use zhicha_core::fieldwork::Progress;
use zhicha_core::ids::InspectionId;

use super::super::open_db;
use crate::storage::RunnerPlace;

/// Scroll events this soon after the runner scrolled by itself are its own, not the inspector's.
const QUIET_MS: f64 = 400.0;

/// Which group the inspector is in, and whether answered items are hidden.
#[derive(Clone, Copy)]
pub(super) struct Place {
    pub current: RwSignal<Option<String>>,
    pub only_unanswered: RwSignal<bool>,
    quiet_until: StoredValue<f64>,
    /// Until the saved place is restored, scrolling must not overwrite it.
    restored: StoredValue<bool>,
}

impl Place {
    /// Starts from the saved place, keeps it on the device as it changes, follows the
    /// inspector's scrolling, and brings the saved group back into view once the list is drawn.
    pub fn new(id: InspectionId, saved: RunnerPlace) -> Self {
        let place = Self {
            current: RwSignal::new(saved.group.clone()),
            only_unanswered: RwSignal::new(saved.only_unanswered),
            quiet_until: StoredValue::new(0.0),
            restored: StoredValue::new(false),
        };
        place.remember(id, saved.clone());
        place.follow_scrolling();
        place.restore(saved.group);
        place
    }

    /// Goes to a group: the index's jump.
    pub fn jump(self, key: String) {
        self.current.set(Some(key.clone()));
        self.quiet();
        // Once the index has closed, so the bar has its reading height.
        self.scroll_soon(key);
    }

    /// The inspector worked in this group (answered there).
    pub fn worked_in(self, key: &str) {
        if self.current.with_untracked(|c| c.as_deref() != Some(key)) {
            self.current.set(Some(key.to_owned()));
        }
    }

    /// Shows or hides answered items, keeping the current group where the eye is.
    pub fn toggle_unanswered(self) {
        self.only_unanswered.update(|on| *on = !*on);
        let Some(key) = self.current.get_untracked() else {
            return;
        };
        self.scroll_soon(key);
    }

    /// Scrolls to a group after the DOM has taken the latest change. A timer, not an animation
    /// frame: Chromium may not paint a page for a while, and frames would wait with it.
    fn scroll_soon(self, key: String) {
        self.quiet();
        set_timeout(
            move || {
                self.quiet();
                scroll_to_group(&key);
            },
            std::time::Duration::ZERO,
        );
    }

    fn quiet(self) {
        self.quiet_until.set_value(js_sys::Date::now() + QUIET_MS);
    }

    fn remember(self, id: InspectionId, saved: RunnerPlace) {
        let last = StoredValue::new(saved);
        Effect::new(move |_| {
            let place = RunnerPlace {
                group: self.current.get(),
                only_unanswered: self.only_unanswered.get(),
            };
            if last.with_value(|l| *l == place) {
                return;
            }
            last.set_value(place.clone());
            leptos::task::spawn_local(async move {
                // A convenience: if it cannot be kept, the list simply opens at the top.
                let kept = match open_db().await {
                    Ok(db) => db
                        .put_runner_place(id, &place)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                if let Err(e) = kept {
                    leptos::logging::warn!("runner place not kept: {e}");
                }
            });
        });
    }

    fn follow_scrolling(self) {
        let handle = window_event_listener(leptos::ev::scroll, move |_| {
            if !self.restored.get_value() || js_sys::Date::now() < self.quiet_until.get_value() {
                return;
            }
            if let Some(top) = group_at_top()
                && self.current.with_untracked(|c| *c != top)
            {
                self.current.set(top);
            }
        });
        on_cleanup(move || handle.remove());
    }

    fn restore(self, group: Option<String>) {
        let Some(key) = group else {
            self.restored.set_value(true);
            return;
        };
        leptos::task::spawn_local(async move {
            // The list is drawn once the stored inspection is read; wait for its groups.
            for _ in 0..80 {
                gloo::timers::future::sleep(std::time::Duration::from_millis(25)).await;
                self.quiet();
                if scroll_to_group(&key) {
                    break;
                }
            }
            self.quiet();
            self.restored.set_value(true);
        });
    }
}

/// One line of the index: a group and its count.
#[derive(Clone)]
pub(super) struct IndexEntry {
    pub key: String,
    /// The pack's title, said once above its groups.
    pub pack: String,
    /// The group's own title.
    pub title: String,
    pub progress: Memo<Progress>,
}

/// The bar that stays on screen: progress, the current group, 目录 and 只看未检查, and a save
/// that failed (seen wherever in the list the inspector is).
#[component]
pub(super) fn RunnerBar(
    progress: Memo<Progress>,
    entries: Vec<IndexEntry>,
    place: Place,
    error: ReadSignal<Option<String>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let current_entry = {
        let entries = entries.clone();
        move || {
            place.current.with(|c| {
                c.as_ref()
                    .and_then(|key| entries.iter().find(|e| &e.key == key).cloned())
            })
        }
    };
    view! {
        <div class="runner__bar" data-testid="runner-bar">
            <div class="progress-bar" role="progressbar" aria-valuemin="0"
                aria-valuemax=move || progress.get().total.to_string()
                aria-valuenow=move || progress.get().answered.to_string()>
                <span class="progress-bar__fill" style:width=move || format!("{}%", progress.get().percent())></span>
            </div>
            <p class="runner__progress" data-testid="progress">
                {move || {
                    let p = progress.get();
                    format!("已检查 {} / {} 项，不符合 {} 项", p.answered, p.total, p.non_compliant)
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="runner__tools">
                <button type="button" class="runner__tool runner__tool--index" data-testid="index-toggle"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>
                    <span class="runner__tool-label">"目录"</span>
                    <span class="runner__current" data-testid="current-group">
                        {move || current_entry().map(|e| {
                            let p = e.progress.get();
                            format!("{} {}/{}", e.title, p.answered, p.total)
                        })}
                    </span>
                </button>
                <button type="button" class="runner__tool" data-testid="only-unanswered"
                    aria-pressed=move || place.only_unanswered.get().to_string()
                    on:click=move |_| place.toggle_unanswered()>"只看未检查"</button>
            </div>
            <ol class="runner__index" data-testid="group-index" prop:hidden=move || !open.get()>
                {entries.iter().enumerate().map(|(n, e)| {
                    // A pack's name once, above its first group.
                    let pack = (n == 0 || entries[n - 1].pack != e.pack).then(|| view! {
                        <li class="runner__index-pack">{e.pack.clone()}</li>
                    });
                    let key = e.key.clone();
                    let progress = e.progress;
                    let is_current = {
                        let key = key.clone();
                        move || place.current.with(|c| c.as_deref() == Some(key.as_str()))
                    };
                    view! {
                        {pack}
                        <li>
                            <button type="button" class="runner__entry" data-testid="index-entry"
                                data-target=key.clone()
                                class:runner__entry--done=move || progress.get().is_complete()
                                class:runner__entry--current=is_current.clone()
                                aria-current=move || is_current().then_some("true")
                                on:click=move |_| {
                                    open.set(false);
                                    place.jump(key.clone());
                                }>
                                <span class="runner__entry-title">{e.title.clone()}</span>
                                <span class="runner__entry-count" data-testid="index-count">
                                    {move || {
                                        let p = progress.get();
                                        if p.is_complete() {
                                            format!("✓ {}/{}", p.answered, p.total)
                                        } else {
                                            format!("{}/{}", p.answered, p.total)
                                        }
                                    }}
                                </span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}

/// The groups of the list on screen, in order (none when the runner is not mounted).
fn group_sections() -> Vec<web_sys::Element> {
    let Some(list) = document().query_selector(".runner__groups").ok().flatten() else {
        return Vec::new();
    };
    let mut sections = Vec::new();
    let mut next = list.first_element_child();
    while let Some(el) = next {
        next = el.next_element_sibling();
        if el.has_attribute("data-group") {
            sections.push(el);
        }
    }
    sections
}

/// How far below the window's top the list starts: the sticky bar's height.
fn bar_height() -> f64 {
    document()
        .query_selector(".runner__bar")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        .map_or(0.0, |el| f64::from(el.offset_height()))
}

/// Scrolls the group `key` to just under the bar; false if it is not on the page (yet).
fn scroll_to_group(key: &str) -> bool {
    let Some(section) = group_sections()
        .into_iter()
        .find(|el| el.get_attribute("data-group").as_deref() == Some(key))
    else {
        return false;
    };
    let window = window();
    let scrolled = window.scroll_y().unwrap_or(0.0);
    let top = section.get_bounding_client_rect().top() + scrolled - bar_height() - 4.0;
    window.scroll_to_with_x_and_y(0.0, top.max(0.0));
    true
}

/// The group under the bar: the last one whose heading has reached it. `Some(None)` above the
/// first group, `None` when the list is not on the page.
fn group_at_top() -> Option<Option<String>> {
    let sections = group_sections();
    if sections.is_empty() {
        return None;
    }
    let line = bar_height() + 8.0;
    Some(
        sections
            .iter()
            .take_while(|el| el.get_bounding_client_rect().top() <= line)
            .last()
            .and_then(|el| el.get_attribute("data-group")),
    )
}
