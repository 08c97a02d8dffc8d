//! The storage conformance suite: every store method, one generic test body per behaviour, run
//! against both backends — a fresh SQLite file, and a fresh schema in the local PostgreSQL
//! (`TESSERA_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`).
mod support;

/// Declares, for each generic body `name(env: Env)` in the calling module, a module `name` with
/// two tests: `name::sqlite` and `name::postgres`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::support::run(crate::support::Backend::Sqlite, super::$name).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::support::run(crate::support::Backend::Postgres, super::$name).await
                }
            }
        )*
    };
}

mod alerts;
mod clients;
mod events;
mod grants;
mod keys;
mod lineage;
mod login_throttle;
mod pending;
mod postgres;
mod refresh_grace;
mod retention;
mod revocations;
mod tokens;
mod versions;
