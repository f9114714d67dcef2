//! `zhicha-server` entry point: parses the command line and runs the chosen command.

use clap::Parser;
use zhicha_server::operator::cli::{Cli, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    zhicha_server::init_tracing();
    run(Cli::parse()).await
}
