//! RFC error codes and the error type every protocol failure is expressed in.
//!
//! The split follows fosite and node-oidc-provider: `description` is public and goes into the
//! `error_description` field; `detail` is private and only ever reaches the server's logs.
use std::borrow::Cow;
use std::fmt;

/// An OAuth 2.0 error code, printed exactly as its RFC spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §5.2: malformed, missing or duplicated parameter; unsupported content.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the grant (code, refresh token, assertion) is invalid or expired.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type or operation.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported by this server.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: the authorization server does not support this response type.
    UnsupportedResponseType,
    /// RFC 6749 §5.2: the requested scope is invalid, unknown or exceeds what the client may have.
    InvalidScope,
    /// RFC 8707 §2: the requested resource (audience) is not allowed for this client.
    InvalidTarget,
    /// RFC 7009 §2.2.1: the server does not support revoking this token type.
    UnsupportedTokenType,
    /// RFC 6749 §5.2 (via RFC 6749 §4.1.2.1): an unexpected condition on the server.
    ServerError,
    /// RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request.
    TemporarilyUnavailable,
    /// RFC 6749 §4.1.2.1: the resource owner or server denied the request.
    AccessDenied,
    /// RFC 9449 §5: the DPoP proof is invalid.
    InvalidDpopProof,
    /// RFC 9449 §8: the server requires a nonce in the DPoP proof.
    UseDpopNonce,
    /// RFC 6750 §3.1: the access token is invalid, expired or revoked.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks a scope the resource needs.
    InsufficientScope,
    /// RFC 9101 §7 (used by RFC 9126 §4): the `request_uri` is unknown, expired, already used
    /// or not the client's.
    InvalidRequestUri,
}

impl ErrorCode {
    /// The code's exact RFC string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AccessDenied => "access_denied",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidRequestUri => "invalid_request_uri",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: an RFC code, a description safe to show the caller, and a private detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// Human-readable text for `error_description`; never carries a secret.
    pub description: Cow<'static, str>,
    /// Extra context for the server's logs only; never sent to the caller.
    pub detail: Option<String>,
}

impl OAuthError {
    /// An error with a public description and no private detail.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            detail: None,
        }
    }

    /// Attaches a private detail for the logs.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` with the one description we give for every authentication failure, so a
    /// caller cannot tell an unknown client from a wrong secret.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    /// `server_error`; the cause goes to the private detail.
    pub fn server_error(detail: impl Into<String>) -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not handle the request",
        )
        .with_detail(detail)
    }

    /// `temporarily_unavailable`; the cause goes to the private detail.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the server is temporarily unavailable",
        )
        .with_detail(detail)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_their_rfc_strings() {
        assert_eq!(ErrorCode::InvalidTarget.to_string(), "invalid_target");
        assert_eq!(ErrorCode::InvalidDpopProof.as_str(), "invalid_dpop_proof");
        assert_eq!(
            ErrorCode::UnsupportedGrantType.as_str(),
            "unsupported_grant_type"
        );
    }
}
