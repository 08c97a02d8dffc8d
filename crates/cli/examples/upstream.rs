//! A tiny upstream for `bench/proxy.sh`: answers every request with a fixed 2-byte body, on the
//! same axum/hyper/tokio stack as `tessera proxy`, so "upstream alone" and "through the proxy"
//! measure the proxy's cost rather than a slow upstream.
//!
//!     cargo run --release -p tessera-cli --example upstream -- 127.0.0.1:18091
use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18091".into())
        .parse()
        .expect("usage: upstream ADDR");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    eprintln!(
        "upstream listening on {}",
        listener.local_addr().expect("addr")
    );
    let app = axum::Router::new().fallback(|| async { "ok" });
    axum::serve(listener, app).await.expect("serve");
}
