//! `tessera keys list|rotate`: the signing keys. Running servers load a rotated key within
//! `change_poll_ms`; the retired key stays published until its tokens have expired.
use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::authority::rotate_key;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::{Sealer, SigningAlg};

use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List signing keys (never their private parts).
    List(ListArgs),
    /// Generate a new current key (for one algorithm or all) and retire the old one.
    Rotate(RotateArgs),
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
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: KeysCommand) -> Result<(), String> {
    match cmd {
        KeysCommand::List(args) => {
            let config = settings::load(&args.store)?;
            let store = tessera_store::open(&config.database).await?;
            let keys = store.list_keys().await.map_err(|e| e.to_string())?;
            if args.json {
                let list: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        json!({"kid": k.kid, "alg": k.alg.as_str(), "state": k.state.as_str(), "sealed": k.sealed,
                               "created_at": k.created_at, "activated_at": k.activated_at, "retired_at": k.retired_at})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for k in keys {
                    println!(
                        "{}  {:<5}  {:<7}  created {}",
                        k.kid,
                        k.alg.as_str(),
                        k.state.as_str(),
                        k.created_at
                    );
                }
            }
        }
        KeysCommand::Rotate(args) => {
            let config = settings::load(&args.store)?;
            let sealer = config
                .keys
                .encryption_key
                .as_deref()
                .map(Sealer::from_base64)
                .transpose()?;
            let algs = match &args.alg {
                Some(a) => {
                    vec![SigningAlg::parse(a).ok_or_else(|| format!("unknown algorithm {a:?}"))?]
                }
                None => SigningAlg::ALL.to_vec(),
            };
            let store = tessera_store::open(&config.database).await?;
            let mut rotated = Vec::new();
            for alg in algs {
                let kid =
                    rotate_key(store.as_ref(), alg, sealer.as_ref(), SystemClock.now()).await?;
                rotated.push(json!({"alg": alg.as_str(), "kid": kid}));
            }
            store.flush_events().await.map_err(|e| e.to_string())?;
            if args.json {
                println!("{}", serde_json::Value::Array(rotated));
            } else {
                for r in rotated {
                    println!(
                        "{}  {}",
                        r["kid"].as_str().unwrap_or(""),
                        r["alg"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}
