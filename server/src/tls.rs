//! HTTPS from the server itself: the certificate and key named by the configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// HTTPS: both `cert` and `key` set turn `ZHICHA_ADDR` into an HTTPS listener.
#[derive(Clone, Debug, Default, Args)]
pub struct TlsConfig {
    /// PEM file of the certificate chain (leaf first).
    #[arg(long = "tls-cert", env = "ZHICHA_TLS_CERT")]
    pub cert: Option<PathBuf>,
    /// PEM file of the private key.
    #[arg(long = "tls-key", env = "ZHICHA_TLS_KEY")]
    pub key: Option<PathBuf>,
    /// A plain-HTTP listener that redirects every request to HTTPS (e.g. `0.0.0.0:80`).
    #[arg(long = "redirect-addr", env = "ZHICHA_REDIRECT_ADDR")]
    pub redirect_addr: Option<SocketAddr>,
}
