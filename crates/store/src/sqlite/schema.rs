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
-- Signing-key lifecycle: next → current → retired → removed, or revoked. At most one current
-- and one next key per algorithm, enforced here too (the store's conditional writes rely on it).
ALTER TABLE signing_keys ADD COLUMN revoked_at INTEGER;
UPDATE signing_keys SET state = 'retired', retired_at = CAST(strftime('%s', 'now') AS INTEGER)
WHERE state = 'current' AND EXISTS (
    SELECT 1 FROM signing_keys n WHERE n.alg = signing_keys.alg AND n.state = 'current' AND (
        coalesce(n.activated_at, n.created_at) > coalesce(signing_keys.activated_at, signing_keys.created_at)
        OR (coalesce(n.activated_at, n.created_at) = coalesce(signing_keys.activated_at, signing_keys.created_at)
            AND n.kid > signing_keys.kid)));
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
"#,
    r#"
-- The retention janitor (tessera_core::janitor) finds expired rows and old events by these, so a
-- sweep reads only what it deletes. Expiry and event times grow with the row ids: the new
-- entries land at the right edge of each index.
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
CREATE INDEX revoked_jtis_expires_at ON revoked_jtis (expires_at);
CREATE INDEX replay_guards_expires_at ON replay_guards (expires_at);
CREATE INDEX events_time_ms ON events (time_ms);
"#,
    r#"
-- Authorization code grant, refresh tokens and their families, users, pending login requests.
-- A family ties together every token issued from one authorization, for the revocation cascade.
-- Registered redirection URIs (RFC 6749 §3.1.2); a public client stores an empty secret_hash.
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
CREATE TABLE grant_families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE authorization_codes (
    hash BLOB PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT NOT NULL,
    dpop_jkt TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE refresh_tokens (
    hash BLOB PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    cnf_jkt TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
-- Access tokens issued from a family: kind 'opaque' (selector) or 'jwt' (jti).
CREATE TABLE family_tokens (
    family TEXT NOT NULL,
    kind TEXT NOT NULL,
    token_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (family, kind, token_id)
);
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE pending_authorizations (
    id BLOB PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
"#,
    r#"
-- private_key_jwt (RFC 7523) with RFC 7591 `jwks_uri`: where the client publishes its keys.
ALTER TABLE clients ADD COLUMN jwks_uri TEXT;
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
    r#"
-- The janitor sweeps the authorization-code tables by expiry too.
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX family_tokens_expires_at ON family_tokens (expires_at);
CREATE INDEX pending_authorizations_expires_at ON pending_authorizations (expires_at);
"#,
    r#"
-- The login page's failed-login counters (config [login]), by user name and by address.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX login_failures_expires_at ON login_failures (expires_at);
-- Disabling or deleting a user revokes its grants.
CREATE INDEX refresh_tokens_by_subject ON refresh_tokens (subject);
CREATE INDEX authorization_codes_by_subject ON authorization_codes (subject);
-- The janitor deletes grant families once their codes and refresh tokens have expired.
ALTER TABLE grant_families ADD COLUMN expires_at INTEGER;
UPDATE grant_families SET expires_at = MAX(
    COALESCE((SELECT MAX(r.expires_at) FROM refresh_tokens r WHERE r.family = grant_families.id), 0),
    COALESCE((SELECT MAX(c.expires_at) FROM authorization_codes c WHERE c.family = grant_families.id), 0));
CREATE INDEX grant_families_expires_at ON grant_families (expires_at);
"#,
    r#"
-- Resource servers as registered identities: the resource URIs (token `aud` values) addressed
-- to a client, which may introspect and report uses of those tokens.
ALTER TABLE clients ADD COLUMN resource_uris TEXT NOT NULL DEFAULT '[]';
"#,
    r#"
-- The refresh reuse grace window (config [refresh]): a rotated refresh token's successor, its
-- token string sealed under the key-encryption key, kept until the window ends (expires_at).
CREATE TABLE refresh_successors (
    hash BLOB PRIMARY KEY,
    successor BLOB NOT NULL,
    sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX refresh_successors_expires_at ON refresh_successors (expires_at);
"#,
    r#"
-- Token exchange (RFC 8693): an exchanged token's parent, so revoking a token revokes every
-- token exchanged from it (in the same transaction), and introspection can check that no
-- ancestor's client was disabled. Ids as in family_tokens: kind 'opaque' (selector) or 'jwt' (jti).
CREATE TABLE token_lineage (
    child_kind TEXT NOT NULL,
    child_id TEXT NOT NULL,
    parent_kind TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    parent_client_id TEXT NOT NULL,
    parent_issued_at BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    depth INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (child_kind, child_id)
);
CREATE INDEX token_lineage_by_parent ON token_lineage (parent_kind, parent_id);
-- Disabling a client (or revoking its tokens) revokes what was exchanged from its tokens.
CREATE INDEX token_lineage_by_parent_client ON token_lineage (parent_client_id);
CREATE INDEX token_lineage_expires_at ON token_lineage (expires_at);
-- The actor chain (RFC 8693 act, JSON) of an exchanged opaque token.
ALTER TABLE access_tokens ADD COLUMN act TEXT;
-- A client that may exchange tokens without appearing as the actor (--allow-impersonation).
ALTER TABLE clients ADD COLUMN allow_impersonation INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Pushed authorization requests (RFC 9126): a pending request pushed by an authenticated
-- client, named by its request_uri and bound to that client (client_id NULL: a login form's).
ALTER TABLE pending_authorizations ADD COLUMN client_id TEXT;
CREATE INDEX pending_authorizations_by_client ON pending_authorizations (client_id, expires_at);
-- RFC 9126 §6: the client must push its authorization requests.
ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
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
