//! A registered OAuth client: what it may ask for and how it authenticates.
use serde::{Deserialize, Serialize};
use tessera_proto::SecretHash;

use crate::keys::SigningAlg;

/// The grant types Tessera knows; the token endpoint dispatches on them via `grant::GRANTS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    /// RFC 6749 §4.4.
    #[serde(rename = "client_credentials")]
    ClientCredentials,
}

impl GrantType {
    /// Every grant type, in a fixed order.
    pub const ALL: [GrantType; 1] = [Self::ClientCredentials];

    /// The `grant_type` parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
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
}

impl AuthMethod {
    /// Every method, in a fixed order.
    pub const ALL: [AuthMethod; 5] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::TlsClientAuth,
        Self::SelfSignedTlsClientAuth,
    ];

    /// The RFC 8414 / RFC 7591 name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// Parses a method name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
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

/// The hashes of a client's secrets: the current one, and during a rotation's grace period the
/// previous one with the time it stops working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSecrets {
    /// SHA-256 of the current secret.
    pub current: SecretHash,
    /// SHA-256 of the previous secret and its expiry (seconds since the epoch).
    pub previous: Option<(SecretHash, u64)>,
}

impl ClientSecrets {
    /// Whether `presented` is the current secret, or the previous one before its expiry.
    /// Both comparisons always run, in constant time, so timing tells nothing.
    pub fn accepts(&self, presented: &SecretHash, now: u64) -> bool {
        let current = self.current == *presented;
        let previous = match &self.previous {
            Some((hash, expires_at)) => (*hash == *presented) & (now < *expires_at),
            None => false,
        };
        current | previous
    }
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client identifier (public).
    pub id: String,
    /// A human name for listings and logs.
    pub name: String,
    /// Hashes of its secrets.
    pub secrets: ClientSecrets,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes it may be granted.
    pub scopes: Vec<String>,
    /// Scopes granted when a request names none (a subset of `scopes`).
    pub default_scopes: Vec<String>,
    /// RFC 8707 resources (audiences) it may request tokens for.
    pub audiences: Vec<String>,
    /// Format of the access tokens it receives.
    pub token_format: TokenFormat,
    /// Signing algorithm of its JWT access tokens.
    pub jwt_alg: SigningAlg,
    /// How it authenticates.
    pub auth_method: AuthMethod,
    /// Its access-token lifetime in seconds, capped by the server maximum; `None`: the default.
    pub access_token_ttl: Option<u64>,
    /// The client's public keys (a JWK Set, JSON) for `private_key_jwt`.
    pub jwks: Option<String>,
    /// RFC 7591 §2 `jwks_uri`: where the server fetches the client's JWK Set instead (for
    /// `private_key_jwt`; never together with `jwks`, which RFC 7591 forbids).
    pub jwks_uri: Option<String>,
    /// RFC 8705 §2.1.2: what a `tls_client_auth` client's certificate must carry.
    pub tls_client_auth: Option<crate::binding::mtls::TlsClientAuth>,
    /// RFC 9449: every token request must carry a DPoP proof.
    pub require_dpop: bool,
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
}
