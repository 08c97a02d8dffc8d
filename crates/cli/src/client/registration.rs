//! A client registration from the command line: `create`'s flags parsed into a [`Client`],
//! `update`'s applied to a stored one, and the rules both must keep ([`check`]).
use tessera_core::binding::dn::DistinguishedName;
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::{AuthMethod, Client, GrantType, TokenFormat};
use tessera_core::client_auth::jwks_uri;
use tessera_core::keys::SigningAlg;
use tessera_core::policy::{audience, scope};

use super::{CreateArgs, UpdateArgs};

fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system RNG failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn words(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn build(args: &CreateArgs, now: u64) -> Result<Client, String> {
    // `--grant-type none`: a client that never asks for tokens (a resource server that only
    // introspects, reads the revocation feed or reports events).
    let none = args.grant_types.iter().any(|g| g == "none");
    if none && args.grant_types.len() > 1 {
        return Err("--grant-type none goes alone".into());
    }
    let grant_types = args
        .grant_types
        .iter()
        .filter(|_| !none)
        .map(|g| GrantType::parse(g).ok_or_else(|| format!("unknown grant type {g:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let scopes = words(&args.scope);
    let default_scopes = args
        .default_scope
        .as_deref()
        .map(words)
        .unwrap_or_else(|| scopes.clone());
    let client = Client {
        id: new_client_id(),
        name: args.name.clone(),
        // Filled in by the caller with the hash of a fresh secret, unless the client is public.
        secrets: None,
        grant_types,
        redirect_uris: args.redirect_uris.clone(),
        scopes,
        default_scopes,
        audiences: args.audiences.clone(),
        token_format: parse_token_format(&args.token_format)?,
        jwt_alg: parse_jwt_alg(&args.jwt_alg)?,
        auth_method: AuthMethod::parse(&args.auth_method).ok_or_else(|| {
            format!(
                "unknown auth method {:?}: client_secret_basic, client_secret_post, private_key_jwt, \
                 tls_client_auth, self_signed_tls_client_auth or none",
                args.auth_method
            )
        })?,
        access_token_ttl: args.access_token_ttl,
        require_dpop: args.require_dpop,
        tokens_not_before: None,
        jwks: read_jwks(args.jwks_file.as_deref())?,
        jwks_uri: args.jwks_uri.clone(),
        resource_uris: args.resource_uris.clone(),
        tls_client_auth: tls_client_auth(args)?,
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    check(&client)?;
    Ok(client)
}

fn parse_token_format(s: &str) -> Result<TokenFormat, String> {
    TokenFormat::parse(s).ok_or_else(|| format!("unknown token format {s:?}: jwt or opaque"))
}

fn parse_jwt_alg(s: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(s).ok_or_else(|| format!("unknown algorithm {s:?}: ES256, EdDSA or RS256"))
}

/// The rules a registration must keep, whether it is created or updated: grant types and
/// redirect URIs that go together, valid scopes with the defaults among them, valid audiences,
/// and keys where the authentication method needs them.
pub(super) fn check(c: &Client) -> Result<(), String> {
    for uri in &c.redirect_uris {
        tessera_core::client::check_redirect_uri(uri)?;
    }
    let code_grant = c.grant_types.contains(&GrantType::AuthorizationCode);
    if code_grant && c.redirect_uris.is_empty() {
        return Err("--grant-type authorization_code needs at least one --redirect-uri".into());
    }
    if !code_grant && !c.redirect_uris.is_empty() {
        return Err("--redirect-uri goes with --grant-type authorization_code".into());
    }
    if c.grant_types.contains(&GrantType::RefreshToken) && !code_grant {
        return Err("--grant-type refresh_token needs --grant-type authorization_code".into());
    }
    if c.auth_method == AuthMethod::None && c.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(
            "a public client (--auth-method none) cannot use client_credentials: list its grant types"
                .into(),
        );
    }
    if let Some(bad) = c.scopes.iter().find(|s| !scope::is_scope_token(s)) {
        return Err(format!("invalid scope {bad:?} (RFC 6749 §3.3)"));
    }
    let needs_jwks = matches!(
        c.auth_method,
        AuthMethod::PrivateKeyJwt | AuthMethod::SelfSignedTlsClientAuth
    );
    if let Some(uri) = &c.jwks_uri {
        if !needs_jwks {
            return Err(
                "--jwks-uri goes with --auth-method private_key_jwt or self_signed_tls_client_auth"
                    .into(),
            );
        }
        jwks_uri::check_uri(uri).map_err(|e| format!("{e}: {uri:?}"))?;
    } else if needs_jwks != c.jwks.is_some() {
        return Err("--jwks-file or --jwks-uri goes with --auth-method \
             private_key_jwt or self_signed_tls_client_auth"
            .into());
    }
    if let Some(extra) = c.default_scopes.iter().find(|s| !c.scopes.contains(s)) {
        return Err(format!("default scope {extra:?} is not in --scope"));
    }
    // RFC 8707 / RFC 9068 §3: every access token is issued for exactly one resource server (its
    // `aud`); a client with no audience would be refused every token (`invalid_target`).
    if c.audiences.is_empty() && !c.grant_types.is_empty() {
        return Err(
            "--audience is required: every access token is issued for one resource server (its \
             aud, RFC 8707), so a client without an audience could never get a token; give the \
             resource server's URI with --audience (repeatable), or --grant-type none for a \
             client that only introspects or reads the revocation feed"
                .into(),
        );
    }
    for uri in &c.resource_uris {
        tessera_core::client::check_resource_uri(uri).map_err(|e| format!("--resource-uri {e}"))?;
    }
    if let Some(bad) = c.audiences.iter().find(|a| !audience::is_valid_resource(a)) {
        return Err(format!(
            "audience {bad:?} must be an absolute URI without a fragment"
        ));
    }
    Ok(())
}

/// Applies `client update`'s flags to the stored registration; `check` then judges the result.
pub(super) fn apply(args: &UpdateArgs, c: &mut Client) -> Result<(), String> {
    if let Some(name) = &args.name {
        c.name = name.clone();
    }
    if let Some(scope) = &args.scope {
        c.scopes = words(scope);
        if args.default_scope.is_none() {
            // The defaults that are still allowed; all of the new scopes if none is.
            c.default_scopes.retain(|s| c.scopes.contains(s));
            if c.default_scopes.is_empty() {
                c.default_scopes = c.scopes.clone();
            }
        }
    }
    if let Some(default_scope) = &args.default_scope {
        c.default_scopes = words(default_scope);
    }
    if !args.audiences.is_empty() {
        c.audiences = args.audiences.clone();
    }
    if !args.redirect_uris.is_empty() {
        c.redirect_uris = args.redirect_uris.clone();
    }
    if !args.resource_uris.is_empty() {
        c.resource_uris = args
            .resource_uris
            .iter()
            .filter(|u| !u.is_empty())
            .cloned()
            .collect();
    }
    if let Some(format) = &args.token_format {
        c.token_format = parse_token_format(format)?;
    }
    if let Some(alg) = &args.jwt_alg {
        c.jwt_alg = parse_jwt_alg(alg)?;
    }
    if let Some(ttl) = args.access_token_ttl {
        c.access_token_ttl = (ttl > 0).then_some(ttl);
    }
    if let Some(require) = args.require_dpop {
        c.require_dpop = require;
    }
    if let Some(path) = &args.jwks_file {
        c.jwks = read_jwks(Some(path))?;
        c.jwks_uri = None;
    }
    if let Some(uri) = &args.jwks_uri {
        c.jwks_uri = Some(uri.clone());
        c.jwks = None;
    }
    Ok(())
}

/// RFC 8705 §2.1.2: exactly one of the tls_client_auth_* values, for that method only.
fn tls_client_auth(args: &CreateArgs) -> Result<Option<TlsClientAuth>, String> {
    let given: Vec<TlsClientAuth> = [
        args.tls_client_auth_subject_dn
            .clone()
            .map(TlsClientAuth::SubjectDn),
        args.tls_client_auth_san_dns
            .clone()
            .map(TlsClientAuth::SanDns),
        args.tls_client_auth_san_uri
            .clone()
            .map(TlsClientAuth::SanUri),
        args.tls_client_auth_san_ip
            .clone()
            .map(TlsClientAuth::SanIp),
        args.tls_client_auth_san_email
            .clone()
            .map(TlsClientAuth::SanEmail),
    ]
    .into_iter()
    .flatten()
    .collect();
    match (args.auth_method.as_str(), given.len()) {
        ("tls_client_auth", 1) => given.into_iter().next().map(canonical).transpose(),
        ("tls_client_auth", _) => {
            Err("--auth-method tls_client_auth needs exactly one --tls-client-auth-* value".into())
        }
        (_, 0) => Ok(None),
        _ => Err("--tls-client-auth-* values need --auth-method tls_client_auth".into()),
    }
}

/// A subject DN must parse as RFC 4514 (it is matched RDN by RDN, RFC 4517
/// distinguishedNameMatch) and is stored in its canonical string form.
fn canonical(value: TlsClientAuth) -> Result<TlsClientAuth, String> {
    match value {
        TlsClientAuth::SubjectDn(dn) => {
            let parsed = DistinguishedName::parse(&dn)
                .map_err(|e| format!("--tls-client-auth-subject-dn {dn:?}: {e}"))?;
            if parsed.rdns.is_empty() {
                return Err("--tls-client-auth-subject-dn is empty".into());
            }
            Ok(TlsClientAuth::SubjectDn(parsed.to_string()))
        }
        other => Ok(other),
    }
}

/// Reads and checks a JWK Set file: every key public and usable.
fn read_jwks(path: Option<&std::path::Path>) -> Result<Option<String>, String> {
    let Some(path) = path else { return Ok(None) };
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a JWK Set: {e}", path.display()))?;
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if raw["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .any(tessera_core::jose::has_private_members)
    {
        return Err(format!(
            "{} contains private key material: register public keys only",
            path.display()
        ));
    }
    if set.keys.is_empty() {
        return Err(format!("{} has no keys", path.display()));
    }
    for key in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| format!("unusable key in {}: {e}", path.display()))?;
    }
    Ok(Some(text))
}
