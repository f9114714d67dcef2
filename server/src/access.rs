//! What keeps one client from taking the server: the client's address (for per-address login
//! limits), and gates that bound how much expensive work runs at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::trace::TraceLayer;

use crate::{ApiError, AppState};

/// At most `slots` holders at once and at most `slots` more waiting; anyone past that is turned
/// away at once (the caller answers 503), so a flood queues neither memory nor tasks.
#[derive(Clone)]
pub struct Gate {
    work: Arc<Semaphore>,
    admit: Arc<Semaphore>,
}

/// A place at the gate: the work may run while it is held.
#[derive(Debug)]
pub struct Pass {
    _work: OwnedSemaphorePermit,
    _admit: OwnedSemaphorePermit,
}

impl Gate {
    pub fn new(slots: usize) -> Self {
        Self::with_queue(slots, slots)
    }

    /// `slots` holders at once and up to `waiting` more in line.
    pub fn with_queue(slots: usize, waiting: usize) -> Self {
        let slots = slots.max(1);
        Self {
            work: Arc::new(Semaphore::new(slots)),
            admit: Arc::new(Semaphore::new(slots + waiting)),
        }
    }

    /// Waits for a slot, or `None` at once when the slots and the queue are full.
    pub async fn enter(&self) -> Option<Pass> {
        let admit = Arc::clone(&self.admit).try_acquire_owned().ok()?;
        let work = Arc::clone(&self.work).acquire_owned().await.ok()?;
        Some(Pass {
            _work: work,
            _admit: admit,
        })
    }

    /// Waits for a slot however long the queue (for the operator's own commands).
    pub async fn wait(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.work).acquire_owned().await.ok()
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads for memory-heavy blocking work (password hashing). Unlike
/// `spawn_blocking`, whose pool grows to hundreds of threads, each with its own allocator arena
/// that keeps a freed 19 MiB argon2 block, this holds at most one block per thread.
#[derive(Clone)]
pub struct Workers {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Workers {
    /// Starts `threads` workers; they end when the last clone of this is dropped.
    pub fn new(threads: usize, name: &str) -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let Ok(queue) = queue.lock() else { return };
                            match queue.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            }
                        };
                        job();
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a worker and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| anyhow::anyhow!("the worker threads have stopped"))?;
        result
            .await
            .map_err(|_| anyhow::anyhow!("a worker thread failed"))
    }
}

/// The number of cores the process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The client's address: from `trusted_header` when the server runs behind a proxy that sets it
/// (for `X-Forwarded-For`, the last entry: the one the proxy itself added), else the peer of the
/// connection. `unknown` when neither is there (requests handed to the router in process).
pub fn client_address(parts: &Parts, trusted_header: Option<&str>) -> String {
    if let Some(name) = trusted_header {
        let forwarded = parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .rfind(|entry| !entry.is_empty());
        if let Some(entry) = forwarded {
            return entry.chars().take(64).collect();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string())
}

/// The client's address of a request, as [`client_address`] finds it under the configuration.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_address(
            parts,
            state.config.auth.client_ip_header.as_deref(),
        )))
    }
}

/// Answers 503 (`timeout`) when a handler has not answered within `limit`; the handler is
/// dropped, which rolls back any transaction it held open.
pub async fn handler_timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "handler timed out");
            ApiError::Busy {
                code: "timeout",
                message: "服务器处理超时，请稍后重试".to_owned(),
                retry_after_secs: 5,
            }
            .into_response()
        }
    }
}

/// True when a body error is the body timeout (the client stopped sending).
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The access log: one INFO line per request when its response is ready, with method, path
/// (never the query or headers, so no token reaches the log), status and latency, inside a
/// span carrying the request id.
pub fn with_access_log<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    router.layer(
    TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
        })
        .on_request(())
        .on_response(|response: &Response, latency: Duration, _span: &tracing::Span| {
            tracing::info!(
                status = response.status().as_u16(),
                ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                "access"
            );
        })
        .on_body_chunk(())
        .on_eos(())
        .on_failure(()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)], peer: Option<&str>) -> Parts {
        let mut request = Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    #[test]
    fn the_peer_address_counts_unless_a_proxy_header_is_trusted() {
        let spoofed = parts(&[("x-forwarded-for", "1.2.3.4")], Some("10.0.0.7:5555"));
        assert_eq!(client_address(&spoofed, None), "10.0.0.7");
        assert_eq!(client_address(&spoofed, Some("X-Forwarded-For")), "1.2.3.4");
        let chain = parts(
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.9")],
            Some("10.0.0.1:1"),
        );
        assert_eq!(
            client_address(&chain, Some("x-forwarded-for")),
            "203.0.113.9"
        );
        let missing = parts(&[], Some("10.0.0.1:1"));
        assert_eq!(client_address(&missing, Some("x-real-ip")), "10.0.0.1");
        assert_eq!(client_address(&parts(&[], None), None), "unknown");
    }

    #[tokio::test]
    async fn a_full_gate_turns_callers_away_instead_of_queueing_them() {
        let gate = Gate::new(1);
        let first = gate.enter().await.unwrap();
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.is_some() }
        });
        tokio::task::yield_now().await;
        // One holds the slot and one waits: the third is turned away.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(gate.enter().await.is_none());
        drop(first);
        assert!(waiting.await.unwrap());
        assert!(gate.enter().await.is_some());
    }
}
