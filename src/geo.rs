//! The device's position, when the inspector permits it: corroborating evidence with its
//! accuracy, never proof (the browser cannot detect mocked GPS).

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use wasm_bindgen::prelude::*;
use web_sys::{Position, PositionError, PositionOptions};
use zhicha_core::model::GeoPoint;

/// Asks for one position fix. `None` when denied, unavailable (underground) or slower than
/// `timeout_ms`: a missing location never blocks recording.
pub async fn current_position(timeout_ms: u32) -> Option<GeoPoint> {
    let geolocation = web_sys::window()?.navigator().geolocation().ok()?;
    let (tx, rx) = oneshot::channel::<Option<GeoPoint>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let on_fix = {
        let tx = tx.clone();
        Closure::once(move |position: Position| {
            let coords = position.coords();
            let point = GeoPoint {
                lat: coords.latitude(),
                lon: coords.longitude(),
                accuracy_m: Some(coords.accuracy()),
            };
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(point.is_valid().then_some(point));
            }
        })
    };
    let on_error = Closure::once(move |_: PositionError| {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(None);
        }
    });
    let options = PositionOptions::new();
    options.set_enable_high_accuracy(true);
    options.set_timeout(timeout_ms);
    options.set_maximum_age(30_000);
    geolocation
        .get_current_position_with_error_callback_and_options(
            on_fix.as_ref().unchecked_ref(),
            Some(on_error.as_ref().unchecked_ref()),
            &options,
        )
        .ok()?;
    let result = rx.await.ok().flatten();
    drop((on_fix, on_error));
    result
}
