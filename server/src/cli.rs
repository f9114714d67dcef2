//! The command line: `serve` and the operator commands.

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{AppState, Config, app};

#[derive(Debug, Parser)]
#[command(name = "zhicha-server", version, about = "直查 sync server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the built PWA.
    Serve(Config),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(config).await,
    }
}

/// Listens on `config.addr` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    if !config.dist.join("index.html").exists() {
        tracing::warn!(dist = %config.dist.display(), "no built PWA found; run `trunk build` first");
    }
    let state = AppState::new(config);
    tracing::info!(%addr, "直查 server listening");
    println!("直查 zhicha: http://{addr}/");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
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
