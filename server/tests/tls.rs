//! HTTPS from the server itself, over real sockets: a certificate authority made here, the
//! server's certificate signed by it, and a client that trusts only that authority.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use zhicha_server::{AppState, Config};

/// A test certificate authority and a server certificate for `localhost` and 127.0.0.1.
struct TestPki {
    ca: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn make_pki(common_name: &str) -> TestPki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "zhicha test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    TestPki {
        ca: ca.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn write_pki(pki: &TestPki, dir: &Path) {
    std::fs::write(dir.join("cert.pem"), &pki.cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), &pki.key_pem).unwrap();
}

fn tls_config(dir: &Path) -> Config {
    let mut config = Config::for_tests(dir.join("data"), dir.join("dist"));
    config.tls.cert = Some(dir.join("cert.pem"));
    config.tls.key = Some(dir.join("key.pem"));
    config
}

/// Starts `serve::run` on free ports: HTTPS, and the plain-HTTP redirect. Returns both addresses.
async fn start(config: Config) -> (SocketAddr, SocketAddr) {
    let tls = config.tls.server_config().unwrap();
    assert!(tls.is_some(), "HTTPS must be on when both files are set");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addrs = (
        listener.local_addr().unwrap(),
        redirect.local_addr().unwrap(),
    );
    let state = AppState::open(config).await.unwrap();
    tokio::spawn(zhicha_server::serve::run(
        listener,
        tls,
        Some(redirect),
        state,
        std::future::pending(),
    ));
    addrs
}

/// One HTTP/1.1 GET over TLS, trusting only `ca`. Returns the response head, lower-cased
/// header names, and the peer's leaf certificate.
async fn https_get(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    path: &str,
) -> (String, CertificateDer<'static>) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut stream = connector.connect(name, tcp).await.expect("TLS handshake");
    let leaf = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    (head_of(&response), leaf)
}

async fn http_get(addr: SocketAddr, host: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    head_of(&response)
}

fn head_of(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    text.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[tokio::test]
async fn https_answers_with_hsts_and_the_plain_listener_redirects_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki("zhicha server");
    write_pki(&pki, dir.path());
    let (https, plain) = start(tls_config(dir.path())).await;

    let (head, _) = https_get(https, &pki.ca, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("\r\nstrict-transport-security: max-age=31536000"),
        "{head}"
    );

    let head = http_get(plain, "localhost", "/inspections/new?from=home").await;
    assert!(head.starts_with("http/1.1 308"), "{head}");
    assert!(
        head.contains(&format!(
            "\r\nlocation: https://localhost:{}/inspections/new?from=home",
            https.port()
        )),
        "{head}"
    );
    assert!(!head.contains("strict-transport-security"), "{head}");
}

#[tokio::test]
async fn plain_http_sends_no_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_tests(dir.path().join("data"), dir.path().join("dist"));
    assert!(config.tls.server_config().unwrap().is_none());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::open(config).await.unwrap();
    tokio::spawn(zhicha_server::serve::run(
        listener,
        None,
        None,
        state,
        std::future::pending(),
    ));
    let head = http_get(addr, "localhost", "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("strict-transport-security"), "{head}");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = make_pki("first");
    write_pki(&first, dir.path());
    let (https, _) = start(tls_config(dir.path())).await;
    let (_, leaf) = https_get(https, &first.ca, "/healthz").await;
    assert_eq!(leaf.as_ref(), pem_der(&first.cert_pem).as_ref());

    let renewed = make_pki("renewed");
    write_pki(&renewed, dir.path());
    // The files are looked at again at most every 10 s.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (head, leaf) = https_get(https, &renewed.ca, "/healthz").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(leaf.as_ref(), pem_der(&renewed.cert_pem).as_ref());
}

#[test]
fn a_key_that_does_not_fit_the_certificate_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let one = make_pki("one");
    let other = make_pki("other");
    std::fs::write(dir.path().join("cert.pem"), &one.cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &other.key_pem).unwrap();
    let error = tls_config(dir.path()).tls.server_config().unwrap_err();
    assert!(format!("{error:#}").contains("does not fit"), "{error:#}");

    let mut half = tls_config(dir.path());
    half.tls.key = None;
    assert!(
        half.tls.server_config().is_err(),
        "a certificate without a key"
    );
}

fn pem_der(pem: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}
