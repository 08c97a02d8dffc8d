//! JSON bodies of the token (RFC 6749 §5.1), introspection (RFC 7662 §2.2) and error
//! (RFC 6749 §5.2) responses.
use serde::Serialize;

use crate::error::OAuthError;
use crate::secret::Secret;

/// RFC 6749 §5.1 successful token response. Holds the raw tokens as [`Secret`]s: `Debug` redacts
/// them, and serialising this body is the one place they leave the server.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub access_token: Secret,
    /// `Bearer` (RFC 6750) or `DPoP` (RFC 9449).
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The granted scope (always sent: it may differ from the request).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// RFC 6749 §5.1: the refresh token, when the grant issues one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_exposed_refresh"
    )]
    pub refresh_token: Option<Secret>,
    /// RFC 8693 §2.2.1: the type of the issued token, for a token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

fn serialize_exposed_refresh<S: serde::Serializer>(
    token: &Option<Secret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match token {
        Some(t) => Secret::serialize_exposed(t, serializer),
        None => serializer.serialize_none(),
    }
}

/// RFC 7662 §2.2 introspection response. `active: false` serialises alone.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct IntrospectionResponse {
    /// Whether the token is currently active.
    pub active: bool,
    /// Space-separated scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer` or `DPoP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issue time, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not-before, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Subject (the client itself for client_credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The one audience (RFC 8707 resource) the token is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The token's identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// RFC 7800 / RFC 9449 §6.2: what the token is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// RFC 8693 §4.1: the actor chain of a delegated (exchanged) token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::act::Act>,
}

/// RFC 7800 confirmation in an introspection response.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Confirmation {
    /// RFC 9449: JWK SHA-256 thumbprint of the DPoP key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// RFC 8705 §3.2: SHA-256 thumbprint of the client certificate.
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl IntrospectionResponse {
    /// RFC 7662 §2.2: for a token that is not active, only `active: false` is returned.
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// RFC 6749 §5.2 error response body.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// The RFC error code.
    pub error: &'static str,
    /// The public description.
    pub error_description: &'a str,
}

impl<'a> From<&'a OAuthError> for ErrorBody<'a> {
    fn from(e: &'a OAuthError) -> Self {
        Self {
            error: e.code.as_str(),
            error_description: &e.description,
        }
    }
}
