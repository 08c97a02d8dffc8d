//! Client authentication (RFC 6749 §2.3): one file per method. The edge extracts what the client
//! presented; here it is checked against the registered client, and every failure is an audit
//! event and the same `invalid_client` answer, whatever the reason.
mod client_secret;
pub mod jwks_uri;
pub mod private_key_jwt;

use std::sync::Arc;

use tessera_proto::{OAuthError, Secret};

use crate::audit::{EventKind, RequestContext};
use crate::authority::Authority;
use crate::binding::mtls;
use crate::client::{AuthMethod, Client, ClientKeys, Credential, TlsCredential};

/// What the client presented to authenticate.
#[derive(Debug)]
pub enum PresentedCredentials {
    /// `Authorization: Basic`, id and secret already form-url-decoded (RFC 6749 §2.3.1).
    Basic {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// `client_id` and `client_secret` in the form body.
    Post {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// RFC 8705 §2: `client_id` in the body and a client certificate on the connection.
    Certificate {
        /// The client id.
        client_id: String,
    },
    /// RFC 7521 §4.2: `client_assertion_type` jwt-bearer and a `client_assertion`.
    Assertion {
        /// The client the assertion claims to come from (`iss`, or the `client_id` parameter).
        client_id: String,
        /// The signed JWT.
        assertion: Secret,
    },
    /// RFC 6749 §2.1 / RFC 7591 `none`: a public client names itself with `client_id` alone.
    ClientId {
        /// The client id.
        client_id: String,
    },
    /// Nothing.
    None,
}

impl PresentedCredentials {
    /// Whether HTTP Basic was used: a failure must then carry `WWW-Authenticate` (RFC 6749 §5.2).
    pub fn used_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    fn method_and_id(&self) -> Option<(AuthMethod, &str)> {
        match self {
            Self::Basic { client_id, .. } => Some((AuthMethod::ClientSecretBasic, client_id)),
            Self::Post { client_id, .. } => Some((AuthMethod::ClientSecretPost, client_id)),
            Self::Assertion { client_id, .. } => Some((AuthMethod::PrivateKeyJwt, client_id)),
            Self::Certificate { client_id } => Some((AuthMethod::TlsClientAuth, client_id)),
            Self::ClientId { client_id } => Some((AuthMethod::None, client_id)),
            Self::None => None,
        }
    }
}

/// Longest client id copied into an audit event (ids are attacker-controlled on failure).
const MAX_LOGGED_ID: usize = 128;

/// Authenticates the client, or records `client.authentication_failed` and answers `invalid_client`.
pub async fn authenticate(
    authority: &Authority,
    presented: &PresentedCredentials,
    ctx: &RequestContext,
) -> Result<Arc<Client>, OAuthError> {
    let Some((method, client_id)) = presented.method_and_id() else {
        return Err(OAuthError::invalid_client().with_detail("no client authentication"));
    };
    let client = authority.client(client_id).await?;
    let outcome = match client {
        None => Err("unknown_client"),
        Some(c) => verify(authority, &c, method, presented, ctx)
            .await
            .map(|()| c),
    };
    match outcome {
        Ok(c) => Ok(c),
        Err(reason) => {
            let mut event = ctx.event(
                EventKind::ClientAuthenticationFailed,
                authority.clock().now_ms(),
            );
            event.client_id = Some(client_id.chars().take(MAX_LOGGED_ID).collect());
            event.reason = Some(reason.to_string());
            event.format = Some(method.as_str().to_string());
            authority.record(event).await;
            let mut error = OAuthError::invalid_client().with_detail(reason);
            if reason == private_key_jwt::AUDIENCE_MISMATCH {
                // Only a client holding its registered key gets this far: tell it what to fix.
                error.description = format!(
                    "the client assertion's aud must be the issuer identifier {:?}, alone",
                    authority.issuer()
                )
                .into();
            }
            Err(error)
        }
    }
}

/// Runs the registered method's check; the error is the audit reason.
async fn verify(
    authority: &Authority,
    client: &Client,
    method: AuthMethod,
    presented: &PresentedCredentials,
    ctx: &RequestContext,
) -> Result<(), &'static str> {
    if client.disabled {
        return Err("client_disabled");
    }
    let registered = client.auth_method();
    let certificate_method = matches!(client.credential, Credential::Tls(_));
    // A public client on a connection that happens to carry a certificate is still public.
    let public_with_certificate =
        method == AuthMethod::TlsClientAuth && registered == AuthMethod::None;
    // RFC 6749 §2.3.1: Basic MUST work for every client issued a password, so a client
    // registered for `client_secret_post` may use it too (OAuth libraries revoke and introspect
    // with Basic whatever the token endpoint used); the converse, a secret in the body, only
    // for clients registered for it.
    let basic_for_post =
        method == AuthMethod::ClientSecretBasic && registered == AuthMethod::ClientSecretPost;
    let allowed = registered == method
        || (method == AuthMethod::TlsClientAuth && certificate_method)
        || public_with_certificate
        || basic_for_post;
    if !allowed {
        return Err("auth_method_not_allowed");
    }
    if client.is_public() {
        // RFC 6749 §2.1: nothing to verify; the grants hold public clients to PKCE and DPoP.
        return Ok(());
    }
    match presented {
        PresentedCredentials::Basic { secret, .. } | PresentedCredentials::Post { secret, .. } => {
            client_secret::verify(client, secret, authority.clock().now())
        }
        PresentedCredentials::Assertion { assertion, .. } => {
            private_key_jwt::verify(authority, client, assertion.expose_secret()).await
        }
        PresentedCredentials::Certificate { .. } => {
            let cert = ctx.client_cert.as_ref().ok_or("no_client_certificate")?;
            match &client.credential {
                Credential::Tls(TlsCredential::Subject(expected)) => {
                    mtls::matches_registered(cert, expected)
                }
                Credential::Tls(TlsCredential::SelfSigned(ClientKeys::Jwks(jwks))) => {
                    mtls::matches_jwks(cert, jwks)
                }
                // RFC 8705 §2.2.2: the keys may also be published at the client's jwks_uri
                // (fetched and cached as for private_key_jwt; a rotated key is seen once the
                // cached set is refetched, within `jwks_uri::CACHE_TTL_SECS`).
                Credential::Tls(TlsCredential::SelfSigned(ClientKeys::JwksUri(uri))) => {
                    let set = authority
                        .remote_jwks()
                        .keys(uri, None, authority.clock().now())
                        .await?;
                    let doc = serde_json::to_string(&*set).map_err(|_| "no_registered_keys")?;
                    mtls::matches_jwks(cert, &doc)
                }
                _ => Err("no_certificate_registration"),
            }
        }
        PresentedCredentials::ClientId { .. } | PresentedCredentials::None => Err("no_credentials"),
    }
}
