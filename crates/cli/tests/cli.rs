//! The `tessera` binary end to end: `serve` on a fresh SQLite file, `client create` as a separate
//! process sharing the file, a token over HTTP, then `client delete` and `rotate-secret` taking
//! effect on the running server.
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{BIN, run, serve};

fn tessera(args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tessera {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn token(base: &str, id: &str, secret: &str) -> u16 {
    token_for(base, id, secret, "deploy:read", "https://api.example.com").await
}

async fn eventually(mut f: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test]
async fn cli_clients_take_effect_on_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let server = serve(&db, &[]);
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "ci-deploy",
        "--grant-type",
        "client_credentials",
        "--scope",
        "deploy:read deploy:write",
        "--audience",
        "https://api.example.com",
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("tsr_cs_"));
    assert_eq!(token(&server.base, &id, &secret).await, 200);

    let listed = tessera(&["client", "list", "--database", &db, "--json"]);
    assert_eq!(listed[0]["client_id"], id.as_str());
    assert!(!listed.to_string().contains(&secret));

    // Rotation with a grace period: both work; with none, only the new one.
    let rotated = tessera(&[
        "client",
        "rotate-secret",
        "--database",
        &db,
        &id,
        "--grace",
        "1h",
        "--json",
    ]);
    let second = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(eventually(async || token(&server.base, &id, &second).await == 200).await);
    assert_eq!(token(&server.base, &id, &secret).await, 200);
    let rotated = tessera(&["client", "rotate-secret", "--database", &db, &id, "--json"]);
    let third = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(eventually(async || token(&server.base, &id, &second).await == 401).await);
    assert_eq!(token(&server.base, &id, &third).await, 200);

    tessera(&["client", "delete", "--database", &db, &id, "--json"]);
    assert!(
        eventually(async || token(&server.base, &id, &third).await == 401).await,
        "deleted client still works"
    );
}

#[tokio::test]
async fn database_comes_from_the_environment_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("env.db").display());
    let out = Command::new(BIN)
        .args([
            "client",
            "create",
            "--name",
            "x",
            "--scope",
            "a",
            "--audience",
            "https://api.example.com",
            "--json",
        ])
        .env("TESSERA_DATABASE", &db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let keys_before = tessera(&["keys", "list", "--database", &db, "--json"]);
    assert_eq!(keys_before, serde_json::json!([]));
    let server = serve(&db, &[]);
    let keys = tessera(&["keys", "list", "--database", &db, "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 3);
    let rotated = tessera(&[
        "keys",
        "rotate",
        "--database",
        &db,
        "--alg",
        "ES256",
        "--json",
    ]);
    let kid = rotated[0]["kid"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let published = eventually(async || {
        let jwks: serde_json::Value = http
            .get(format!("{}/jwks", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str())
    })
    .await;
    assert!(published);
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    for args in [
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--audience",
            "not a uri",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--grant-type",
            "password",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--scope",
            "a",
            "--default-scope",
            "b",
        ],
        vec!["client", "rotate-secret", "--database", &db, "nobody"],
        vec!["keys", "revoke", "--database", &db, "no-such-kid"],
        // RFC 9700 §2.1: no wildcards, http only on loopback; redirect URIs need the code grant.
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "https://*.example.com/cb",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "http://app.example.com/cb",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--grant-type",
            "authorization_code",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        vec![
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "x",
            "--auth-method",
            "none",
        ],
        vec!["user", "create", "--database", &db, "--username", " padded"],
        vec!["client", "create", "--database", "mysql://x", "--name", "x"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
    let out = Command::new(BIN)
        .args(["serve", "--database", &db, "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing plain HTTP"));
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks: serde_json::Value = reqwest::get(format!("{base}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn keys_revoke_takes_a_key_out_of_service_and_rotate_publishes_a_next_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("k.db").display());
    let server = serve(&db, &[]);
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "x",
        "--scope",
        "deploy:read",
        "--audience",
        "https://api.example.com",
        "--token-format",
        "jwt",
        "--json",
    ]);
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .post(format!("{}/token", server.base))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://api.example.com"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = body["access_token"].as_str().unwrap().to_string();
    let kid = jsonwebtoken::decode_header(&jwt).unwrap().kid.unwrap();
    let introspect = async |token: &str| -> serde_json::Value {
        http.post(format!("{}/introspect", server.base))
            .basic_auth(id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    assert_eq!(introspect(&jwt).await["active"], true);

    let revoked = tessera(&[
        "keys",
        "revoke",
        "--database",
        &db,
        &kid,
        "--reason",
        "leaked",
        "--json",
    ]);
    assert_eq!(revoked["already_revoked"], false);
    assert_eq!(revoked["previous_state"], "current");
    let successor = revoked["successor"].as_str().unwrap().to_string();
    assert!(
        eventually(async || {
            let kids = jwks_kids(&server.base).await;
            !kids.contains(&kid) && kids.contains(&successor)
        })
        .await,
        "the revoked key left /jwks and its successor is published"
    );
    assert_eq!(introspect(&jwt).await, serde_json::json!({"active": false}));
    // Twice: exit 0, nothing changes.
    let again = tessera(&["keys", "revoke", "--database", &db, &kid, "--json"]);
    assert_eq!(again["already_revoked"], true);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
    let listed = tessera(&["keys", "list", "--database", &db, "--json"]);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    assert_eq!(entry["state"], "revoked");
    assert_eq!(entry["revoked_at"], revoked["revoked_at"]);

    // The safe rotation: a next key, published, not yet signing; asking again returns it.
    let rotated = tessera(&[
        "keys",
        "rotate",
        "--database",
        &db,
        "--alg",
        "EdDSA",
        "--json",
    ]);
    let next = rotated[0]["kid"].as_str().unwrap().to_string();
    assert_eq!(rotated[0]["state"], "next");
    assert_eq!(rotated[0]["created"], true);
    let again = tessera(&[
        "keys",
        "rotate",
        "--database",
        &db,
        "--alg",
        "EdDSA",
        "--json",
    ]);
    assert_eq!(again[0]["kid"], next.as_str());
    assert_eq!(again[0]["created"], false);
    assert!(eventually(async || jwks_kids(&server.base).await.contains(&next)).await);
    // --now promotes the published next key at once.
    let now = tessera(&[
        "keys",
        "rotate",
        "--database",
        &db,
        "--alg",
        "EdDSA",
        "--now",
        "--json",
    ]);
    assert_eq!(now[0]["kid"], next.as_str());
    assert_eq!(now[0]["state"], "current");
    let listed = tessera(&["keys", "list", "--database", &db, "--json"]);
    let states: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == "EdDSA")
        .map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 2);
    assert!(states.contains(&(next.as_str(), "current")));
    assert!(states.iter().any(|(_, s)| *s == "retired"));
}

#[test]
fn public_clients_have_no_secret_and_users_read_their_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "spa",
        "--audience",
        "https://api.example.com",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--redirect-uri",
        "http://127.0.0.1:8765/cb",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--auth-method",
        "none",
        "--json",
    ]);
    assert_eq!(created["client_secret"], serde_json::Value::Null);
    let id = created["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]);
    assert_eq!(shown["auth_method"], "none");
    assert_eq!(
        shown["redirect_uris"],
        serde_json::json!(["http://127.0.0.1:8765/cb", "https://app.example.com/cb"])
    );
    let out = Command::new(BIN)
        .args(["client", "rotate-secret", "--database", &db, id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is public"));

    let create_user = |password: &[u8]| {
        run(
            &[
                "user",
                "create",
                "--database",
                &db,
                "--username",
                "alice",
                "--password-stdin",
            ],
            password,
        )
    };
    let out = create_user(b"pass word\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !printed.contains("pass word"),
        "the password is never printed"
    );
    let again = create_user(b"other\n");
    assert_eq!(again.status.code(), Some(2), "user names are unique");
}

#[test]
fn jwks_uri_is_registered_shown_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let uri = "https://client.example/.well-known/jwks.json";
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "signer",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        uri,
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]);
    assert_eq!(shown["jwks_uri"], uri);
    assert_eq!(shown["jwks"], serde_json::Value::Null);
    assert_eq!(shown["auth_method"], "private_key_jwt");

    // RFC 8705 §2.2.2: a self-signed certificate's key may be published at a jwks_uri too.
    let self_signed = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "agent",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "self_signed_tls_client_auth",
        "--jwks-uri",
        uri,
        "--json",
    ]);
    let shown = tessera(&[
        "client",
        "show",
        "--database",
        &db,
        self_signed["client_id"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(shown["auth_method"], "self_signed_tls_client_auth");
    assert_eq!(shown["jwks_uri"], uri);
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, r#"{"keys":[]}"#).unwrap();
    let jwks_file = jwks_file.to_str().unwrap();
    let create = [
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "x",
        "--audience",
        "https://api.example.com",
    ];
    for (extra, message) in [
        (
            vec![
                "--auth-method",
                "private_key_jwt",
                "--jwks-uri",
                "http://client.example/jwks",
            ],
            "jwks_uri must be https (http only on a loopback host)",
        ),
        (
            vec!["--jwks-uri", uri],
            "--jwks-uri goes with --auth-method private_key_jwt",
        ),
        (
            vec![
                "--auth-method",
                "private_key_jwt",
                "--jwks-uri",
                uri,
                "--jwks-file",
                jwks_file,
            ],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(BIN)
            .args(create)
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{extra:?}: {stderr}"
        );
    }
    // Loopback http is fine (a client on the same host, and the tests).
    tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "local",
        "--audience",
        "https://api.example.com",
        "--auth-method",
        "private_key_jwt",
        "--jwks-uri",
        "http://127.0.0.1:9999/jwks",
        "--json",
    ]);
}

/// A client_credentials token request for `scope` (and `resource`, when given); the status.
async fn token_for(base: &str, id: &str, secret: &str, scope: &str, resource: &str) -> u16 {
    let mut form = vec![("grant_type", "client_credentials"), ("scope", scope)];
    if !resource.is_empty() {
        form.push(("resource", resource));
    }
    reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn client_update_changes_a_registration_on_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let server = serve(&db, &[]);
    let created = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "ci",
        "--scope",
        "deploy:read deploy:write",
        "--audience",
        "https://api.example.com",
        "--json",
    ]);
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let api = "https://api.example.com";
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:write", api).await,
        200
    );

    // Narrow the scopes and move the audience: the running server follows within a second.
    let updated = tessera(&[
        "client",
        "update",
        "--database",
        &db,
        &id,
        "--scope",
        "deploy:read",
        "--audience",
        "https://new.example.com",
        "--access-token-ttl",
        "60",
        "--json",
    ]);
    assert_eq!(updated["scope"], "deploy:read");
    assert_eq!(updated["default_scope"], "deploy:read");
    assert_eq!(
        updated["audiences"],
        serde_json::json!(["https://new.example.com"])
    );
    assert_eq!(updated["access_token_ttl"], 60);
    assert_eq!(updated["name"], "ci", "flags not given stay");
    assert!(
        eventually(async || token_for(&server.base, &id, &secret, "deploy:write", "").await == 400)
            .await,
        "a removed scope is still granted"
    );
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:read", api).await,
        400
    );
    assert_eq!(
        token_for(
            &server.base,
            &id,
            &secret,
            "deploy:read",
            "https://new.example.com"
        )
        .await,
        200
    );
    assert_eq!(
        token_for(&server.base, &id, &secret, "deploy:read", "").await,
        200,
        "the secret stays"
    );
    let shown = tessera(&["client", "show", "--database", &db, &id, "--json"]);
    assert_eq!(shown, updated);

    // Bad updates are refused with exit code 2 and change nothing.
    for (args, message) in [
        (
            vec!["--default-scope", "deploy:write"],
            "default scope \"deploy:write\" is not in --scope",
        ),
        (vec!["--scope", "bad\"scope"], "invalid scope"),
        (vec!["--audience", "not a uri"], "must be an absolute URI"),
        (
            vec!["--redirect-uri", "https://app.example.com/cb"],
            "--redirect-uri goes with",
        ),
        (vec!["--token-format", "paper"], "unknown token format"),
        (
            vec!["--jwks-uri", "https://keys.example.com/jwks"],
            "--jwks-uri goes with",
        ),
    ] {
        let mut all = vec!["client", "update", "--database", &db, &id];
        all.extend(args);
        let out = Command::new(BIN).args(&all).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{all:?}: {err}");
    }
    let out = Command::new(BIN)
        .args([
            "client",
            "update",
            "--database",
            &db,
            "no-such-client",
            "--name",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no client"));
    assert_eq!(
        tessera(&["client", "show", "--database", &db, &id, "--json"]),
        updated,
        "nothing changed"
    );
}
