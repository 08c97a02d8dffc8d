//! The validated token as handlers see it, and its axum extractor.
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

/// How the token was validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// A JWT (RFC 9068), verified locally.
    Jwt,
    /// An opaque token, introspected (RFC 7662).
    Opaque,
}

/// RFC 7800 confirmation of a sender-constrained token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// RFC 9449: thumbprint of the DPoP key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// RFC 8705: thumbprint of the client certificate.
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

/// The claims of a token the layer accepted. In a handler: `async fn h(claims: TokenClaims)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// `sub`.
    pub subject: String,
    /// `client_id`.
    pub client_id: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// `jti` (a JWT's id, or an opaque token's selector): names the token in logs and events.
    pub token_id: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// `iat`, seconds since the epoch.
    pub issued_at: u64,
    /// JWT or opaque.
    pub format: TokenFormat,
    /// The sender constraint, if any (already checked against this request).
    pub cnf: Option<Confirmation>,
    /// RFC 8693 §4.1: who is acting on `subject`'s behalf, for a token obtained by token
    /// exchange — the current actor outermost, earlier ones nested. `None`: the token's own
    /// client acts for itself or its user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<tessera_proto::act::Act>,
}

impl TokenClaims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The scopes as the space-separated RFC 6749 §3.3 string.
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

/// Splits an RFC 6749 §3.3 scope string.
pub(crate) fn split_scope(scope: &str) -> Vec<String> {
    scope.split_ascii_whitespace().map(str::to_string).collect()
}

impl<S: Send + Sync> FromRequestParts<S> for TokenClaims {
    type Rejection = (StatusCode, &'static str);

    /// The layer stores the claims in the request extensions. A handler asking for them on a
    /// route the layer does not cover is a wiring bug, answered 500 rather than served unchecked.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<TokenClaims>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "this route is not protected by ValidateTokenLayer",
        ))
    }
}
