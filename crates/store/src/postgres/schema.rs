//! The PostgreSQL schema, as numbered migrations recorded in `tessera_migrations`, applied under
//! an advisory lock so nodes starting together do not race (one migrates, the others wait and
//! then find nothing to do).
use tokio_postgres::Client;

/// Migration `i` takes the schema from version `i` to `i + 1`. Same tables and semantics as the
/// SQLite schema; lists are `TEXT[]` instead of JSON text.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash BYTEA NOT NULL,
    previous_secret_hash BYTEA,
    previous_secret_expires_at BIGINT,
    grant_types TEXT[] NOT NULL,
    scopes TEXT[] NOT NULL,
    default_scopes TEXT[] NOT NULL,
    audiences TEXT[] NOT NULL,
    token_format TEXT NOT NULL,
    jwt_alg TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    access_token_ttl BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Opaque access tokens, keyed by the selector carried in the token string (sequential ids:
-- right-hand B-tree inserts). Only the SHA-256 of the token string is stored.
CREATE TABLE access_tokens (
    id BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_by_client ON access_tokens (client_id);
CREATE TABLE revoked_jtis (
    jti TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    sealed BOOLEAN NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT
);
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    type TEXT NOT NULL,
    client_id TEXT,
    token_id TEXT,
    body TEXT NOT NULL
);
CREATE TABLE selectors (name TEXT PRIMARY KEY, next BIGINT NOT NULL);
INSERT INTO selectors VALUES ('access_token', 1);
-- Bumped by triggers on every change, polled by every node to drop its caches.
CREATE TABLE change_versions (topic TEXT PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO change_versions VALUES ('clients', 0), ('keys', 0);
CREATE FUNCTION tessera_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_versions SET version = version + 1 WHERE topic = TG_ARGV[0];
    RETURN NULL;
END
$$;
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH ROW EXECUTE FUNCTION tessera_bump_version('clients');
CREATE TRIGGER keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION tessera_bump_version('keys');
"#,
    r#"
-- Sender-constrained tokens (RFC 9449) and single-use values.
ALTER TABLE access_tokens ADD COLUMN cnf_jkt TEXT;
ALTER TABLE clients ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE replay_guards (key TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
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
-- The monitor's alerts and their acknowledgement. `evidence` is a JSON object kept as text (the
-- store never queries inside it); `time_ms` is the time of the event that raised the alert.
CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detector TEXT NOT NULL,
    severity TEXT NOT NULL,
    token_id TEXT,
    client_id TEXT,
    time_ms BIGINT NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    actions TEXT[] NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    acked_at BIGINT,
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
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;
UPDATE signing_keys SET state = 'retired', retired_at = extract(epoch FROM now())::BIGINT
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
ALTER TABLE clients ADD COLUMN redirect_uris TEXT[] NOT NULL DEFAULT '{}';
CREATE TABLE grant_families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE authorization_codes (
    hash BYTEA PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT NOT NULL,
    dpop_jkt TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE refresh_tokens (
    hash BYTEA PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    cnf_jkt TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
-- Access tokens issued from a family: kind 'opaque' (selector) or 'jwt' (jti).
CREATE TABLE family_tokens (
    family TEXT NOT NULL,
    kind TEXT NOT NULL,
    token_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (family, kind, token_id)
);
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE TABLE pending_authorizations (
    id BYTEA PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
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
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT,
    not_before BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (kind, id)
);
CREATE INDEX revocation_entries_revoked_at ON revocation_entries (revoked_at);
INSERT INTO revocation_entries (kind, id, revoked_at, not_before, disabled)
    SELECT 'client', id, updated_at, tokens_not_before, disabled FROM clients
    WHERE disabled OR tokens_not_before IS NOT NULL;
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
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_failures_expires_at ON login_failures (expires_at);
-- Disabling or deleting a user revokes its grants.
CREATE INDEX refresh_tokens_by_subject ON refresh_tokens (subject);
CREATE INDEX authorization_codes_by_subject ON authorization_codes (subject);
-- The janitor deletes grant families once their codes and refresh tokens have expired.
ALTER TABLE grant_families ADD COLUMN expires_at BIGINT;
UPDATE grant_families SET expires_at = GREATEST(
    COALESCE((SELECT MAX(r.expires_at) FROM refresh_tokens r WHERE r.family = grant_families.id), 0),
    COALESCE((SELECT MAX(c.expires_at) FROM authorization_codes c WHERE c.family = grant_families.id), 0));
CREATE INDEX grant_families_expires_at ON grant_families (expires_at);
"#,
    r#"
-- Resource servers as registered identities: the resource URIs (token `aud` values) addressed
-- to a client, which may introspect and report uses of those tokens.
ALTER TABLE clients ADD COLUMN resource_uris TEXT[] NOT NULL DEFAULT '{}';
"#,
    r#"
-- The refresh reuse grace window (config [refresh]): a rotated refresh token's successor, its
-- token string sealed under the key-encryption key, kept until the window ends (expires_at).
CREATE TABLE refresh_successors (
    hash BYTEA PRIMARY KEY,
    successor BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
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
ALTER TABLE clients ADD COLUMN allow_impersonation BOOLEAN NOT NULL DEFAULT FALSE;
"#,
    r#"
-- Pushed authorization requests (RFC 9126): a pending request pushed by an authenticated
-- client, named by its request_uri and bound to that client (client_id NULL: a login form's).
ALTER TABLE pending_authorizations ADD COLUMN client_id TEXT;
CREATE INDEX pending_authorizations_by_client ON pending_authorizations (client_id, expires_at);
-- RFC 9126 §6: the client must push its authorization requests.
ALTER TABLE clients ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT FALSE;
"#,
];

/// Brings the schema named by the connection's `search_path` to the latest version. The lock is
/// a session advisory lock keyed by that schema, so two deployments in different schemas of one
/// database do not wait for each other; each migration is its own transaction.
pub async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    const LOCK: &str = "SELECT pg_advisory_lock(hashtextextended('tessera.migrate:' || coalesce(current_schema(), ''), 0))";
    const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtextextended('tessera.migrate:' || coalesce(current_schema(), ''), 0))";
    client.batch_execute(LOCK).await?;
    let result = apply(client).await;
    // Dropping the connection would release the lock too; unlocking keeps a reused one clean.
    let unlocked = client.batch_execute(UNLOCK).await;
    result.and(unlocked)
}

async fn apply(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS tessera_migrations \
             (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM tessera_migrations",
            &[],
        )
        .await?;
    let done = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        let version = i32::try_from(i + 1).expect("fewer than 2^31 migrations");
        tx.execute(
            "INSERT INTO tessera_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
