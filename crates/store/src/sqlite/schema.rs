//! The SQLite schema, as numbered migrations tracked in `PRAGMA user_version`.
use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    previous_secret_hash BLOB,
    previous_secret_expires_at INTEGER,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    default_scopes TEXT NOT NULL,
    audiences TEXT NOT NULL,
    token_format TEXT NOT NULL,
    jwt_alg TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    access_token_ttl INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Opaque access tokens, keyed by the selector carried in the token string (sequential ids:
-- ordered B-tree inserts). Only the SHA-256 of the token string is stored.
CREATE TABLE access_tokens (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX access_tokens_by_client ON access_tokens (client_id);
CREATE TABLE revoked_jtis (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    private_key BLOB NOT NULL,
    sealed INTEGER NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activated_at INTEGER,
    retired_at INTEGER
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    type TEXT NOT NULL,
    client_id TEXT,
    token_id TEXT,
    body TEXT NOT NULL
);
CREATE TABLE selectors (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
INSERT INTO selectors VALUES ('access_token', 1);
-- Bumped by triggers on every change, polled by every node to drop its caches.
CREATE TABLE change_versions (topic TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO change_versions VALUES ('clients', 0), ('keys', 0);
CREATE TRIGGER clients_inserted AFTER INSERT ON clients
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'clients'; END;
CREATE TRIGGER clients_updated AFTER UPDATE ON clients
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'clients'; END;
CREATE TRIGGER clients_deleted AFTER DELETE ON clients
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'clients'; END;
CREATE TRIGGER keys_inserted AFTER INSERT ON signing_keys
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'keys'; END;
CREATE TRIGGER keys_updated AFTER UPDATE ON signing_keys
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'keys'; END;
CREATE TRIGGER keys_deleted AFTER DELETE ON signing_keys
    BEGIN UPDATE change_versions SET version = version + 1 WHERE topic = 'keys'; END;
"#,
    r#"
-- Sender-constrained tokens (RFC 9449) and single-use values.
ALTER TABLE access_tokens ADD COLUMN cnf_jkt TEXT;
ALTER TABLE clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
CREATE TABLE replay_guards (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
"#,
    r#"
-- private_key_jwt (RFC 7523): the client's registered public keys.
ALTER TABLE clients ADD COLUMN jwks TEXT;
"#,
    r#"
-- Mutual TLS (RFC 8705): certificate-bound tokens and certificate client authentication.
ALTER TABLE access_tokens ADD COLUMN cnf_x5t TEXT;
ALTER TABLE clients ADD COLUMN tls_client_auth TEXT;
"#,
    r#"
-- A leaked secret kills every token its client held.
ALTER TABLE clients ADD COLUMN tokens_not_before BIGINT;
"#,
    r#"
-- The monitor's alerts and their acknowledgement. `evidence` is a JSON object, `actions` a JSON
-- array of strings; `time_ms` is the time of the event that raised the alert.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    detector TEXT NOT NULL,
    severity TEXT NOT NULL,
    token_id TEXT,
    client_id TEXT,
    time_ms INTEGER NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    actions TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    acked_at INTEGER,
    acked_by TEXT
);
CREATE INDEX alerts_by_time ON alerts (time_ms, id);
CREATE INDEX alerts_by_status ON alerts (status, time_ms);
"#,
    r#"
-- The revocation feed (GET /revocations) reads revocations by time.
CREATE INDEX revoked_jtis_revoked_at ON revoked_jtis (revoked_at);
CREATE INDEX access_tokens_revoked_at ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
"#,
    r#"
-- The revocation feed's entries that are not one token: `client` (disabled, deleted, or given
-- tokens_not_before; one row per client, replaced on each such change) and `key` (a signing key
-- withdrawn before its tokens expired). `expires_at` NULL: the server's longest token lifetime
-- after revoked_at (or not_before), which the reader knows. Clients already in such a state are
-- carried over.
CREATE TABLE revocation_entries (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    expires_at INTEGER,
    not_before INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
);
CREATE INDEX revocation_entries_revoked_at ON revocation_entries (revoked_at);
INSERT INTO revocation_entries (kind, id, revoked_at, not_before, disabled)
    SELECT 'client', id, updated_at, tokens_not_before, disabled FROM clients
    WHERE disabled <> 0 OR tokens_not_before IS NOT NULL;
"#,
];

/// Brings the database to the latest schema; safe when several processes start at once.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    tx.commit()
}
