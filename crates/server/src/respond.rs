//! Turning results into HTTP responses: an `OAuthError` becomes its RFC status, JSON body and,
//! where the RFC asks, `WWW-Authenticate`; every endpoint response forbids caching.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_proto::response::ErrorBody;
use tessera_proto::{ErrorCode, OAuthError};

/// RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache" on responses with tokens or
/// credentials; we send them on every protocol response.
pub fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The HTTP status of an error code (RFC 6749 §5.2: 400 unless said otherwise).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The response for `error`. `basic_auth`: the client tried HTTP Basic, so an `invalid_client`
/// carries `WWW-Authenticate: Basic` (RFC 6749 §5.2). The private detail goes to the log only.
pub fn error_response(error: &OAuthError, basic_auth: bool) -> Response {
    let status = status_of(error.code);
    if status.is_server_error() {
        tracing::error!(code = %error.code, detail = ?error.detail, "request failed");
    } else {
        tracing::debug!(code = %error.code, detail = ?error.detail, "request refused");
    }
    let mut response = (status, axum::Json(ErrorBody::from(error))).into_response();
    if error.code == ErrorCode::InvalidClient && basic_auth {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tessera\", charset=\"UTF-8\""),
        );
    }
    no_store(response)
}
