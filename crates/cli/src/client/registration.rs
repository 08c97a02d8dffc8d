//! A client registration from the command line: `create`'s flags parsed into a [`Client`],
//! `update`'s applied to a stored one. The rules both must keep live in
//! `tessera_core::client::registration`; here its errors are told with the flags' names.
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::registration::{self, CredentialMetadata, Field, RegistrationError};
use tessera_core::client::{AuthMethod, Client, ClientSecrets, GrantType, TokenFormat};
use tessera_core::keys::SigningAlg;
use tessera_proto::{Secret, TokenKind, TokenString};

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

/// The flag that sets each registration field.
fn flag(field: Field) -> &'static str {
    match field {
        Field::GrantTypes => "--grant-type",
        Field::RedirectUris => "--redirect-uri",
        Field::Scope => "--scope",
        Field::Audience => "--audience",
        Field::ResourceUris => "--resource-uri",
        Field::TokenEndpointAuthMethod => "--auth-method",
        Field::Jwks => "--jwks-file",
        Field::JwksUri => "--jwks-uri",
        Field::TlsClientAuth => "--tls-client-auth-*",
        Field::TlsClientAuthSubjectDn => "--tls-client-auth-subject-dn",
        // Never a flag: `create` generates the secret for the methods that use one.
        Field::ClientSecret => "client secret",
    }
}

/// A core rule's refusal, in the CLI's words.
fn refused(e: RegistrationError) -> String {
    e.describe(&flag)
}

/// The core rules a registration must keep, created or updated.
pub(super) fn check(c: &Client) -> Result<(), String> {
    registration::check(c).map_err(refused)
}

/// Builds the client `create` registers and, for the client_secret_* methods, its fresh secret
/// (shown once; only its hash is kept). A public client, or one that proves a key, gets none.
pub(super) fn build(args: &CreateArgs, now: u64) -> Result<(Client, Option<Secret>), String> {
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
    let method = AuthMethod::parse(&args.auth_method).ok_or_else(|| {
        format!(
            "unknown auth method {:?}: client_secret_basic, client_secret_post, private_key_jwt, \
             tls_client_auth, self_signed_tls_client_auth or none",
            args.auth_method
        )
    })?;
    let secret = method
        .uses_secret()
        .then(|| TokenString::generate_random(TokenKind::ClientSecret));
    let credential = CredentialMetadata {
        token_endpoint_auth_method: method,
        secrets: secret.as_ref().map(|s| ClientSecrets {
            current: s.hash(),
            previous: None,
        }),
        jwks: read_jwks(args.jwks_file.as_deref())?,
        jwks_uri: args.jwks_uri.clone(),
        tls_client_auth: tls_client_auth(args),
    }
    .into_credential()
    .map_err(refused)?;
    let client = Client {
        id: new_client_id(),
        name: args.name.clone(),
        credential,
        grant_types,
        redirect_uris: args.redirect_uris.clone(),
        scopes,
        default_scopes,
        audiences: args.audiences.clone(),
        token_format: parse_token_format(&args.token_format)?,
        jwt_alg: parse_jwt_alg(&args.jwt_alg)?,
        access_token_ttl: args.access_token_ttl,
        require_dpop: args.require_dpop,
        allow_impersonation: args.allow_impersonation,
        require_par: args.require_par,
        tokens_not_before: None,
        resource_uris: args.resource_uris.clone(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    check(&client)?;
    Ok((client, secret))
}

fn parse_token_format(s: &str) -> Result<TokenFormat, String> {
    TokenFormat::parse(s).ok_or_else(|| format!("unknown token format {s:?}: jwt or opaque"))
}

fn parse_jwt_alg(s: &str) -> Result<SigningAlg, String> {
    SigningAlg::parse(s).ok_or_else(|| format!("unknown algorithm {s:?}: ES256, EdDSA or RS256"))
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
    if let Some(allow) = args.allow_impersonation {
        c.allow_impersonation = allow;
    }
    if !args.grant_types.is_empty() {
        c.grant_types = if args.grant_types.iter().any(|g| g == "none") {
            if args.grant_types.len() > 1 {
                return Err("--grant-type none goes alone".into());
            }
            Vec::new()
        } else {
            args.grant_types
                .iter()
                .map(|g| GrantType::parse(g).ok_or_else(|| format!("unknown grant type {g:?}")))
                .collect::<Result<_, _>>()?
        };
    }
    if let Some(require) = args.require_par {
        c.require_par = require;
    }
    // New keys replace the registered ones (by value or by reference, never both).
    if args.jwks_file.is_some() || args.jwks_uri.is_some() {
        let mut metadata = CredentialMetadata::from(&c.credential);
        metadata.jwks = read_jwks(args.jwks_file.as_deref())?;
        metadata.jwks_uri = args.jwks_uri.clone();
        c.credential = metadata.into_credential().map_err(refused)?;
    }
    Ok(())
}

/// The `--tls-client-auth-*` values given (the core wants exactly one, for tls_client_auth).
fn tls_client_auth(args: &CreateArgs) -> Vec<TlsClientAuth> {
    [
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
    .collect()
}

/// Reads a JWK Set file; the core judges its keys.
fn read_jwks(path: Option<&std::path::Path>) -> Result<Option<String>, String> {
    let Some(path) = path else { return Ok(None) };
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| format!("reading {}: {e}", path.display()))
}
