//! `ClientStore`: registration, lookup, update, deletion and secret rotation.
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::{
    ClientKeys, ClientSecrets, Credential, GrantType, SecretMethod, TlsCredential, TokenFormat,
};
use tessera_core::error::StoreError;
use tessera_core::keys::SigningAlg;
use tessera_proto::SecretHash;

use crate::support::{Env, client};

conformance!(
    create_get_list,
    create_keeps_every_field,
    duplicate_id_conflicts,
    update_changes_settings_not_secrets,
    update_to_another_method_keeps_the_row_consistent,
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
    c.credential = Credential::Secret {
        method: SecretMethod::Post,
        secrets: ClientSecrets {
            current: SecretHash::of(b"current"),
            previous: Some((SecretHash::of(b"old"), 1_700_000_900)),
        },
    };
    c.scopes = vec!["a".into(), "b:c".into(), "d".into()];
    c.default_scopes = vec![];
    c.audiences = vec!["https://api.example.com".into(), "urn:x".into()];
    c.resource_uris = vec!["https://orders.example.com".into(), "urn:orders".into()];
    c.token_format = TokenFormat::Opaque;
    c.jwt_alg = SigningAlg::EdDSA;
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
    // Every kind of credential comes back as it went in.
    for (i, credential) in other_credentials().into_iter().enumerate() {
        let mut other = client(&format!("kind-{i}"), 1_700_000_001);
        other.credential = credential;
        s.create_client(&other).await.unwrap();
        assert_eq!(s.get_client(&other.id).await.unwrap(), Some(other));
    }
    // A public client holds no secret, and rotation cannot give it one.
    let mut public = client("public", 1_700_000_002);
    public.credential = Credential::None;
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
    changed.access_token_ttl = Some(60);
    changed.require_dpop = true;
    changed.disabled = true;
    changed.updated_at = 20;
    // The method changes; secrets and creation time in the argument are ignored.
    changed.credential = Credential::Secret {
        method: SecretMethod::Post,
        secrets: ClientSecrets {
            current: SecretHash::of(b"not applied"),
            previous: Some((SecretHash::of(b"nor this"), 99)),
        },
    };
    changed.created_at = 999;
    assert!(s.update_client(&changed).await.unwrap());
    let stored = s.get_client("u").await.unwrap().unwrap();
    let mut expected = changed.clone();
    expected.credential = Credential::Secret {
        method: SecretMethod::Post,
        secrets: original.credential.secrets().unwrap().clone(),
    };
    expected.created_at = original.created_at;
    assert_eq!(stored, expected);
    assert!(!s.update_client(&client("nobody", 1)).await.unwrap());
    assert_eq!(s.get_client("nobody").await.unwrap(), None);
}

/// One credential of each kind other than a secret.
fn other_credentials() -> Vec<Credential> {
    let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"abc"}]}"#;
    vec![
        Credential::PrivateKeyJwt(ClientKeys::Jwks(jwks.into())),
        Credential::PrivateKeyJwt(ClientKeys::JwksUri(
            "https://client.example/jwks.json".into(),
        )),
        Credential::Tls(TlsCredential::Subject(TlsClientAuth::SanDns(
            "ci.example.com".into(),
        ))),
        Credential::Tls(TlsCredential::SelfSigned(ClientKeys::Jwks(jwks.into()))),
        Credential::Tls(TlsCredential::SelfSigned(ClientKeys::JwksUri(
            "https://client.example/keys".into(),
        ))),
        Credential::None,
    ]
}

/// The table keeps loose columns: a change of method must leave a row that reads back as the
/// new credential — a client that no longer uses a secret keeps none (rotation cannot give it
/// one), and one that starts using a secret gets the one given, which later updates keep.
async fn update_to_another_method_keeps_the_row_consistent(env: Env) {
    let s = env.store;
    let original = client("m", 10);
    s.create_client(&original).await.unwrap();
    for credential in other_credentials() {
        let mut changed = original.clone();
        changed.credential = credential;
        assert!(s.update_client(&changed).await.unwrap());
        assert_eq!(s.get_client("m").await.unwrap(), Some(changed));
        assert!(
            !s.rotate_client_secret("m", SecretHash::of(b"x"), 0, 1)
                .await
                .unwrap()
        );
    }
    let new_secret = ClientSecrets {
        current: SecretHash::of(b"new"),
        previous: None,
    };
    let mut back = original.clone();
    back.credential = Credential::Secret {
        method: SecretMethod::Basic,
        secrets: new_secret.clone(),
    };
    assert!(s.update_client(&back).await.unwrap());
    assert_eq!(s.get_client("m").await.unwrap(), Some(back.clone()));
    // Once it has a secret, an update keeps it.
    let mut again = back.clone();
    again.credential = original.credential.clone();
    assert!(s.update_client(&again).await.unwrap());
    let stored = s.get_client("m").await.unwrap().unwrap();
    assert_eq!(stored.credential.secrets(), Some(&new_secret));
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
    let first = c.credential.secrets().unwrap().current;
    s.create_client(&c).await.unwrap();
    let second = SecretHash::of(b"second");
    assert!(
        s.rotate_client_secret("r", second, 1_000, 500)
            .await
            .unwrap()
    );
    let got = s.get_client("r").await.unwrap().unwrap();
    assert_eq!(got.credential.secrets().unwrap().current, second);
    assert_eq!(
        got.credential.secrets().unwrap().previous,
        Some((first, 1_000))
    );
    assert_eq!(got.updated_at, 500);
    assert_eq!(got.name, c.name, "settings untouched");
    // Both work during the grace period, only the new one after it.
    assert!(got.credential.secrets().unwrap().accepts(&first, 999));
    assert!(!got.credential.secrets().unwrap().accepts(&first, 1_000));
    assert!(got.credential.secrets().unwrap().accepts(&second, 5_000));
    // A second rotation makes the second secret the previous one; the first is gone.
    let third = SecretHash::of(b"third");
    assert!(s.rotate_client_secret("r", third, 600, 600).await.unwrap());
    let got = s.get_client("r").await.unwrap().unwrap();
    assert_eq!(got.credential.secrets().unwrap().current, third);
    assert_eq!(
        got.credential.secrets().unwrap().previous,
        Some((second, 600))
    );
    assert!(!got.credential.secrets().unwrap().accepts(&first, 0));
    // Expiry ≤ now: the old secret stops at once.
    assert!(!got.credential.secrets().unwrap().accepts(&second, 600));
    assert!(!s.rotate_client_secret("nobody", third, 0, 0).await.unwrap());
}
