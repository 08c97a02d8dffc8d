//! `tessera keys …` against a running server: the database from the environment, `rotate`
//! publishing a next key, `revoke` taking a key out of service (and `rotate --now`).
use std::process::Command;

use crate::support::{BIN, client_credentials, eventually, jwks_kids, serve, sqlite, tessera};

#[tokio::test]
async fn database_comes_from_the_environment_and_keys_rotate() {
    let (_dir, db) = sqlite();
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
    assert!(eventually(async || jwks_kids(&server.base).await.contains(&kid)).await);
}

#[tokio::test]
async fn keys_revoke_takes_a_key_out_of_service_and_rotate_publishes_a_next_key() {
    let (_dir, db) = sqlite();
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
    let body: serde_json::Value = client_credentials(
        &server.base,
        id,
        secret,
        &[("resource", "https://api.example.com")],
    )
    .await
    .json()
    .await
    .unwrap();
    let http = reqwest::Client::new();
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
