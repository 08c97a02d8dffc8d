//! RFC 8414 authorization server metadata, served at `/.well-known/oauth-authorization-server`.
use serde::Serialize;

/// The metadata document. Optional members are omitted when absent.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorizationServerMetadata {
    /// RFC 8414 §2: the issuer identifier, an https URL (http only on loopback).
    pub issuer: String,
    /// RFC 8414 §2: the authorization endpoint (RFC 6749 §3.1).
    pub authorization_endpoint: String,
    /// RFC 8414 §2: the token endpoint.
    pub token_endpoint: String,
    /// RFC 8414 §2: the JWK Set document with the signing keys.
    pub jwks_uri: String,
    /// RFC 8414 §2: `["code"]`.
    pub response_types_supported: Vec<&'static str>,
    /// RFC 8414 §2 / RFC 7636: `["S256"]` (plain is refused; PKCE is required, RFC 9700 §2.1.1).
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207 §3: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 8414 §2: grant types this server accepts.
    pub grant_types_supported: Vec<&'static str>,
    /// RFC 8414 §2: client authentication methods at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8414 §2: scopes known to the server (the union of every client's allowed scopes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// RFC 8414 §2 / RFC 7009: the revocation endpoint.
    pub revocation_endpoint: String,
    /// RFC 8414 §2: client authentication methods at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8414 §2 / RFC 7662: the introspection endpoint.
    pub introspection_endpoint: String,
    /// RFC 8414 §2: client authentication methods at the introspection endpoint.
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 9068 / RFC 7515: algorithms used to sign JWT access tokens.
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 8414 §2: algorithms accepted for `private_key_jwt` client assertions.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 8705 §3.3: the server issues certificate-bound access tokens (when it serves TLS).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// RFC 8705 §5: endpoints for mutual TLS (the same ones: client certificates are optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtls_endpoint_aliases: Option<serde_json::Value>,
    /// RFC 9449 §5.1: algorithms accepted in DPoP proofs.
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// RFC 9126 §5: where clients push authorization requests.
    pub pushed_authorization_request_endpoint: String,
    /// RFC 9126 §5: every authorization request must be pushed first (server-wide). Always
    /// present, `false` included: clients need not know the default.
    pub require_pushed_authorization_requests: bool,
}
