//! RFC 9068 JWT access tokens: `typ: at+jwt`, signed with the current key of the client's
//! algorithm; nothing is stored (revocation records the `jti`).
use serde::{Deserialize, Serialize};
use tessera_proto::act::{Act, MayAct};
use tessera_proto::{OAuthError, Secret};

use super::{IssuedToken, TokenSpec};
use crate::authority::Authority;
use crate::client::TokenFormat;

/// RFC 9068 §2.2 claims.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// The one audience.
    pub aud: String,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Not before (= `iat`).
    pub nbf: u64,
    /// Unique id, for revocation.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Space-separated scope (RFC 9068 §2.2.3); omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// RFC 7800 confirmation: the key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// RFC 8693 §4.1: the actor chain of an exchanged token (delegation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
    /// RFC 8693 §4.4: who may exchange this token. Tessera does not write it; it is honoured
    /// when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_act: Option<MayAct>,
}

/// RFC 7800 `cnf` claim.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    /// RFC 9449 §6.1: SHA-256 JWK thumbprint of the DPoP key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// RFC 8705 §3.1: SHA-256 thumbprint of the client certificate.
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Confirmation {
    /// The `cnf` for a binding, or `None` for a bearer token.
    pub fn of(binding: &crate::binding::SenderBinding) -> Option<Self> {
        (binding.dpop_jkt.is_some() || binding.x5t_s256.is_some()).then(|| Self {
            jkt: binding.dpop_jkt.clone(),
            x5t_s256: binding.x5t_s256.clone(),
        })
    }
}

/// A 128-bit random `jti` in base64url.
fn new_jti() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs a JWT access token for `spec`.
pub fn mint(authority: &Authority, spec: TokenSpec) -> Result<IssuedToken, OAuthError> {
    let now = authority.clock().now();
    let claims = AccessTokenClaims {
        iss: authority.issuer().to_string(),
        sub: spec.subject,
        aud: spec.audience.clone(),
        exp: now + spec.ttl,
        iat: now,
        nbf: now,
        jti: new_jti(),
        client_id: spec.client_id.clone(),
        scope: spec.scope.clone(),
        cnf: Confirmation::of(&spec.binding),
        act: spec.act.clone(),
        may_act: None,
    };
    let token = authority
        .keys()
        .sign(spec.alg, &claims)
        .map_err(|e| OAuthError::server_error(format!("JWT signing failed: {e}")))?;
    Ok(IssuedToken {
        client_id: spec.client_id,
        access_token: Secret::new(token),
        token_id: claims.jti,
        token_type: spec.binding.token_type(),
        expires_in: spec.ttl,
        scope: spec.scope,
        audience: spec.audience,
        format: TokenFormat::Jwt,
        refresh_token: None,
        issued_at: now,
        issued_token_type: None,
    })
}
