//! `tessera alerts list|show|ack`: the monitor's stored alerts, straight on the database (the
//! same rows `GET /admin/alerts` serves). An acknowledgement from here is recorded as
//! `cli:<user>`, so the trail tells a person at a terminal from an admin client.

use clap::{Args, Subcommand};
use serde_json::json;
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::ops::alerts::{self, Acked, MAX_LIST};
use tessera_core::store::{AlertFilter, AlertRecord, AlertStatus};

use crate::settings::{self, StoreArgs};

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first.
    List(ListArgs),
    /// Show one alert with its evidence.
    Show(IdArgs),
    /// Acknowledge an alert (the first acknowledgement stands).
    Ack(IdArgs),
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// open, acked or all
    #[arg(long, default_value = "open")]
    status: String,
    /// Only alerts of this detector (impossible_travel, burst, multi_ip, multi_client, …)
    #[arg(long)]
    detector: Option<String>,
    /// At most this many
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LIST)))]
    limit: u32,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct IdArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The alert id
    id: i64,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

/// Who acknowledges from the command line.
fn cli_user() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// One line per alert for people.
fn line(a: &AlertRecord) -> String {
    let time = alerts::to_json(a)["time"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    format!(
        "{:>6}  {}  {:<6}  {:<18}  {}  {}",
        a.id,
        time,
        a.severity,
        a.detector,
        a.status.as_str(),
        a.summary
    )
}

fn print_alert(a: &AlertRecord, json: bool) {
    let value = alerts::to_json(a);
    if json {
        println!("{value}");
    } else {
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
    }
}

pub async fn run(cmd: AlertsCommand) -> Result<(), String> {
    match cmd {
        AlertsCommand::List(args) => {
            let status = match args.status.as_str() {
                "all" => None,
                s => Some(
                    AlertStatus::parse(s)
                        .ok_or_else(|| format!("--status must be open, acked or all, not {s:?}"))?,
                ),
            };
            let filter = AlertFilter {
                status,
                detector: args.detector,
                since_ms: None,
                limit: args.limit,
            };
            let store = settings::open_store(&args.store).await?;
            let list = store
                .list_alerts(&filter)
                .await
                .map_err(|e| e.to_string())?;
            if args.json {
                let alerts: Vec<_> = list.iter().map(alerts::to_json).collect();
                println!("{}", json!({ "alerts": alerts }));
            } else {
                for a in &list {
                    println!("{}", line(a));
                }
            }
        }
        AlertsCommand::Show(args) => {
            let store = settings::open_store(&args.store).await?;
            let alert = store
                .get_alert(args.id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no alert {}", args.id))?;
            print_alert(&alert, args.json);
        }
        AlertsCommand::Ack(args) => {
            let store = settings::open_store(&args.store).await?;
            let now = SystemClock.now();
            match alerts::ack_in(store.as_ref(), args.id, &cli_user(), now)
                .await
                .map_err(|e| e.description.to_string())?
            {
                Acked::NotFound => return Err(format!("no alert {}", args.id)),
                Acked::Alert { alert, first } => {
                    if !first && !args.json {
                        eprintln!(
                            "alert {} was already acknowledged by {}",
                            alert.id,
                            alert.acked_by.as_deref().unwrap_or("?")
                        );
                    }
                    print_alert(&alert, args.json);
                }
            }
        }
    }
    Ok(())
}
