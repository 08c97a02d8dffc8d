//! A registered OAuth client: what it may ask for and how it authenticates (its
//! [`Credential`], one enum), and the rules a registration keeps ([`registration`]).
pub mod credential;
pub mod registration;
#[cfg(test)]
mod registration_tests;

pub use credential::{ClientKeys, ClientSecrets, Credential, SecretMethod, TlsCredential};
use serde::{Deserialize, Serialize};

use crate::keys::SigningAlg;

/// The grant types Tessera knows; the token endpoint dispatches on them via `grant::GRANTS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    /// RFC 6749 §4.4.
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// RFC 6749 §4.1: the authorization code grant (with PKCE, RFC 7636).
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    /// RFC 6749 §6: refreshing an access token (rotated on every use, RFC 9700 §4.14).
    #[serde(rename = "refresh_token")]
    RefreshToken,
    /// RFC 8693: exchanging a token addressed to this client for a delegated one.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// Every grant type, in a fixed order.
    pub const ALL: [GrantType; 4] = [
        Self::ClientCredentials,
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::TokenExchange,
    ];

    /// The `grant_type` parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// Parses a `grant_type` value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// How a confidential client proves its identity at the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AuthMethod {
    /// HTTP Basic with the form-url-encoded id and secret.
    #[serde(rename = "client_secret_basic")]
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    #[serde(rename = "client_secret_post")]
    ClientSecretPost,
    /// RFC 7523 §2.2: a JWT signed with a key registered in the client's JWKS.
    #[serde(rename = "private_key_jwt")]
    PrivateKeyJwt,
    /// RFC 8705 §2.1: a CA-issued client certificate carrying the registered subject DN or SAN.
    #[serde(rename = "tls_client_auth")]
    TlsClientAuth,
    /// RFC 8705 §2.2: a self-signed client certificate whose key is in the client's JWKS.
    #[serde(rename = "self_signed_tls_client_auth")]
    SelfSignedTlsClientAuth,
    /// RFC 7591 §2: a public client (RFC 6749 §2.1) that cannot keep a secret; it names itself
    /// with `client_id` and must use PKCE (RFC 9700 §2.1.1).
    #[serde(rename = "none")]
    None,
}

impl AuthMethod {
    /// Every method, in a fixed order.
    pub const ALL: [AuthMethod; 6] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::TlsClientAuth,
        Self::SelfSignedTlsClientAuth,
        Self::None,
    ];

    /// The RFC 8414 / RFC 7591 name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Self::None => "none",
        }
    }

    /// Parses a method name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the client authenticates with a secret (RFC 6749 §2.3.1); only such a client is
    /// issued one.
    pub const fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

/// The access-token format a client receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TokenFormat {
    /// RFC 9068 JWT, verifiable offline against the JWKS.
    #[serde(rename = "jwt")]
    #[default]
    Jwt,
    /// A `tsr_at_` token string, checked by introspection; revocation takes effect at once.
    #[serde(rename = "opaque")]
    Opaque,
}

impl TokenFormat {
    /// The configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Opaque => "opaque",
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "jwt" => Some(Self::Jwt),
            "opaque" => Some(Self::Opaque),
            _ => None,
        }
    }
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client identifier (public).
    pub id: String,
    /// A human name for listings and logs.
    pub name: String,
    /// How it authenticates, with exactly what that method checks (a public client holds no
    /// secret; keys are `jwks` or `jwks_uri`, never both).
    pub credential: Credential,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// RFC 6749 §3.1.2: its registered redirection URIs, compared by exact string match
    /// (RFC 9700 §2.1); needed for the authorization code grant.
    pub redirect_uris: Vec<String>,
    /// Scopes it may be granted.
    pub scopes: Vec<String>,
    /// Scopes granted when a request names none (a subset of `scopes`).
    pub default_scopes: Vec<String>,
    /// RFC 8707 resources (audiences) it may request tokens for.
    pub audiences: Vec<String>,
    /// The resource identifiers by which tokens are addressed *to* this client, when it is a
    /// resource server: it may introspect and report uses of tokens whose `aud` is one of them
    /// (RFC 7662 §4), and it may read the revocation feed. Empty for a plain client.
    pub resource_uris: Vec<String>,
    /// Format of the access tokens it receives.
    pub token_format: TokenFormat,
    /// Signing algorithm of its JWT access tokens.
    pub jwt_alg: SigningAlg,
    /// Its access-token lifetime in seconds, capped by the server maximum; `None`: the default.
    pub access_token_ttl: Option<u64>,
    /// RFC 9449: every token request must carry a DPoP proof.
    pub require_dpop: bool,
    /// RFC 8693 token exchange without `act`: the tokens it exchanges name the subject alone
    /// (impersonation, audited as such) instead of recording this client as the actor.
    pub allow_impersonation: bool,
    /// RFC 9126 §6 `require_pushed_authorization_requests`: its authorization requests must
    /// come through `POST /par`; a plain `GET /authorize` is refused.
    pub require_par: bool,
    /// Tokens of this client issued before this time (seconds since the epoch) are inactive: set
    /// when its secret leaked, so every token it held dies with the secret.
    pub tokens_not_before: Option<u64>,
    /// A disabled client cannot authenticate.
    pub disabled: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
    /// Last change, seconds since the epoch.
    pub updated_at: u64,
}

impl Client {
    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// How it authenticates (RFC 7591 `token_endpoint_auth_method`).
    pub const fn auth_method(&self) -> AuthMethod {
        self.credential.auth_method()
    }

    /// RFC 6749 §2.1: a public client cannot authenticate; it holds no secret.
    pub fn is_public(&self) -> bool {
        self.credential == Credential::None
    }

    /// Whether a token whose `aud` is `audience` is addressed to this client as a resource
    /// server (exact string match, as RFC 8707 resources are compared).
    pub fn is_resource_server_for(&self, audience: &str) -> bool {
        self.resource_uris.iter().any(|r| r == audience)
    }
}

/// RFC 8707 §2: a resource identifier "MUST be an absolute URI … MUST NOT include a fragment
/// component". What a resource server may be registered with (`--resource-uri`).
pub fn check_resource_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URI"))?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err(format!("{uri:?} must not contain a fragment (RFC 8707 §2)"));
    }
    if url.cannot_be_a_base() && !uri.starts_with("urn:") {
        return Err(format!(
            "{uri:?} is not an absolute URI with an authority or a URN"
        ));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{uri:?} contains whitespace"));
    }
    Ok(())
}

/// RFC 6749 §3.1.2 and RFC 9700 §2.1: a redirection URI may be registered if it is absolute,
/// has no fragment, and uses https — or http only on a loopback host (RFC 8252 §7.3) — or a
/// private-use scheme for native apps (RFC 8252 §7.1, with a dot in it). No wildcards.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URI"))?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err(format!(
            "{uri:?} must not contain a fragment (RFC 6749 §3.1.2)"
        ));
    }
    if uri.contains('*') {
        return Err(format!(
            "{uri:?}: wildcards are not allowed (RFC 9700 §2.1)"
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            if tessera_proto::loopback::is_loopback_url(uri) {
                Ok(())
            } else {
                Err(format!(
                    "{uri:?}: http is allowed only for loopback hosts (RFC 8252 §7.3)"
                ))
            }
        }
        s if s.contains('.') => Ok(()),
        s => Err(format!(
            "{uri:?}: scheme {s} is not https, loopback http, or a private-use scheme like com.example.app"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_loopback_http_or_private_use() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8765/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("http://[::1]:9/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb").is_err());
        assert!(check_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(check_redirect_uri("https://*.example.com/cb").is_err());
        assert!(check_redirect_uri("/relative").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn resource_uris_are_absolute_without_fragment() {
        assert!(check_resource_uri("https://api.example.com").is_ok());
        assert!(check_resource_uri("https://api.example.com/v1?x=1").is_ok());
        assert!(check_resource_uri("http://api.internal:8080/").is_ok());
        assert!(check_resource_uri("urn:example:api").is_ok());
        assert!(check_resource_uri("https://api.example.com/#frag").is_err());
        assert!(check_resource_uri("https://api.example.com/#").is_err());
        assert!(check_resource_uri("/relative").is_err());
        assert!(check_resource_uri("api.example.com").is_err());
        assert!(check_resource_uri("").is_err());
        assert!(check_resource_uri("javascript:alert(1)").is_err());
        assert!(check_resource_uri("https://api.example.com/a b").is_err());
    }

    /// Issue 13, finding 9: loopback is the parsed host, not what the string starts with.
    #[test]
    fn loopback_look_alike_redirect_uris_are_refused() {
        assert!(check_redirect_uri("http://127.0.0.2:9/cb").is_ok());
        for bad in [
            "http://127.attacker.example/cb",
            "http://localhost.attacker.example/cb",
            "http://127.0.0.1@evil.example/cb",
            "http://0x7f.1/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
