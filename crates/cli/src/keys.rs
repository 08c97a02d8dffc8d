//! `tessera keys list|rotate|revoke`: the signing keys and their lifecycle (docs/keys.md).
//! Running servers load every change within `change_poll_ms`.
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::lifecycle::{RevokeKeyError, begin_rotation, revoke_key, rotate_key};
use tessera_core::keys::{KeyPolicy, KeyState, Sealer, SigningAlg, StoredKey};
use tessera_core::store::KeyRevocation;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List signing keys with their state and times (never their private parts).
    List(ListArgs),
    /// Publish a new `next` key (for one algorithm or all) that becomes current after
    /// `keys.publish_before_use`; `--now` makes a key current at once.
    Rotate(RotateArgs),
    /// Revoke a compromised key: unpublished at once, every token it signed inactive; a
    /// replacement signs at once if it was current.
    Revoke(RevokeArgs),
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
pub struct RotateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this algorithm: ES256, EdDSA or RS256 [default: all]
    #[arg(long)]
    alg: Option<String>,
    /// Make the new key current at once (the published `next` key if there is one, else a
    /// fresh key) instead of after `keys.publish_before_use`. Validators that cached the JWK
    /// Set before the key was published refetch it on its first token.
    #[arg(long)]
    now: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The key id (`kid`), as `tessera keys list` shows it.
    kid: String,
    /// Why (recorded in the `key.revoked` audit event).
    #[arg(long)]
    reason: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

fn sealer(config: &tessera_core::Config) -> Result<Option<Sealer>, String> {
    config
        .keys
        .encryption_key
        .as_ref()
        .map(|k| Sealer::from_base64(k.expose_secret()))
        .transpose()
        .map_err(|e| e.to_string())
}

fn rfc3339(t: Option<u64>) -> String {
    t.and_then(|t| OffsetDateTime::from_unix_timestamp(t as i64).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".into())
}

fn key_json(k: &StoredKey, policy: &KeyPolicy) -> Value {
    json!({
        "kid": k.kid,
        "alg": k.alg.as_str(),
        "state": k.state.as_str(),
        "sealed": k.sealed,
        "created_at": k.created_at,
        "activated_at": k.activated_at,
        "retired_at": k.retired_at,
        "revoked_at": k.revoked_at,
        // When a next key may become current; when a retired key leaves the JWK Set.
        "activates_at": (k.state == KeyState::Next).then(|| policy.activates_at(k.created_at)),
        "unpublished_at": match k.state {
            KeyState::Retired => k.retired_at.map(|t| t + policy.retired_published_for),
            _ => None,
        },
    })
}

pub async fn run(cmd: KeysCommand) -> Result<(), String> {
    match cmd {
        KeysCommand::List(args) => {
            let config = settings::load(&args.store)?;
            let policy = KeyPolicy::from_config(&config);
            let store = tessera_store::open(&config.database).await?;
            let keys = store.list_keys().await.map_err(|e| e.to_string())?;
            if args.json {
                let list: Vec<_> = keys.iter().map(|k| key_json(k, &policy)).collect();
                println!("{}", Value::Array(list));
            } else {
                println!(
                    "{:<43}  {:<5}  {:<7}  {:<20}  {:<20}  {:<20}  REVOKED",
                    "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED"
                );
                for k in keys {
                    println!(
                        "{:<43}  {:<5}  {:<7}  {:<20}  {:<20}  {:<20}  {}",
                        k.kid,
                        k.alg.as_str(),
                        k.state.as_str(),
                        rfc3339(Some(k.created_at)),
                        rfc3339(k.activated_at),
                        rfc3339(k.retired_at),
                        rfc3339(k.revoked_at),
                    );
                }
            }
        }
        KeysCommand::Rotate(args) => {
            let (config, kek_created) = settings::load_with_kek(&args.store)?;
            let policy = KeyPolicy::from_config(&config);
            let sealer = sealer(&config)?;
            let algs = match &args.alg {
                Some(a) => {
                    vec![SigningAlg::parse(a).ok_or_else(|| format!("unknown algorithm {a:?}"))?]
                }
                None => SigningAlg::ALL.to_vec(),
            };
            let store = tessera_store::open(&config.database).await?;
            let now = SystemClock.now();
            let mut rotated = Vec::new();
            for alg in algs {
                if args.now {
                    let kid = rotate_key(store.as_ref(), alg, sealer.as_ref(), now)
                        .await
                        .map_err(|e| e.to_string())?;
                    rotated.push(json!({"alg": alg.as_str(), "kid": kid, "state": "current"}));
                } else {
                    let (key, created) = begin_rotation(store.as_ref(), alg, sealer.as_ref(), now)
                        .await
                        .map_err(|e| e.to_string())?;
                    rotated.push(json!({
                        "alg": alg.as_str(),
                        "kid": key.kid,
                        "state": "next",
                        "created": created,
                        "activates_at": policy.activates_at(key.created_at),
                    }));
                }
            }
            store.flush_events().await.map_err(|e| e.to_string())?;
            settings::announce_kek(kek_created);
            if args.json {
                println!("{}", Value::Array(rotated));
            } else {
                for r in rotated {
                    let when = match r["activates_at"].as_u64() {
                        Some(t) => format!("next, signs from {}", rfc3339(Some(t))),
                        None => "current now".into(),
                    };
                    println!(
                        "{}  {:<5}  {when}",
                        r["kid"].as_str().unwrap_or(""),
                        r["alg"].as_str().unwrap_or(""),
                    );
                }
            }
        }
        KeysCommand::Revoke(args) => {
            let (config, kek_created) = settings::load_with_kek(&args.store)?;
            let sealer = sealer(&config)?;
            let store = tessera_store::open(&config.database).await?;
            let now = SystemClock.now();
            let outcome = revoke_key(
                store.as_ref(),
                &args.kid,
                args.reason.as_deref(),
                sealer.as_ref(),
                now,
            )
            .await
            .map_err(|e| match e {
                RevokeKeyError::UnknownKid(_) => e.to_string(),
                RevokeKeyError::Store(s) => s,
            })?;
            store.flush_events().await.map_err(|e| e.to_string())?;
            settings::announce_kek(kek_created);
            let out = match outcome {
                KeyRevocation::Revoked {
                    alg,
                    previous,
                    successor,
                } => json!({
                    "kid": args.kid, "alg": alg.as_str(), "revoked_at": now,
                    "previous_state": previous.as_str(), "successor": successor,
                    "already_revoked": false,
                }),
                KeyRevocation::AlreadyRevoked { revoked_at } => json!({
                    "kid": args.kid, "revoked_at": revoked_at, "already_revoked": true,
                }),
                KeyRevocation::NotFound => {
                    return Err(RevokeKeyError::UnknownKid(args.kid).to_string());
                }
            };
            if args.json {
                println!("{out}");
            } else if out["already_revoked"] == true {
                println!(
                    "{} was already revoked at {}; nothing changed",
                    args.kid,
                    rfc3339(out["revoked_at"].as_u64())
                );
            } else {
                println!("{} revoked", args.kid);
                if let Some(s) = out["successor"].as_str() {
                    println!("{s} signs in its place");
                }
            }
        }
    }
    Ok(())
}
