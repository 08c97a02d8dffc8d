//! `ClientStore`: registration, lookup, update, deletion and secret rotation.
use tessera_core::client::{AuthMethod, GrantType, TokenFormat};
use tessera_core::error::StoreError;
use tessera_core::keys::SigningAlg;
use tessera_proto::SecretHash;

use crate::support::{Env, client};

conformance!(
    create_get_list,
    create_keeps_every_field,
    duplicate_id_conflicts,
    update_changes_settings_not_secrets,
    delete_removes,
    secret_rotation_keeps_previous_until_expiry,
);

async fn create_get_list(env: Env) {
    let s = env.store;
    assert!(s.list_clients().await.unwrap().is_empty());
    // Created out of id order: the list follows creation time.
    s.create_client(&client("zeta", 100)).await.unwrap();
    s.create_client(&client("alpha", 200)).await.unwrap();
    s.create_client(&client("beta", 200)).await.unwrap();
    assert_eq!(
        s.get_client("zeta").await.unwrap(),
        Some(client("zeta", 100))
    );
    assert_eq!(s.get_client("missing").await.unwrap(), None);
    let ids: Vec<String> = s
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["zeta", "alpha", "beta"]);
}

async fn create_keeps_every_field(env: Env) {
    let s = env.store;
    let mut c = client("full", 1_700_000_000);
    c.secrets.as_mut().unwrap().previous = Some((SecretHash::of(b"old"), 1_700_000_900));
    c.scopes = vec!["a".into(), "b:c".into(), "d".into()];
    c.default_scopes = vec![];
    c.audiences = vec!["https://api.example.com".into(), "urn:x".into()];
    c.resource_uris = vec!["https://orders.example.com".into(), "urn:orders".into()];
    c.token_format = TokenFormat::Opaque;
    c.jwt_alg = SigningAlg::EdDSA;
    c.auth_method = AuthMethod::PrivateKeyJwt;
    c.jwks = Some(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}]}"#.into());
    c.jwks_uri = Some("https://client.example/jwks.json".into());
    c.access_token_ttl = Some(300);
    c.require_dpop = true;
    c.disabled = true;
    c.updated_at = 1_700_000_001;
    c.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    c.redirect_uris = vec![
        "https://app.example.com/cb".into(),
        "http://127.0.0.1:8765/cb".into(),
    ];
    s.create_client(&c).await.unwrap();
    assert_eq!(s.get_client("full").await.unwrap(), Some(c.clone()));
    assert_eq!(s.list_clients().await.unwrap(), vec![c]);
    // A public client holds no secret, and rotation cannot give it one.
    let mut public = client("public", 1_700_000_002);
    public.auth_method = AuthMethod::None;
    public.secrets = None;
    s.create_client(&public).await.unwrap();
    assert_eq!(s.get_client("public").await.unwrap(), Some(public.clone()));
    assert!(
        !s.rotate_client_secret("public", SecretHash::of(b"s"), 0, 1)
            .await
            .unwrap()
    );
    assert_eq!(s.get_client("public").await.unwrap(), Some(public));
}

async fn duplicate_id_conflicts(env: Env) {
    let s = env.store;
    s.create_client(&client("dup", 1)).await.unwrap();
    let mut other = client("dup", 2);
    other.name = "someone else".into();
    match s.create_client(&other).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
    // The first registration is untouched.
    assert_eq!(s.get_client("dup").await.unwrap(), Some(client("dup", 1)));
}

async fn update_changes_settings_not_secrets(env: Env) {
    let s = env.store;
    let original = client("u", 10);
    s.create_client(&original).await.unwrap();
    let mut changed = original.clone();
    changed.name = "renamed".into();
    changed.scopes = vec!["only".into()];
    changed.default_scopes = vec!["only".into()];
    changed.audiences = vec!["https://rs.example".into()];
    changed.resource_uris = vec!["https://self.example".into()];
    changed.token_format = TokenFormat::Opaque;
    changed.jwt_alg = SigningAlg::RS256;
    changed.auth_method = AuthMethod::ClientSecretPost;
    changed.access_token_ttl = Some(60);
    changed.jwks = Some(r#"{"keys":[]}"#.into());
    changed.jwks_uri = Some("https://client.example/keys".into());
    changed.require_dpop = true;
    changed.disabled = true;
    changed.updated_at = 20;
    // Secrets and creation time in the argument are ignored.
    changed.secrets.as_mut().unwrap().current = SecretHash::of(b"not applied");
    changed.secrets.as_mut().unwrap().previous = Some((SecretHash::of(b"nor this"), 99));
    changed.created_at = 999;
    assert!(s.update_client(&changed).await.unwrap());
    let stored = s.get_client("u").await.unwrap().unwrap();
    let mut expected = changed.clone();
    expected.secrets = original.secrets.clone();
    expected.created_at = original.created_at;
    assert_eq!(stored, expected);
    assert!(!s.update_client(&client("nobody", 1)).await.unwrap());
    assert_eq!(s.get_client("nobody").await.unwrap(), None);
}

async fn delete_removes(env: Env) {
    let s = env.store;
    s.create_client(&client("d", 1)).await.unwrap();
    s.create_client(&client("keep", 2)).await.unwrap();
    assert!(s.delete_client("d", 3).await.unwrap());
    assert!(!s.delete_client("d", 3).await.unwrap());
    assert_eq!(s.get_client("d").await.unwrap(), None);
    assert_eq!(s.list_clients().await.unwrap(), vec![client("keep", 2)]);
    // The id can be registered again.
    s.create_client(&client("d", 3)).await.unwrap();
}

async fn secret_rotation_keeps_previous_until_expiry(env: Env) {
    let s = env.store;
    let c = client("r", 1);
    let first = c.secrets.as_ref().unwrap().current;
    s.create_client(&c).await.unwrap();
    let second = SecretHash::of(b"second");
    assert!(
        s.rotate_client_secret("r", second, 1_000, 500)
            .await
            .unwrap()
    );
    let got = s.get_client("r").await.unwrap().unwrap();
    assert_eq!(got.secrets.as_ref().unwrap().current, second);
    assert_eq!(got.secrets.as_ref().unwrap().previous, Some((first, 1_000)));
    assert_eq!(got.updated_at, 500);
    assert_eq!(got.name, c.name, "settings untouched");
    // Both work during the grace period, only the new one after it.
    assert!(got.secrets.as_ref().unwrap().accepts(&first, 999));
    assert!(!got.secrets.as_ref().unwrap().accepts(&first, 1_000));
    assert!(got.secrets.as_ref().unwrap().accepts(&second, 5_000));
    // A second rotation makes the second secret the previous one; the first is gone.
    let third = SecretHash::of(b"third");
    assert!(s.rotate_client_secret("r", third, 600, 600).await.unwrap());
    let got = s.get_client("r").await.unwrap().unwrap();
    assert_eq!(got.secrets.as_ref().unwrap().current, third);
    assert_eq!(got.secrets.as_ref().unwrap().previous, Some((second, 600)));
    assert!(!got.secrets.as_ref().unwrap().accepts(&first, 0));
    // Expiry ≤ now: the old secret stops at once.
    assert!(!got.secrets.as_ref().unwrap().accepts(&second, 600));
    assert!(!s.rotate_client_secret("nobody", third, 0, 0).await.unwrap());
}
