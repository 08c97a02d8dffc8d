//! What a panic while serving a request becomes: a `500 {"error":"server_error"}` answer on the
//! same connection, and one log line that names where it happened but not what it said.
//!
//! Every input is meant to be refused with an RFC error before anything can panic (the property
//! tests hold parsers to that), so a panic is a bug. Without this, hyper drops the connection
//! with no answer and the default hook prints the panic message and, with `RUST_BACKTRACE`, a
//! backtrace per request. The message is the dangerous part: a `str` slicing panic quotes the
//! string, which may be a token or a password from the request.
use std::any::Any;

use axum::response::Response;
use tessera_proto::OAuthError;
use tower_http::catch_panic::CatchPanicLayer;

use crate::respond::error_response;

/// The response for a caught panic: RFC 6749 §5.2 `server_error`, no detail, nothing of the
/// panic's message (logged by [`install_hook`] instead, without request data).
fn server_error(_payload: Box<dyn Any + Send + 'static>) -> Response {
    error_response(
        &OAuthError::server_error("a request handler panicked"),
        false,
    )
}

/// The layer every listener's router is wrapped in ([`crate::listen::serve`]).
pub fn catch_panic_layer() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(server_error as fn(Box<dyn Any + Send + 'static>) -> Response)
}

/// Replaces the process's panic hook with one that logs the location and, only for a literal
/// message (`panic!("...")`, `expect("...")` on an `Option`), the message — never a formatted
/// one, which may carry request data — and no backtrace. For the binaries, not for tests
/// (the test harness reports failures through the default hook).
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&'static str>()
            .copied()
            .unwrap_or("[formatted message withheld: it may contain request data]");
        tracing::error!(%location, message, "panic");
    }));
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    /// A handler that panics is answered 500 `server_error` JSON, with no trace of the message.
    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_server_error() {
        async fn boom() -> &'static str {
            let input = String::from("tsr_rt_AAAAé");
            let _ = input.split_at(12);
            "unreachable"
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .layer(super::catch_panic_layer());
        let resp = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "server_error");
        assert!(!body.to_string().contains("tsr_rt_"), "{body}");
    }
}
