//! The registration rules: every illegal credential combination is refused with the field at
//! fault, and the messages name RFC 7591 fields (or whatever names the caller passes).
use tessera_proto::SecretHash;

use super::registration::{CredentialMetadata, Field, RegistrationError, check};
use super::*;
use crate::binding::mtls::TlsClientAuth;

const JWKS: &str =
    r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

fn secrets() -> ClientSecrets {
    ClientSecrets {
        current: SecretHash::of(b"s"),
        previous: None,
    }
}

fn meta(method: AuthMethod) -> CredentialMetadata {
    CredentialMetadata {
        token_endpoint_auth_method: method,
        secrets: method.uses_secret().then(secrets),
        ..CredentialMetadata::default()
    }
}

fn client(credential: Credential) -> Client {
    Client {
        id: "c".into(),
        name: "c".into(),
        credential,
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        scopes: vec!["read".into()],
        default_scopes: vec!["read".into()],
        audiences: vec!["https://api.example.com".into()],
        resource_uris: vec![],
        token_format: TokenFormat::Jwt,
        jwt_alg: SigningAlg::ES256,
        access_token_ttl: None,
        require_dpop: false,
        allow_impersonation: false,
        require_par: false,
        tokens_not_before: None,
        disabled: false,
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn each_method_builds_its_own_credential() {
    let built = |m: CredentialMetadata| m.into_credential().unwrap();
    assert_eq!(
        built(meta(AuthMethod::ClientSecretPost)),
        Credential::Secret {
            method: SecretMethod::Post,
            secrets: secrets()
        }
    );
    assert_eq!(built(meta(AuthMethod::None)), Credential::None);
    let keyed = CredentialMetadata {
        jwks_uri: Some("https://client.example/jwks".into()),
        ..meta(AuthMethod::PrivateKeyJwt)
    };
    assert_eq!(
        built(keyed),
        Credential::PrivateKeyJwt(ClientKeys::JwksUri("https://client.example/jwks".into()))
    );
    let self_signed = CredentialMetadata {
        jwks: Some(JWKS.into()),
        ..meta(AuthMethod::SelfSignedTlsClientAuth)
    };
    assert_eq!(
        built(self_signed).auth_method(),
        AuthMethod::SelfSignedTlsClientAuth
    );
    // A subject DN is kept in its canonical RFC 4514 form.
    let tls = CredentialMetadata {
        tls_client_auth: vec![TlsClientAuth::SubjectDn("cn = svc , o=acme".into())],
        ..meta(AuthMethod::TlsClientAuth)
    };
    assert_eq!(
        built(tls).tls_subject(),
        Some(&TlsClientAuth::SubjectDn("CN=svc,O=acme".into()))
    );
}

#[test]
fn illegal_combinations_are_refused_with_the_field_at_fault() {
    use RegistrationError as E;
    let refused = |m: CredentialMetadata| m.into_credential().unwrap_err();
    // RFC 6749 §2.1: a public client holds no secret; a secret method needs one.
    let public_with_secret = CredentialMetadata {
        secrets: Some(secrets()),
        ..meta(AuthMethod::None)
    };
    assert_eq!(
        refused(public_with_secret),
        E::SecretNeedsSecretMethod(AuthMethod::None)
    );
    let basic_without = CredentialMetadata {
        secrets: None,
        ..meta(AuthMethod::ClientSecretBasic)
    };
    assert_eq!(
        refused(basic_without).field(),
        Field::TokenEndpointAuthMethod
    );
    // RFC 7591 §2: jwks xor jwks_uri, only for the methods that prove a key.
    let both = CredentialMetadata {
        jwks: Some(JWKS.into()),
        jwks_uri: Some("https://client.example/jwks".into()),
        ..meta(AuthMethod::PrivateKeyJwt)
    };
    assert_eq!(refused(both), E::JwksAndJwksUri);
    assert_eq!(
        refused(meta(AuthMethod::PrivateKeyJwt)),
        E::KeyMethodNeedsKeys(AuthMethod::PrivateKeyJwt)
    );
    let keys_for_secret = CredentialMetadata {
        jwks_uri: Some("https://client.example/jwks".into()),
        ..meta(AuthMethod::ClientSecretBasic)
    };
    assert_eq!(
        refused(keys_for_secret),
        E::KeysNeedKeyMethod(Field::JwksUri)
    );
    let private_key = CredentialMetadata {
        jwks: Some(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#.into()),
        ..meta(AuthMethod::PrivateKeyJwt)
    };
    assert_eq!(refused(private_key).field(), Field::Jwks);
    let http = CredentialMetadata {
        jwks_uri: Some("http://client.example/jwks".into()),
        ..meta(AuthMethod::PrivateKeyJwt)
    };
    assert_eq!(refused(http).field(), Field::JwksUri);
    // RFC 8705 §2.1.2: exactly one tls_client_auth_* value, for tls_client_auth only.
    assert_eq!(
        refused(meta(AuthMethod::TlsClientAuth)),
        E::TlsMethodNeedsOneValue
    );
    let stray = CredentialMetadata {
        tls_client_auth: vec![TlsClientAuth::SanDns("svc.example".into())],
        ..meta(AuthMethod::ClientSecretBasic)
    };
    assert_eq!(refused(stray), E::TlsValueNeedsTlsMethod);
    let bad_dn = CredentialMetadata {
        tls_client_auth: vec![TlsClientAuth::SubjectDn("/CN=svc".into())],
        ..meta(AuthMethod::TlsClientAuth)
    };
    assert_eq!(refused(bad_dn).field(), Field::TlsClientAuthSubjectDn);
}

#[test]
fn a_credential_round_trips_through_its_metadata() {
    for credential in [
        Credential::None,
        Credential::PrivateKeyJwt(ClientKeys::Jwks(JWKS.into())),
        Credential::Tls(TlsCredential::Subject(TlsClientAuth::SanUri(
            "spiffe://x/y".into(),
        ))),
        Credential::Secret {
            method: SecretMethod::Basic,
            secrets: secrets(),
        },
    ] {
        let again = CredentialMetadata::from(&credential).into_credential();
        assert_eq!(again, Ok(credential));
    }
}

#[test]
fn messages_name_the_metadata_field_or_the_callers_name_for_it() {
    let e = RegistrationError::KeysNeedKeyMethod(Field::JwksUri);
    assert_eq!(
        e.to_string(),
        "jwks_uri goes with token_endpoint_auth_method private_key_jwt or \
         self_signed_tls_client_auth"
    );
    let flag = |f: Field| match f {
        Field::JwksUri => "--jwks-uri",
        Field::TokenEndpointAuthMethod => "--auth-method",
        other => other.as_str(),
    };
    assert_eq!(
        e.describe(&flag),
        "--jwks-uri goes with --auth-method private_key_jwt or self_signed_tls_client_auth"
    );
}

#[test]
fn check_judges_the_whole_registration() {
    use RegistrationError as E;
    let ok = client(Credential::None);
    // RFC 6749 §4.4: client_credentials only for confidential clients.
    assert_eq!(check(&ok), Err(E::PublicClientCredentials));
    let mut code = ok.clone();
    code.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    assert_eq!(check(&code), Err(E::CodeGrantNeedsRedirectUri));
    code.redirect_uris = vec!["https://app.example/cb".into()];
    assert_eq!(check(&code), Ok(()));
    let mut no_audience = code.clone();
    no_audience.audiences.clear();
    assert_eq!(check(&no_audience), Err(E::AudienceRequired));
    let mut bad_default = code.clone();
    bad_default.default_scopes = vec!["write".into()];
    assert_eq!(
        check(&bad_default),
        Err(E::DefaultScopeNotInScope("write".into()))
    );
    // A stored credential is judged too: keys must still be usable public keys.
    let keyed = client(Credential::PrivateKeyJwt(ClientKeys::Jwks(
        r#"{"keys":[]}"#.into(),
    )));
    assert_eq!(check(&keyed).unwrap_err().field(), Field::Jwks);
}

/// RFC 8693: an exchanging client authenticates (it is the actor the new token names) and has a
/// resource URI (it may exchange only tokens addressed to it).
#[test]
fn token_exchange_needs_a_confidential_client_with_a_resource_uri() {
    use RegistrationError as E;
    let mut public = client(Credential::None);
    public.grant_types = vec![GrantType::TokenExchange];
    public.resource_uris = vec!["https://agent.example".into()];
    assert_eq!(check(&public), Err(E::PublicTokenExchange));
    let mut agent = client(Credential::Secret {
        method: SecretMethod::Basic,
        secrets: secrets(),
    });
    agent.grant_types = vec![GrantType::TokenExchange];
    assert_eq!(check(&agent), Err(E::ExchangeNeedsResourceUri));
    assert_eq!(E::ExchangeNeedsResourceUri.field(), Field::ResourceUris);
    assert_eq!(
        E::PublicTokenExchange.field(),
        Field::TokenEndpointAuthMethod
    );
    agent.resource_uris = vec!["https://agent.example".into()];
    assert_eq!(check(&agent), Ok(()));
    assert_eq!(
        GrantType::parse("urn:ietf:params:oauth:grant-type:token-exchange"),
        Some(GrantType::TokenExchange)
    );
}
