//! `serve`: the listeners (HTTPS when a certificate is configured, plus an optional plain-HTTP
//! redirect), the demo seed on an empty database, and a graceful stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use futures_util::FutureExt as _;
use rustls::ServerConfig;
use tokio::net::TcpListener;

use crate::tls::{TlsListener, redirect_app};
use crate::{AppState, Config, app};

/// Listens on `config.addr` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Bad certificate files stop the server here, before anything listens.
    let tls = config.tls.server_config()?;
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let redirect = match (tls.is_some(), config.tls.redirect_addr) {
        (true, Some(redirect_addr)) => Some(TcpListener::bind(redirect_addr).await?),
        (false, Some(redirect_addr)) => {
            tracing::warn!(%redirect_addr, "ZHICHA_REDIRECT_ADDR ignored: HTTPS is off");
            None
        }
        (_, None) => None,
    };
    if !config.dist.join("index.html").exists() {
        tracing::warn!(dist = %config.dist.display(), "no built PWA found; run `trunk build` first");
    }
    tracing::info!(?config, "starting");
    let demo = config.demo;
    let state = AppState::open(config).await?;
    if demo && state.store.is_empty().await? {
        let summary = crate::operator::seed::demo(&state.store, &state.passwords).await?;
        let findings =
            crate::operator::seed::demo_findings(&state.store, &state.photos, &summary).await?;
        print!("{}", summary.accounts_text());
        println!("演示隐患：{findings} 条");
    } else if demo {
        println!(
            "演示账号（如未改动）：inspector1 inspector2 leader1 inspector3 admin，密码 {}",
            crate::operator::seed::DEMO_PASSWORD
        );
    }
    crate::operator::demo_guard::refuse_demo_password_off_loopback(&state, addr).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, backend = state.store.backend().name(), "直查 server listening");
    println!("直查 zhicha: {scheme}://{addr}/");
    if let Some(redirect) = &redirect {
        println!(
            "直查 zhicha: http://{}/ redirects to HTTPS",
            redirect.local_addr()?
        );
    }
    let store = state.store.clone();
    run(listener, tls, redirect, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `app(state)` on `listener` — over HTTPS when `tls` is given — and the redirect to it on
/// `redirect`, until `shutdown` completes; then drains in-flight requests. Used by `serve` and by
/// the tests over a real socket.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    redirect: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let shutdown = shutdown.boxed().shared();
    let redirect = match redirect {
        Some(redirect) => {
            let https_port = listener.local_addr()?.port();
            let stop = shutdown.clone();
            Some(tokio::spawn(async move {
                axum::serve(redirect, redirect_app(https_port))
                    .with_graceful_shutdown(stop)
                    .await
            }))
        }
        None => None,
    };
    // Handlers see the peer's address as `ConnectInfo<SocketAddr>` (login limits per address).
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(config) => {
            // `tap_io` only so that axum's `ConnectInfo<SocketAddr>` applies to this listener.
            let listener = TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        None => {
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    if let Some(redirect) = redirect {
        redirect.await??;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
