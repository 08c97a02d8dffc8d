//! `tessera client create|list|show|update|disable|enable|delete|rotate-secret`: client
//! administration straight on the database. Running servers notice every change within
//! `change_poll_ms` (the store's change counter), so a deleted client's secret stops working.
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::{AuthMethod, Client, ClientSecrets, GrantType, TokenFormat};
use tessera_core::client_auth::jwks_uri;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::SigningAlg;
use tessera_core::policy::{audience, scope};
use tessera_core::store::Store;
use tessera_proto::{TokenKind, TokenString};

use crate::duration::parse_secs;
use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and secret (the secret is shown once).
    Create(Box<CreateArgs>),
    /// List clients.
    List(ListArgs),
    /// Show one client.
    Show(IdArgs),
    /// Disable a client: it can no longer authenticate and its tokens stop introspecting active.
    Disable(IdArgs),
    /// Enable a disabled client.
    Enable(IdArgs),
    /// Delete a client.
    Delete(IdArgs),
    /// Issue a new secret; the old one keeps working for --grace, then only the new one does.
    RotateSecret(RotateArgs),
    /// Change a registration (only the flags given); running servers pick it up within a second.
    /// The id, secret, grant types and authentication method stay.
    Update(Box<UpdateArgs>),
}

#[derive(Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The client id
    client_id: String,
    /// Human name
    #[arg(long)]
    name: Option<String>,
    /// Space-separated scopes it may be granted (replaces the list; default scopes no longer in
    /// it are dropped, and if none is left all of the new scopes become the default)
    #[arg(long)]
    scope: Option<String>,
    /// Space-separated scopes granted when a request names none
    #[arg(long)]
    default_scope: Option<String>,
    /// RFC 8707 resource (audience) it may request tokens for (repeatable; replaces the list)
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// Redirection URI (repeatable; replaces the list)
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Access-token format: jwt or opaque
    #[arg(long)]
    token_format: Option<String>,
    /// JWT signing algorithm: ES256, EdDSA or RS256
    #[arg(long)]
    jwt_alg: Option<String>,
    /// Access-token lifetime in seconds (0: the server default)
    #[arg(long)]
    access_token_ttl: Option<u64>,
    /// Whether every token request must carry a DPoP proof: true or false
    #[arg(long)]
    require_dpop: Option<bool>,
    /// Replace the client's JWK Set with this file's (private_key_jwt, self_signed_tls_client_auth)
    #[arg(long)]
    jwks_file: Option<std::path::PathBuf>,
    /// Publish-your-own JWK Set URL instead (private_key_jwt, self_signed_tls_client_auth)
    #[arg(long, conflicts_with = "jwks_file")]
    jwks_uri: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CreateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Human name
    #[arg(long)]
    name: String,
    /// Grant types it may use (repeatable): client_credentials, authorization_code, refresh_token
    #[arg(long = "grant-type", default_value = "client_credentials")]
    grant_types: Vec<String>,
    /// Redirection URI for the authorization code grant (repeatable; exact match, https or
    /// loopback http, no wildcards)
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Space-separated scopes it may be granted
    #[arg(long, default_value = "")]
    scope: String,
    /// Space-separated scopes granted when a request names none [default: all of --scope]
    #[arg(long)]
    default_scope: Option<String>,
    /// RFC 8707 resource (audience) it may request tokens for (repeatable)
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// Access-token format: jwt or opaque
    #[arg(long, default_value = "jwt")]
    token_format: String,
    /// JWT signing algorithm: ES256, EdDSA or RS256
    #[arg(long, default_value = "ES256")]
    jwt_alg: String,
    /// Client authentication: client_secret_basic, client_secret_post, private_key_jwt,
    /// tls_client_auth, self_signed_tls_client_auth, or none (a public client: no secret, PKCE)
    #[arg(long, default_value = "client_secret_basic")]
    auth_method: String,
    /// Access-token lifetime in seconds (capped by the server maximum)
    #[arg(long)]
    access_token_ttl: Option<u64>,
    /// JWK Set file with the client's public keys, for --auth-method private_key_jwt (RFC 7523)
    #[arg(long)]
    jwks_file: Option<std::path::PathBuf>,
    /// URL where the client publishes its JWK Set, fetched and cached by the server, for
    /// --auth-method private_key_jwt or self_signed_tls_client_auth (RFC 7591 jwks_uri); https,
    /// or http on loopback only
    #[arg(long, conflicts_with = "jwks_file")]
    jwks_uri: Option<String>,
    /// tls_client_auth (RFC 8705 §2.1.2): the certificate's subject DN (RFC 4514)
    #[arg(long)]
    tls_client_auth_subject_dn: Option<String>,
    /// tls_client_auth: a DNS name in the certificate's SAN
    #[arg(long)]
    tls_client_auth_san_dns: Option<String>,
    /// tls_client_auth: a URI in the certificate's SAN
    #[arg(long)]
    tls_client_auth_san_uri: Option<String>,
    /// tls_client_auth: an IP address in the certificate's SAN
    #[arg(long)]
    tls_client_auth_san_ip: Option<String>,
    /// tls_client_auth: an email address in the certificate's SAN
    #[arg(long)]
    tls_client_auth_san_email: Option<String>,
    /// Every token request must carry a DPoP proof (RFC 9449); bearer tokens are refused
    #[arg(long)]
    require_dpop: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct IdArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The client id
    client_id: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RotateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The client id
    client_id: String,
    /// How long the old secret keeps working, e.g. 0, 90s, 15m, 24h
    #[arg(long, default_value = "0")]
    grace: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

async fn open(store: &StoreArgs) -> Result<Arc<dyn Store>, String> {
    let config = settings::load(store)?;
    tessera_store::open(&config.database).await
}

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

fn build(args: &CreateArgs, now: u64) -> Result<Client, String> {
    let grant_types = args
        .grant_types
        .iter()
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
fn check(c: &Client) -> Result<(), String> {
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
    if let Some(bad) = c.audiences.iter().find(|a| !audience::is_valid_resource(a)) {
        return Err(format!(
            "audience {bad:?} must be an absolute URI without a fragment"
        ));
    }
    Ok(())
}

/// Applies `client update`'s flags to the stored registration; `check` then judges the result.
fn apply(args: &UpdateArgs, c: &mut Client) -> Result<(), String> {
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
        ("tls_client_auth", 1) => Ok(given.into_iter().next()),
        ("tls_client_auth", _) => {
            Err("--auth-method tls_client_auth needs exactly one --tls-client-auth-* value".into())
        }
        (_, 0) => Ok(None),
        _ => Err("--tls-client-auth-* values need --auth-method tls_client_auth".into()),
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

fn describe(c: &Client) -> serde_json::Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "redirect_uris": c.redirect_uris,
        "scope": c.scopes.join(" "),
        "default_scope": c.default_scopes.join(" "),
        "audiences": c.audiences,
        "token_format": c.token_format.as_str(),
        "jwt_alg": c.jwt_alg.as_str(),
        "auth_method": c.auth_method.as_str(),
        "access_token_ttl": c.access_token_ttl,
        "require_dpop": c.require_dpop,
        "tls_client_auth": c.tls_client_auth,
        "jwks": c.jwks.as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
        "jwks_uri": c.jwks_uri,
        "disabled": c.disabled,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "previous_secret_expires_at": c.secrets.as_ref().and_then(|s| s.previous).map(|(_, e)| e),
    })
}

async fn audit(store: &dyn Store, kind: EventKind, client_id: &str) -> Result<(), String> {
    let mut event = AuditEvent::new(kind, SystemClock.now_ms());
    event.client_id = Some(client_id.to_string());
    event.reason = Some("cli".into());
    store.record_event(event).await;
    store.flush_events().await.map_err(|e| e.to_string())
}

async fn get(store: &dyn Store, id: &str) -> Result<Client, String> {
    store
        .get_client(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no client {id:?}"))
}

pub async fn run(cmd: ClientCommand) -> Result<(), String> {
    let now = SystemClock.now();
    match cmd {
        ClientCommand::Create(args) => {
            let store = open(&args.store).await?;
            let mut client = build(&args, now)?;
            // RFC 6749 §2.1: a public client gets no secret at all.
            let secret = (!client.is_public())
                .then(|| TokenString::generate_random(TokenKind::ClientSecret));
            client.secrets = secret.as_ref().map(|s| ClientSecrets {
                current: s.hash(),
                previous: None,
            });
            let secret = secret.as_ref().map(|s| s.expose_secret());
            store
                .create_client(&client)
                .await
                .map_err(|e| e.to_string())?;
            audit(store.as_ref(), EventKind::ClientCreated, &client.id).await?;
            if args.json {
                println!(
                    "{}",
                    json!({"client_id": client.id, "client_secret": secret})
                );
            } else if let Some(secret) = secret {
                println!("client_id:     {}\nclient_secret: {secret}", client.id);
                eprintln!("The secret is shown once; only its hash is stored.");
            } else {
                println!("client_id:     {}", client.id);
                eprintln!("A public client: it has no secret and must use PKCE.");
            }
        }
        ClientCommand::List(args) => {
            let store = open(&args.store).await?;
            let clients = store.list_clients().await.map_err(|e| e.to_string())?;
            if args.json {
                println!(
                    "{}",
                    serde_json::Value::Array(clients.iter().map(describe).collect())
                );
            } else {
                for c in clients {
                    let state = if c.disabled { " (disabled)" } else { "" };
                    println!(
                        "{}  {}{}  [{}]  {}",
                        c.id,
                        c.name,
                        state,
                        c.scopes.join(" "),
                        c.audiences.join(" ")
                    );
                }
            }
        }
        ClientCommand::Show(args) => {
            let store = open(&args.store).await?;
            let c = get(store.as_ref(), &args.client_id).await?;
            let text = if args.json {
                describe(&c).to_string()
            } else {
                serde_json::to_string_pretty(&describe(&c)).expect("json")
            };
            println!("{text}");
        }
        ClientCommand::Update(args) => {
            let store = open(&args.store).await?;
            let mut c = get(store.as_ref(), &args.client_id).await?;
            apply(&args, &mut c)?;
            check(&c)?;
            c.updated_at = now;
            if !store.update_client(&c).await.map_err(|e| e.to_string())? {
                return Err(format!("no client {:?}", args.client_id));
            }
            audit(store.as_ref(), EventKind::ClientUpdated, &c.id).await?;
            let text = if args.json {
                describe(&c).to_string()
            } else {
                serde_json::to_string_pretty(&describe(&c)).expect("json")
            };
            println!("{text}");
        }
        ClientCommand::Disable(args) => set_disabled(args, true, now).await?,
        ClientCommand::Enable(args) => set_disabled(args, false, now).await?,
        ClientCommand::Delete(args) => {
            let store = open(&args.store).await?;
            if !store
                .delete_client(&args.client_id, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no client {:?}", args.client_id));
            }
            audit(store.as_ref(), EventKind::ClientDeleted, &args.client_id).await?;
            if args.json {
                println!("{}", json!({"client_id": args.client_id, "deleted": true}));
            }
        }
        ClientCommand::RotateSecret(args) => {
            let store = open(&args.store).await?;
            let grace = parse_secs(&args.grace)?;
            if get(store.as_ref(), &args.client_id).await?.is_public() {
                return Err(format!(
                    "client {:?} is public (auth method none): it has no secret",
                    args.client_id
                ));
            }
            let secret = TokenString::generate_random(TokenKind::ClientSecret);
            let expires = now + grace;
            if !store
                .rotate_client_secret(&args.client_id, secret.hash(), expires, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no client {:?}", args.client_id));
            }
            audit(
                store.as_ref(),
                EventKind::ClientSecretRotated,
                &args.client_id,
            )
            .await?;
            if args.json {
                println!(
                    "{}",
                    json!({"client_id": args.client_id, "client_secret": secret.expose_secret(), "previous_secret_expires_at": expires})
                );
            } else {
                println!(
                    "client_id:     {}\nclient_secret: {}",
                    args.client_id,
                    secret.expose_secret()
                );
                eprintln!("The previous secret works until {expires} (unix time).");
            }
        }
    }
    Ok(())
}

async fn set_disabled(args: IdArgs, disabled: bool, now: u64) -> Result<(), String> {
    let store = open(&args.store).await?;
    let mut c = get(store.as_ref(), &args.client_id).await?;
    c.disabled = disabled;
    c.updated_at = now;
    store.update_client(&c).await.map_err(|e| e.to_string())?;
    audit(store.as_ref(), EventKind::ClientUpdated, &c.id).await?;
    if args.json {
        println!("{}", describe(&c));
    }
    Ok(())
}
