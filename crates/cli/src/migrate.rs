//! `tessera migrate`: bring the database schema up to date (also done by `serve` at start, under a
//! lock, so running it separately is only needed when deploys want schema changes as their own step).
use clap::Args;

use crate::settings::{self, StoreArgs};

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(args: MigrateArgs) -> Result<(), String> {
    let config = settings::load(&args.store)?;
    let url = config.database.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        tessera_store::postgres::migrate(url).await?;
    } else {
        // Opening a SQLite store migrates it.
        tessera_store::open(url).await?;
    }
    eprintln!("schema up to date");
    Ok(())
}
