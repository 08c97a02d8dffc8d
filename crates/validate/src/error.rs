//! Refusals and their exact HTTP form: RFC 6750 §3 (`WWW-Authenticate: Bearer`) and RFC 9449
//! §7.1 (`WWW-Authenticate: DPoP`). The public description never says more than the RFC code
//! needs; the private detail only reaches logs.
use std::borrow::Cow;

use axum::http::{HeaderValue, Response, StatusCode, header};
use tessera_proto::ErrorCode;

/// The challenge scheme of a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 6750.
    Bearer,
    /// RFC 9449.
    Dpop,
}

/// The refusals a resource server gives: RFC 6750 §3.1 and RFC 9449 §7.1 error codes (spelled
/// by proto's [`ErrorCode`]), and the two answers that carry none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No credentials at all: the challenge carries no error code (RFC 6750 §3.1).
    Missing,
    /// `invalid_request` (400): malformed, or a token where it must not be (the query string).
    InvalidRequest,
    /// `invalid_token` (401): expired, revoked, malformed, wrong issuer or audience.
    InvalidToken,
    /// `insufficient_scope` (403).
    InsufficientScope,
    /// `invalid_dpop_proof` (401, RFC 9449 §7.1).
    InvalidDpopProof,
    /// The authorization server could not be reached to decide (503, no challenge error).
    Unavailable,
}

impl ErrorKind {
    /// The RFC error code, if the kind has one.
    pub fn code(self) -> Option<ErrorCode> {
        match self {
            Self::Missing | Self::Unavailable => None,
            Self::InvalidRequest => Some(ErrorCode::InvalidRequest),
            Self::InvalidToken => Some(ErrorCode::InvalidToken),
            Self::InsufficientScope => Some(ErrorCode::InsufficientScope),
            Self::InvalidDpopProof => Some(ErrorCode::InvalidDpopProof),
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Missing | Self::InvalidToken | Self::InvalidDpopProof => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The error code.
    pub kind: ErrorKind,
    /// The scheme of the challenge.
    pub scheme: Scheme,
    /// `error_description`, safe to show the caller.
    pub description: Cow<'static, str>,
    /// For `insufficient_scope`: the scope the request needs.
    pub scope: Option<String>,
    /// For logs only.
    pub detail: Option<String>,
}

impl Rejection {
    /// A refusal with a Bearer challenge.
    pub fn bearer(kind: ErrorKind, description: &'static str) -> Self {
        Self {
            kind,
            scheme: Scheme::Bearer,
            description: Cow::Borrowed(description),
            scope: None,
            detail: None,
        }
    }

    /// `invalid_token` with a Bearer challenge.
    pub fn invalid_token(description: &'static str) -> Self {
        Self::bearer(ErrorKind::InvalidToken, description)
    }

    /// The same refusal, with a DPoP challenge.
    pub fn dpop(mut self) -> Self {
        self.scheme = Scheme::Dpop;
        self
    }

    /// Adds a private detail for logs.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The `WWW-Authenticate` value. `algs` is listed in DPoP challenges (RFC 9449 §7.1).
    pub fn challenge(&self, dpop_algs: &str) -> String {
        let mut params = Vec::new();
        if let Some(code) = self.kind.code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{}\"", self.description));
        }
        if let Some(scope) = &self.scope {
            params.push(format!("scope=\"{scope}\""));
        }
        let scheme = match self.scheme {
            Scheme::Bearer => "Bearer",
            Scheme::Dpop => {
                params.push(format!("algs=\"{dpop_algs}\""));
                "DPoP"
            }
        };
        if params.is_empty() {
            scheme.to_string()
        } else {
            format!("{scheme} {}", params.join(", "))
        }
    }

    /// The HTTP response: status, challenge, an empty body, `Cache-Control: no-store`.
    pub fn into_response<B: Default>(self, dpop_algs: &str) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.kind.status();
        if self.kind != ErrorKind::Unavailable
            && let Ok(v) = HeaderValue::from_str(&self.challenge(dpop_algs))
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750_and_9449() {
        assert_eq!(
            Rejection::bearer(ErrorKind::Missing, "").challenge("ES256"),
            "Bearer"
        );
        assert_eq!(
            Rejection::invalid_token("the token expired").challenge("ES256"),
            "Bearer error=\"invalid_token\", error_description=\"the token expired\""
        );
        let mut r = Rejection::bearer(ErrorKind::InsufficientScope, "more scope needed");
        r.scope = Some("deploy:write".into());
        assert_eq!(
            r.challenge(""),
            "Bearer error=\"insufficient_scope\", error_description=\"more scope needed\", scope=\"deploy:write\""
        );
        assert_eq!(
            Rejection::bearer(ErrorKind::InvalidDpopProof, "bad proof")
                .dpop()
                .challenge("ES256 EdDSA"),
            "DPoP error=\"invalid_dpop_proof\", error_description=\"bad proof\", algs=\"ES256 EdDSA\""
        );
    }
}
