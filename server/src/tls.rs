//! HTTPS from the server itself: the certificate and key named by the configuration (re-read
//! when their files change, so a renewed certificate needs no restart), the listener that does
//! the TLS handshakes, and the plain-HTTP listener whose only answer is a redirect to HTTPS.
//!
//! Browsers give an app on plain HTTP (other than on `localhost`) no service worker, no install,
//! no persistent storage and no `crypto.subtle`: HTTPS is what makes 直查 work offline.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header, uri::Authority};
use axum::response::{IntoResponse, Response};
use clap::Args;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// HTTPS: both `cert` and `key` set turn `ZHICHA_ADDR` into an HTTPS listener.
#[derive(Clone, Debug, Default, Args)]
pub struct TlsConfig {
    // The ids are spelt out: operator commands have arguments of their own named `cert`.
    /// PEM file of the certificate chain (leaf first).
    #[arg(id = "tls_cert", long = "tls-cert", env = "ZHICHA_TLS_CERT")]
    pub cert: Option<PathBuf>,
    /// PEM file of the private key.
    #[arg(id = "tls_key", long = "tls-key", env = "ZHICHA_TLS_KEY")]
    pub key: Option<PathBuf>,
    /// A plain-HTTP listener that redirects every request to HTTPS (e.g. `0.0.0.0:80`).
    #[arg(long = "redirect-addr", env = "ZHICHA_REDIRECT_ADDR")]
    pub redirect_addr: Option<SocketAddr>,
}

impl TlsConfig {
    /// True when the server itself speaks HTTPS (both files named).
    pub fn enabled(&self) -> bool {
        self.cert.is_some() && self.key.is_some()
    }

    /// The rustls configuration for these files, or `None` when HTTPS is off. Fails when only one
    /// of the two files is named or when they cannot be read, so a typo stops the server at start
    /// instead of leaving it on plain HTTP.
    pub fn server_config(&self) -> anyhow::Result<Option<Arc<ServerConfig>>> {
        let (cert, key) = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            (None, None) => return Ok(None),
            _ => anyhow::bail!("ZHICHA_TLS_CERT and ZHICHA_TLS_KEY must be set together"),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let resolver = ReloadingCert::load(cert, key, Arc::clone(&provider))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        // The server speaks HTTP/1.1 (axum without its http2 feature).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}

/// Reads a PEM certificate chain and private key and checks that they belong together.
pub fn load_certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading the certificate chain {}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "no certificate in {}", cert.display());
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    CertifiedKey::from_der(chain, key_der, provider).with_context(|| {
        format!(
            "the key {} does not fit the certificate {}",
            key.display(),
            cert.display()
        )
    })
}

/// How often, at most, a handshake looks whether the certificate files changed.
const RELOAD_CHECK: Duration = Duration::from_secs(10);

/// What identifies one version of the two files: modification time and length of each.
type Stamp = [(Option<SystemTime>, u64); 2];

fn stamp(cert: &Path, key: &Path) -> Stamp {
    [cert, key]
        .map(|path| std::fs::metadata(path).map_or((None, 0), |m| (m.modified().ok(), m.len())))
}

/// The certificate the server presents: the last pair that loaded, re-read when the files change
/// (a renewal by certbot or by hand). A pair that fails to load is logged and the old one kept.
struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: Mutex<Current>,
}

struct Current {
    stamp: Stamp,
    checked: Instant,
    key: Arc<CertifiedKey>,
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCert")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ReloadingCert {
    fn load(cert: PathBuf, key: PathBuf, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamp = stamp(&cert, &key);
        let loaded = load_certified_key(&cert, &key, &provider)?;
        Ok(Self {
            cert,
            key,
            provider,
            current: Mutex::new(Current {
                stamp,
                checked: Instant::now(),
                key: Arc::new(loaded),
            }),
        })
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.checked.elapsed() >= RELOAD_CHECK {
            current.checked = Instant::now();
            let now = stamp(&self.cert, &self.key);
            if now != current.stamp {
                match load_certified_key(&self.cert, &self.key, &self.provider) {
                    Ok(key) => {
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                        current.key = Arc::new(key);
                        current.stamp = now;
                    }
                    // Mid-renewal the two files may not match yet: try again at the next check.
                    Err(error) => tracing::warn!(
                        error = format!("{error:#}"),
                        "TLS certificate files changed but do not load; still using the old ones"
                    ),
                }
            }
        }
        Some(Arc::clone(&current.key))
    }
}

/// A client gets this long to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTPS listener for `axum::serve`: accepts TCP connections and does each handshake in its
/// own task, so a slow or silent client never holds up the others.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        let tls = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let tls = tls.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let _ = sender.send((stream, peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            ready,
            local_addr,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor task is gone only when this listener is being dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// The plain-HTTP side: every request is answered with a permanent redirect to the same path on
/// HTTPS at `https_port` (the browser keeps the method and body on a 308).
pub fn redirect_app(https_port: u16) -> Router {
    Router::new().fallback(move |request: Request| async move { redirect(&request, https_port) })
}

fn redirect(request: &Request, https_port: u16) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .or_else(|| request.uri().authority().cloned());
    let Some(host) = host else {
        return (StatusCode::BAD_REQUEST, "HTTPS only").into_response();
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = if https_port == 443 {
        format!("https://{}{path}", host.host())
    } else {
        format!("https://{}:{https_port}{path}", host.host())
    };
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};

    use super::redirect;

    fn location(host: &str, uri: &str, port: u16) -> String {
        let request = Request::builder()
            .uri(uri)
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        let response = redirect(&request, port);
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn the_redirect_keeps_host_path_and_query_and_names_the_https_port() {
        assert_eq!(
            location("zhicha.example:80", "/ledger?level=major", 443),
            "https://zhicha.example/ledger?level=major"
        );
        assert_eq!(
            location("10.0.0.5:8080", "/", 8443),
            "https://10.0.0.5:8443/"
        );
        assert_eq!(location("[fd00::5]", "/a", 443), "https://[fd00::5]/a");
    }

    #[test]
    fn a_request_without_host_is_refused() {
        let request = Request::builder().uri("/").body(Body::empty()).unwrap();
        assert_eq!(redirect(&request, 443).status(), StatusCode::BAD_REQUEST);
    }
}
