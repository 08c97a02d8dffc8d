//! The accept loop shared by the protocol and admin listeners: plain TCP or TLS (rustls), HTTP/1
//! and HTTP/2, the peer address attached to every request.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tessera_core::binding::mtls::ClientCertificate;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::extract::PeerAddr;
use crate::tls::ChainChecker;

/// Serves `router` on `listener` until the task is dropped. With TLS, the client certificate
/// chain (if any) is checked once per connection and attached to every request on it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    chains: Arc<ChainChecker>,
) {
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
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let chains = chains.clone();
        tokio::spawn(async move {
            let builder = Builder::new(TokioExecutor::new());
            let service = |cert: Option<ClientCertificate>| {
                TowerToHyperService::new(router.map_request(
                    move |mut req: axum::http::Request<Incoming>| {
                        req.extensions_mut().insert(PeerAddr(peer));
                        if let Some(cert) = &cert {
                            req.extensions_mut().insert(cert.clone());
                        }
                        req
                    },
                ))
            };
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        let cert = tls_stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| chains.check(c));
                        builder
                            .serve_connection(TokioIo::new(tls_stream), service(cert))
                            .await
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, %peer, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service(None))
                        .await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("binding {addr}: {e}"))
}
