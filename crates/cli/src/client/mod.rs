//! `tessera client create|list|show|update|disable|enable|delete|rotate-secret`: client
//! administration straight on the database. Running servers notice every change within
//! `change_poll_ms` (the store's change counter), so a deleted client's secret stops working.

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::client::{AuthMethod, Client, ClientKeys, GrantType};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::store::Store;
use tessera_proto::{TokenKind, TokenString};

mod registration;

use registration::{apply, build, check};

use crate::duration::parse_secs;
use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its id and, for client_secret_* clients, its secret (shown once).
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
    /// The id, secret and authentication method stay.
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
    /// Resource URI by which tokens are addressed to this client as a resource server
    /// (repeatable; replaces the list; `--resource-uri ''` clears it)
    #[arg(long = "resource-uri")]
    resource_uris: Vec<String>,
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
    /// Grant types it may use (repeatable; replaces the list): client_credentials,
    /// authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:token-exchange
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// Token exchange (RFC 8693) without `act`: its exchanged tokens impersonate the subject
    /// instead of naming this client as the actor (audited as impersonation); true or false
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    allow_impersonation: Option<bool>,
    /// Whether its authorization requests must be pushed to `/par` first (RFC 9126): true or false
    #[arg(long)]
    require_par: Option<bool>,
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
    /// Grant types it may use (repeatable): client_credentials, authorization_code, refresh_token,
    /// urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693: exchange tokens addressed to
    /// its --resource-uri for tokens to its --audience); or none, for a client that never asks
    /// for tokens (a resource server)
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
    /// Resource URI by which tokens are addressed to this client as a resource server: it may
    /// introspect and report uses of tokens whose `aud` is one of them (repeatable; absolute URI,
    /// no fragment)
    #[arg(long = "resource-uri")]
    resource_uris: Vec<String>,
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
    /// Token exchange (RFC 8693) without `act`: its exchanged tokens impersonate the subject
    /// instead of naming this client as the actor (every such exchange is audited as
    /// impersonation). Off by default: exchanged tokens are delegations
    #[arg(long)]
    allow_impersonation: bool,
    /// Its authorization requests must be pushed to `/par` first (RFC 9126 §6); a plain
    /// `/authorize` request is refused
    #[arg(long)]
    require_par: bool,
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

fn describe(c: &Client) -> serde_json::Value {
    let keys = c.credential.keys();
    json!({
        "client_id": c.id,
        "name": c.name,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "redirect_uris": c.redirect_uris,
        "scope": c.scopes.join(" "),
        "default_scope": c.default_scopes.join(" "),
        "audiences": c.audiences,
        "resource_uris": c.resource_uris,
        "token_format": c.token_format.as_str(),
        "jwt_alg": c.jwt_alg.as_str(),
        "auth_method": c.auth_method().as_str(),
        "access_token_ttl": c.access_token_ttl,
        "require_dpop": c.require_dpop,
        "allow_impersonation": c.allow_impersonation,
        "may_exchange": may_exchange(c),
        "require_pushed_authorization_requests": c.require_par,
        "tls_client_auth": c.credential.tls_subject(),
        "jwks": keys.and_then(ClientKeys::jwks).and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
        "jwks_uri": keys.and_then(ClientKeys::jwks_uri),
        "disabled": c.disabled,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "previous_secret_expires_at": c.credential.secrets().and_then(|s| s.previous).map(|(_, e)| e),
    })
}

/// What the client may exchange (RFC 8693), for `show`: tokens addressed to its resource URIs,
/// for tokens to its audiences, within its scope; `null` without the token-exchange grant.
fn may_exchange(c: &Client) -> serde_json::Value {
    if !c.allows_grant(GrantType::TokenExchange) {
        return serde_json::Value::Null;
    }
    json!({
        "subject_token_audiences": c.resource_uris,
        "for_audiences": c.audiences,
        "scope_at_most": c.scopes.join(" "),
        "as": if c.allow_impersonation { "impersonation" } else { "delegation (act)" },
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
            let store = settings::open_store(&args.store).await?;
            let (client, secret) = build(&args, now)?;
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
            } else if client.is_public() {
                println!("client_id:     {}", client.id);
                eprintln!("A public client: it has no secret and must use PKCE.");
            } else {
                println!("client_id:     {}", client.id);
                eprintln!(
                    "No secret: this client authenticates with {}.",
                    client.auth_method().as_str()
                );
            }
        }
        ClientCommand::List(args) => {
            let store = settings::open_store(&args.store).await?;
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
            let store = settings::open_store(&args.store).await?;
            let c = get(store.as_ref(), &args.client_id).await?;
            let text = if args.json {
                describe(&c).to_string()
            } else {
                serde_json::to_string_pretty(&describe(&c)).expect("json")
            };
            println!("{text}");
        }
        ClientCommand::Update(args) => {
            let store = settings::open_store(&args.store).await?;
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
            let store = settings::open_store(&args.store).await?;
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
            let store = settings::open_store(&args.store).await?;
            let grace = parse_secs(&args.grace)?;
            let method = get(store.as_ref(), &args.client_id).await?.auth_method();
            if method == AuthMethod::None {
                return Err(format!(
                    "client {:?} is public (auth method none): it has no secret",
                    args.client_id
                ));
            }
            if !method.uses_secret() {
                return Err(format!(
                    "client {:?} authenticates with {}: it has no secret",
                    args.client_id,
                    method.as_str()
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
    let store = settings::open_store(&args.store).await?;
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
