//! Entry point of the PWA: mounts the app on the page body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(zhicha::app::App);
}
