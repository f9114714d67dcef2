//! Server configuration: one struct, defaults overridden by environment variables or flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// How the server runs. Every field is listed in the README with its variable.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ZHICHA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Folder for the SQLite database and the photo store.
    #[arg(long, env = "ZHICHA_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Folder of the built PWA (`trunk build` output) served at `/`.
    #[arg(long, env = "ZHICHA_DIST", default_value = "dist")]
    pub dist: PathBuf,
}

impl Config {
    /// A configuration for tests: data and dist in the given folders, any free port.
    pub fn for_tests(data: PathBuf, dist: PathBuf) -> Self {
        Self { addr: SocketAddr::from(([127, 0, 0, 1], 0)), data, dist }
    }
}
