//! `tessera scan --server URL --revoke` against a running `tessera serve`: a leaked opaque token
//! and a leaked client secret planted in a working tree are found, reported live, revoked and
//! rotated; every token the leaked client held dies with its secret.
use std::process::Command;

use crate::support::{BIN, serve, sqlite, tessera};

#[tokio::test]
async fn leaked_tokens_and_secrets_are_revoked_by_the_scanner() {
    let (_dir, db) = sqlite();
    let server = serve(&db, &[]);
    let base = server.base.clone();
    let admin = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "scanner",
        "--grant-type",
        "none",
        "--scope",
        "tessera:admin",
        "--json",
    ]);
    let app = tessera(&[
        "client",
        "create",
        "--database",
        &db,
        "--name",
        "app",
        "--scope",
        "api:read",
        "--audience",
        "https://api.example.com",
        "--token-format",
        "opaque",
        "--json",
    ]);
    let (app_id, app_secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );
    let http = reqwest::Client::new();
    let token = |http: reqwest::Client, id: String, secret: String, base: String| async move {
        let r = http
            .post(format!("{base}/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.json::<serde_json::Value>().await.unwrap(),
        )
    };
    let (_, leaked) = token(http.clone(), app_id.into(), app_secret.into(), base.clone()).await;
    let leaked_token = leaked["access_token"].as_str().unwrap().to_string();
    let (_, other) = token(http.clone(), app_id.into(), app_secret.into(), base.clone()).await;
    let other_token = other["access_token"].as_str().unwrap().to_string();

    let tree = tempfile::tempdir().unwrap();
    std::fs::write(
        tree.path().join("deploy.env"),
        format!("API_TOKEN={leaked_token}\n"),
    )
    .unwrap();
    std::fs::write(
        tree.path().join("ci.yml"),
        format!("env:\n  CLIENT_SECRET: {app_secret}\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "scan",
            tree.path().to_str().unwrap(),
            "--format",
            "json",
            "--no-progress",
            "--server",
            &base,
            "--revoke",
        ])
        .env("TESSERA_CLIENT_ID", admin["client_id"].as_str().unwrap())
        .env(
            "TESSERA_CLIENT_SECRET",
            admin["client_secret"].as_str().unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !report.contains(&leaked_token) && !report.contains(app_secret),
        "the report leaks the secret"
    );
    assert!(
        report.contains("revoked") && report.contains("secret_rotated"),
        "{report}"
    );

    let introspect = |t: String| {
        let (http, base, id, secret) = (
            http.clone(),
            base.clone(),
            admin["client_id"].as_str().unwrap().to_string(),
            admin["client_secret"].as_str().unwrap().to_string(),
        );
        async move {
            http.post(format!("{base}/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", t)])
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(introspect(leaked_token.clone()).await["active"], false);
    // The secret leaked too: every token of that client is dead, and the secret no longer works.
    assert_eq!(introspect(other_token).await["active"], false);
    let (status, _) = token(http.clone(), app_id.into(), app_secret.into(), base.clone()).await;
    assert_eq!(status, 401);
}

/// Issue 13 item 10: `tessera scan --server` refuses, before scanning or connecting, a URL that
/// would send the admin credentials over plain http to a host that is not loopback — by parsing
/// the host, so `127.attacker.example` is a name, not 127.0.0.0/8.
#[test]
fn scan_refuses_plain_http_to_a_non_loopback_server() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("a.txt"), "nothing here\n").unwrap();
    for url in [
        "http://127.attacker.example:8080",
        "http://auth.example.com",
    ] {
        let out = Command::new(BIN)
            .args([
                "scan",
                tree.path().to_str().unwrap(),
                "--no-progress",
                "--server",
                url,
            ])
            .env("TESSERA_CLIENT_ID", "ops")
            .env("TESSERA_CLIENT_SECRET", "not-sent")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains("loopback"), "{url}: {stderr}");
        assert!(!stderr.contains("not-sent"));
    }
}
