//! `tessera user create`: resource owners who log in on the built-in login page. The password
//! is read from stdin (never a flag: flags land in shell history and process listings) and only
//! its argon2id hash is stored.
use std::io::BufRead;

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::store::UserRecord;
use tessera_core::user;
use tessera_proto::Secret;

use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin.
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The login name
    #[arg(long)]
    username: String,
    /// Read the password from the first line of stdin (the default; kept for scripts that say so)
    #[arg(long)]
    password_stdin: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

fn read_password() -> Result<Secret, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("the password (first line of stdin) is empty".into());
    }
    if password.len() > user::MAX_PASSWORD {
        return Err(format!(
            "the password is longer than {} bytes",
            user::MAX_PASSWORD
        ));
    }
    Ok(Secret::new(password))
}

pub async fn run(cmd: UserCommand) -> Result<(), String> {
    match cmd {
        UserCommand::Create(args) => {
            if !user::valid_username(&args.username) {
                return Err(
                    "--username must be 1–128 characters, no control characters or edge spaces"
                        .into(),
                );
            }
            let _ = args.password_stdin;
            let password = read_password()?;
            let record = UserRecord {
                username: args.username.clone(),
                password_hash: user::hash_password(&password)?,
                disabled: false,
                created_at: SystemClock.now(),
            };
            let config = settings::load(&args.store)?;
            let store = tessera_store::open(&config.database).await?;
            store
                .create_user(&record)
                .await
                .map_err(|e| e.to_string())?;
            if args.json {
                println!("{}", json!({"username": record.username}));
            } else {
                println!("user {} created", record.username);
            }
            Ok(())
        }
    }
}
