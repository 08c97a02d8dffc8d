//! `tessera user …`: resource owners who log in on the built-in login page. Passwords are read
//! from stdin (never a flag: flags land in shell history and process listings) and only their
//! argon2id hashes are stored. Disabling or deleting a user also revokes its grants.
use std::io::BufRead;

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::audit::{AuditEvent, EventKind};
use tessera_core::authorize::throttle;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::store::{Store, UserRecord};
use tessera_core::user;
use tessera_proto::Secret;

use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin.
    Create(CreateArgs),
    /// List users (never their password hashes).
    List(ListArgs),
    /// Disable a user: it can no longer log in, and its grants (refresh tokens and the access
    /// tokens issued from them) are revoked.
    Disable(NameArgs),
    /// Enable a disabled user (revoked grants stay revoked).
    Enable(NameArgs),
    /// Delete a user and revoke its grants.
    Delete(NameArgs),
    /// Set a user's password, read from stdin; the login lockout on its name is cleared.
    SetPassword(NameArgs),
    /// Clear the login lockout (`[login]`) on a user name.
    Unlock(NameArgs),
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

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct NameArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The login name
    username: String,
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

/// Records `user.changed` with what changed, and waits for it to be written.
async fn audit(store: &dyn Store, username: &str, what: &str) -> Result<(), String> {
    let mut event = AuditEvent::new(EventKind::UserChanged, SystemClock.now_ms());
    event.subject = Some(username.to_string());
    event.reason = Some(what.to_string());
    store.record_event(event).await;
    store.flush_events().await.map_err(|e| e.to_string())
}

fn no_such_user(username: &str) -> String {
    format!("no user {username:?}")
}

/// Prints the outcome of a change: JSON `{"username", "action", …extra}` or one line.
fn report(args: &NameArgs, action: &str, extra: serde_json::Value, line: String) {
    if args.json {
        let mut out = json!({"username": args.username, "action": action});
        if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
            out.extend(extra.clone());
        }
        println!("{out}");
    } else {
        println!("{line}");
    }
}

pub async fn run(cmd: UserCommand) -> Result<(), String> {
    match cmd {
        UserCommand::Create(args) => create(args).await,
        UserCommand::List(args) => list(args).await,
        UserCommand::Disable(args) => disable_or_delete(args, false).await,
        UserCommand::Delete(args) => disable_or_delete(args, true).await,
        UserCommand::Enable(args) => {
            let store = settings::open_store(&args.store).await?;
            if !store
                .set_user_disabled(&args.username, false)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_such_user(&args.username));
            }
            audit(store.as_ref(), &args.username, "enabled").await?;
            let line = format!("user {} enabled", args.username);
            report(&args, "enabled", json!({}), line);
            Ok(())
        }
        UserCommand::SetPassword(args) => {
            let password = read_password()?;
            let hash = user::hash_password(&password)?;
            let store = settings::open_store(&args.store).await?;
            if !store
                .set_user_password(&args.username, &hash)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(no_such_user(&args.username));
            }
            clear_lockout(store.as_ref(), &args.username).await?;
            audit(store.as_ref(), &args.username, "password_set").await?;
            let line = format!("password of user {} set", args.username);
            report(&args, "password_set", json!({}), line);
            Ok(())
        }
        UserCommand::Unlock(args) => {
            let store = settings::open_store(&args.store).await?;
            clear_lockout(store.as_ref(), &args.username).await?;
            audit(store.as_ref(), &args.username, "unlocked").await?;
            let line = format!("login lockout on {} cleared", args.username);
            report(&args, "unlocked", json!({}), line);
            Ok(())
        }
    }
}

async fn create(args: CreateArgs) -> Result<(), String> {
    if !user::valid_username(&args.username) {
        return Err(
            "--username must be 1–128 characters, no control characters or edge spaces".into(),
        );
    }
    let _ = args.password_stdin;
    let password = read_password()?;
    let record = UserRecord {
        username: args.username.clone(),
        password_hash: tessera_proto::Secret::new(user::hash_password(&password)?),
        disabled: false,
        created_at: SystemClock.now(),
    };
    let store = settings::open_store(&args.store).await?;
    store
        .create_user(&record)
        .await
        .map_err(|e| e.to_string())?;
    audit(store.as_ref(), &record.username, "created").await?;
    if args.json {
        println!("{}", json!({"username": record.username}));
    } else {
        println!("user {} created", record.username);
    }
    Ok(())
}

async fn list(args: ListArgs) -> Result<(), String> {
    let store = settings::open_store(&args.store).await?;
    let users = store.list_users().await.map_err(|e| e.to_string())?;
    if args.json {
        let users: Vec<_> = users
            .iter()
            .map(|u| json!({"username": u.username, "disabled": u.disabled, "created_at": u.created_at}))
            .collect();
        println!("{}", json!({ "users": users }));
    } else {
        for u in &users {
            let state = if u.disabled { "disabled" } else { "enabled" };
            println!("{}\t{state}", u.username);
        }
    }
    Ok(())
}

/// Disables or deletes the user, then revokes its grants. The user changes first, so no new
/// grant can start once the revocation has begun.
async fn disable_or_delete(args: NameArgs, delete: bool) -> Result<(), String> {
    let store = settings::open_store(&args.store).await?;
    let found = if delete {
        store.delete_user(&args.username).await
    } else {
        store.set_user_disabled(&args.username, true).await
    }
    .map_err(|e| e.to_string())?;
    if !found {
        return Err(no_such_user(&args.username));
    }
    let revoked = user::revoke_grants(store.as_ref(), &args.username, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let action = if delete { "deleted" } else { "disabled" };
    audit(store.as_ref(), &args.username, action).await?;
    let line = format!(
        "user {} {action}; {revoked} grant(s) revoked",
        args.username
    );
    report(&args, action, json!({ "grants_revoked": revoked }), line);
    Ok(())
}

/// Clears the failed-login count and lock of a user name.
async fn clear_lockout(store: &dyn Store, username: &str) -> Result<(), String> {
    store
        .clear_login_failures(&throttle::user_key(username))
        .await
        .map_err(|e| e.to_string())
}
