//! The accept loop shared by the protocol and admin listeners: plain TCP or TLS (rustls), HTTP/1
//! and HTTP/2, the peer address attached to every request.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tessera_core::binding::mtls::ClientCertificate;
use tessera_core::config::LimitConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::extract::PeerAddr;
use crate::extract::forwarded::TrustedProxies;
use crate::linger::LingeringBody;
use crate::tls::ChainChecker;

/// Serves `router` on `listener` until the task is dropped. With TLS, the client certificate
/// chain (if any) is checked once per connection and attached to every request on it.
///
/// The caller's address attached to each request is the TCP peer, or behind a trusted reverse
/// proxy the address it forwards (`proxies`). Slow or idle clients are bounded by `limits`: at most `max_connections` open connections, and
/// `read_timeout` for the TLS handshake plus the first request, and for each HTTP/1 request head
/// (hyper's header timer, which also closes an idle keep-alive connection).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    chains: Arc<ChainChecker>,
    limits: LimitConfig,
    proxies: TrustedProxies,
) {
    let proxies = Arc::new(proxies);
    // A panic in a handler answers 500 server_error instead of dropping the connection.
    let router = router.layer(crate::panic::catch_panic_layer());
    let read_timeout = limits.read_timeout();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut last_full_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Dropping the stream closes it. One warning per 10 s, not one per refused connection.
            if last_full_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                last_full_warning = Some(Instant::now());
                tracing::warn!(
                    max_connections = limits.max_connections,
                    %peer,
                    "connection limit reached; closing new connections"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            tls: tls.clone(),
            chains: chains.clone(),
            proxies: proxies.clone(),
            peer,
            read_timeout,
        };
        tokio::spawn(async move {
            let _slot = slot;
            connection.serve(stream).await;
        });
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    router: Router,
    tls: Option<TlsAcceptor>,
    chains: Arc<ChainChecker>,
    proxies: Arc<TrustedProxies>,
    peer: SocketAddr,
    read_timeout: Duration,
}

impl Connection {
    /// Serves HTTP/1 or HTTP/2 (over TLS when configured) until the client leaves. A connection
    /// that has not sent a whole request head within `read_timeout` (a stalled TLS handshake,
    /// HTTP/2 preface or first request) is dropped; later HTTP/1 requests are bounded by hyper's
    /// header timer.
    async fn serve(self, stream: TcpStream) {
        let peer = self.peer;
        let first_request = Arc::new(AtomicBool::new(false));
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.read_timeout);
        let service = |cert: Option<ClientCertificate>| {
            let seen = first_request.clone();
            let proxies = self.proxies.clone();
            TowerToHyperService::new(self.router.clone().map_request(
                move |mut req: axum::http::Request<Incoming>| {
                    seen.store(true, Ordering::Relaxed);
                    let ip = proxies.client_ip(peer.ip(), req.headers());
                    let caller = if ip == peer.ip() {
                        peer
                    } else {
                        SocketAddr::new(ip, 0)
                    };
                    req.extensions_mut().insert(PeerAddr(caller));
                    if let Some(cert) = &cert {
                        req.extensions_mut().insert(cert.clone());
                    }
                    // A body the handler stops reading (too large, refused unread) is drained
                    // after the answer, so the client reads the answer instead of a reset.
                    req.map(|body| axum::body::Body::new(LingeringBody::new(body)))
                },
            ))
        };
        let connection = async {
            let Some(acceptor) = &self.tls else {
                return builder
                    .serve_connection(TokioIo::new(stream), service(None))
                    .await;
            };
            match acceptor.accept(stream).await {
                Ok(tls_stream) => {
                    let cert = tls_stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| self.chains.check(c));
                    builder
                        .serve_connection(TokioIo::new(tls_stream), service(cert))
                        .await
                }
                Err(e) => {
                    tracing::debug!(error = %e, %peer, "TLS handshake failed");
                    Ok(())
                }
            }
        };
        tokio::pin!(connection);
        let result = tokio::select! {
            result = &mut connection => result,
            () = tokio::time::sleep(self.read_timeout) => {
                if !first_request.load(Ordering::Relaxed) {
                    tracing::debug!(%peer, "no request within the read timeout; closing");
                    return;
                }
                connection.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, %peer, "connection ended with an error");
        }
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::error::StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::error::StartError::Bind { addr, source })
}
