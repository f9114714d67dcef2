//! `serve`: the listener, the demo seed on an empty database, and a graceful stop.

use tokio::net::TcpListener;

use crate::{AppState, Config, app};

/// Listens on `config.addr` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    if !config.dist.join("index.html").exists() {
        tracing::warn!(dist = %config.dist.display(), "no built PWA found; run `trunk build` first");
    }
    tracing::info!(?config, "starting");
    let demo = config.demo;
    let state = AppState::open(config).await?;
    if demo && state.store.is_empty().await? {
        let summary = crate::operator::seed::demo(&state.store, &state.passwords).await?;
        let findings = crate::operator::seed::demo_findings(&state.store, &summary).await?;
        print!("{}", summary.accounts_text());
        println!("演示隐患：{findings} 条");
    } else if demo {
        println!(
            "演示账号（如未改动）：inspector1 inspector2 leader1 inspector3 admin，密码 {}",
            crate::operator::seed::DEMO_PASSWORD
        );
    }
    crate::operator::seed::refuse_demo_password_off_loopback(&state, addr).await?;
    tracing::info!(%addr, backend = state.store.backend().name(), "直查 server listening");
    println!("直查 zhicha: http://{addr}/");
    let store = state.store.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    tracing::info!("stopped");
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
