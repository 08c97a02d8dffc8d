//! RFC 9068 §4 validation of JWT access tokens: `typ` `at+jwt`, an allowed asymmetric `alg`
//! matching the key, the signature (jsonwebtoken), `iss` exact, `aud` containing this resource
//! server, `exp`/`nbf`/`iat` within the leeway, and the required claims present.
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::claims::{Confirmation, TokenClaims, TokenFormat, split_scope};
use crate::config::ValidateConfig;
use crate::error::Rejection;
use crate::jwks::JwksCache;

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// RFC 9068 §2.2: every claim is required, except `scope` and `cnf`.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: u64,
    iat: u64,
    #[serde(default)]
    nbf: Option<u64>,
    jti: String,
    client_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    cnf: Option<Confirmation>,
}

fn is_mac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Verifies `token` and returns its claims; `now` in seconds since the epoch.
pub async fn verify(
    config: &ValidateConfig,
    jwks: &JwksCache,
    token: &str,
    now: u64,
) -> Result<TokenClaims, Rejection> {
    // Unparseable headers include `alg: none`, which jsonwebtoken cannot even represent.
    let header = jsonwebtoken::decode_header(token).map_err(|e| {
        Rejection::invalid_token("the access token is malformed").detail(e.to_string())
    })?;
    // RFC 9068 §4: typ must be at+jwt (the media type, case-insensitively, with or without the
    // application/ prefix), so an ID token or any other JWT of the issuer is not accepted.
    let typ = header.typ.as_deref().map(str::to_ascii_lowercase);
    if !matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt")) {
        return Err(Rejection::invalid_token(
            "the access token is not an at+jwt",
        ));
    }
    if is_mac(header.alg) || !config.algorithms.contains(&header.alg) {
        return Err(Rejection::invalid_token(
            "the access token's algorithm is not accepted",
        ));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| Rejection::invalid_token("the access token names no key"))?;
    if jwks.is_revoked(kid) {
        return Err(Rejection::invalid_token(
            "the access token's signing key was revoked",
        ));
    }
    let key = jwks
        .key(kid)
        .await
        .ok_or_else(|| Rejection::invalid_token("the access token's key is unknown"))?;
    if key.alg.is_some_and(|a| a != header.alg) {
        return Err(Rejection::invalid_token(
            "the access token's algorithm does not match its key",
        ));
    }
    // The signature and issuer are checked by the library; time and audience below, against our
    // clock with our leeway.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[config.issuer.as_str()]);
    let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            let description = match e.kind() {
                K::InvalidIssuer => "the access token has the wrong issuer",
                K::InvalidSignature => "the access token's signature is invalid",
                K::Json(_) | K::MissingRequiredClaim(_) => "the access token lacks required claims",
                _ => "the access token is invalid",
            };
            Rejection::invalid_token(description).detail(e.to_string())
        })?
        .claims;
    if claims.iss != config.issuer {
        return Err(Rejection::invalid_token(
            "the access token has the wrong issuer",
        ));
    }
    if !claims.aud.contains(&config.audience) {
        return Err(Rejection::invalid_token(
            "the access token is not for this resource server",
        ));
    }
    let leeway = config.leeway.as_secs();
    if now >= claims.exp + leeway {
        return Err(Rejection::invalid_token("the access token expired"));
    }
    if claims.nbf.unwrap_or(claims.iat) > now + leeway || claims.iat > now + leeway {
        return Err(Rejection::invalid_token(
            "the access token is not yet valid",
        ));
    }
    Ok(TokenClaims {
        subject: claims.sub,
        client_id: claims.client_id,
        scopes: split_scope(&claims.scope),
        token_id: claims.jti,
        expires_at: claims.exp,
        issued_at: claims.iat,
        format: TokenFormat::Jwt,
        cnf: claims
            .cnf
            .filter(|c| c.jkt.is_some() || c.x5t_s256.is_some()),
    })
}
