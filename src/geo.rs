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
    position_or_reason(timeout_ms).await.ok()
}

/// One position fix, or why there is none, in Chinese, to record with the evidence. Never waits
/// much longer than `timeout_ms`, whatever the browser does with its permission prompt.
pub async fn position_or_reason(timeout_ms: u32) -> Result<GeoPoint, String> {
    let Some(geolocation) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        return Err("设备不支持定位".to_owned());
    };
    let (tx, rx) = oneshot::channel::<Result<GeoPoint, String>>();
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
                let _ = tx.send(if point.is_valid() {
                    Ok(point)
                } else {
                    Err("定位结果无效".to_owned())
                });
            }
        })
    };
    let on_error = Closure::once({
        let tx = tx.clone();
        move |error: PositionError| {
            let reason = match error.code() {
                PositionError::PERMISSION_DENIED => "未获准使用定位",
                PositionError::POSITION_UNAVAILABLE => "无法定位（井下或室内无信号）",
                PositionError::TIMEOUT => "定位超时",
                _ => "定位失败",
            };
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(Err(reason.to_owned()));
            }
        }
    });
    let options = PositionOptions::new();
    options.set_enable_high_accuracy(true);
    options.set_timeout(timeout_ms);
    options.set_maximum_age(30_000);
    if geolocation
        .get_current_position_with_error_callback_and_options(
            on_fix.as_ref().unchecked_ref(),
            Some(on_error.as_ref().unchecked_ref()),
            &options,
        )
        .is_err()
    {
        return Err("定位失败".to_owned());
    }
    // Our own limit as well: a browser that never answers the permission prompt (WebKit under
    // automation, some in-app browsers) starts its timeout only once permission is granted.
    let timed_out = Rc::new(std::cell::Cell::new(false));
    let _limit = {
        let (tx, timed_out) = (tx.clone(), timed_out.clone());
        gloo::timers::callback::Timeout::new(timeout_ms.saturating_add(1_000), move || {
            if let Some(tx) = tx.borrow_mut().take() {
                timed_out.set(true);
                let _ = tx.send(Err("定位超时（未获得定位授权或信号）".to_owned()));
            }
        })
    };
    let result = rx.await.unwrap_or_else(|_| Err("定位失败".to_owned()));
    if timed_out.get() {
        // The browser may still call back later: its callbacks must outlive this call.
        on_fix.forget();
        on_error.forget();
    } else {
        drop((on_fix, on_error));
    }
    result
}
