//! Mutual TLS (RFC 8705): `tls_client_auth` against a CA generated in the test,
//! `self_signed_tls_client_auth` against a registered JWK Set, certificate-bound tokens
//! (`cnf.x5t#S256`), and the opt-in proxy header.
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use serde_json::{Value, json};
use tessera_core::audit::EventKind;
use tessera_core::binding::mtls::TlsClientAuth;
use tessera_core::client::{ClientKeys, Credential, TlsCredential, TokenFormat};
use tessera_core::clock::SystemClock;

use crate::support::{TestServer, error, test_config};

struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

struct ClientCert {
    pem: String,
    key_pem: String,
    der: Vec<u8>,
    key: KeyPair,
}

impl ClientCert {
    fn identity(&self) -> reqwest::Identity {
        reqwest::Identity::from_pem(format!("{}{}", self.pem, self.key_pem).as_bytes()).unwrap()
    }

    fn x5t(&self) -> String {
        B64.encode(aws_lc_rs_sha256(&self.der))
    }

    /// The public key as a JWK Set (for self_signed_tls_client_auth registration).
    fn jwks(&self) -> String {
        let raw = self.key.public_key_raw();
        let (x, y) = raw[1..].split_at(32);
        json!({"keys": [{"kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y)}]})
            .to_string()
    }
}

fn aws_lc_rs_sha256(data: &[u8]) -> Vec<u8> {
    tessera_proto::SecretHash::of(data).as_bytes().to_vec()
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Tessera Test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self {
            dir: tempfile::tempdir().unwrap(),
            ca,
        }
    }

    fn ca_path(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("ca.pem");
        std::fs::write(&path, self.ca.pem()).unwrap();
        path
    }

    fn issue(&self, cn: &str, san_dns: &str) -> ClientCert {
        self.issue_with_subject(&[(DnType::CommonName, cn)], san_dns)
    }

    /// A certificate whose subject holds `rdns` in this (ASN.1) order, root first.
    fn issue_with_subject(&self, rdns: &[(DnType, &str)], san_dns: &str) -> ClientCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![san_dns.to_string()]).unwrap();
        // Not rcgen's default subject (a CN placed first).
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (ty, value) in rdns {
            params.distinguished_name.push(ty.clone(), *value);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let issuer: &Issuer<'_, KeyPair> = &self.ca;
        let cert = params.signed_by(&key, issuer).unwrap();
        ClientCert {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key,
        }
    }
}

fn self_signed(cn: &str) -> ClientCert {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.self_signed(&key).unwrap();
    ClientCert {
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
        key,
    }
}

async fn mtls_server(pki: &Pki) -> TestServer {
    let mut config = test_config();
    config.tls_client_ca = Some(pki.ca_path());
    TestServer::start_tls_with(config).await
}

async fn token_with_cert(server: &TestServer, cert: &ClientCert, client_id: &str) -> (u16, Value) {
    let http = server.https_client(Some(cert.identity()));
    let resp = http
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn tls_client_auth_by_san_and_dn_binds_the_token_to_the_certificate() {
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let cert = pki.issue("ci-deploy", "ci.example.com");
    for (expected, format) in [
        (
            TlsClientAuth::SanDns("ci.example.com".into()),
            TokenFormat::Jwt,
        ),
        (
            TlsClientAuth::SubjectDn("CN=ci-deploy".into()),
            TokenFormat::Opaque,
        ),
    ] {
        let c = server
            .client(|c| {
                c.credential = Credential::Tls(TlsCredential::Subject(expected.clone()));
                c.token_format = format;
            })
            .await;
        let (status, body) = token_with_cert(&server, &cert, &c.id).await;
        assert_eq!(status, 200, "{expected:?}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        let token = body["access_token"].as_str().unwrap();
        if format == TokenFormat::Jwt {
            let claims: Value =
                serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap())
                    .unwrap();
            assert_eq!(claims["cnf"]["x5t#S256"], cert.x5t().as_str());
        }
        // A resource server the token is addressed to (RFC 7662 §4: only it may introspect).
        let rs = server
            .client(|c| c.resource_uris = vec![crate::support::API.into()])
            .await;
        let introspected = server.introspect(&rs, token).await;
        assert_eq!(
            introspected["cnf"]["x5t#S256"],
            cert.x5t().as_str(),
            "{expected:?}"
        );
    }
}

#[tokio::test]
async fn certificates_that_do_not_match_or_chain_are_invalid_client() {
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let c = server
        .client(|c| {
            c.credential = Credential::Tls(TlsCredential::Subject(TlsClientAuth::SanDns(
                "ci.example.com".into(),
            )));
        })
        .await;
    let other_ca = Pki::new();
    let cases = [
        (
            pki.issue("ci-deploy", "other.example.com"),
            "certificate_does_not_match_registration",
        ),
        (
            other_ca.issue("ci-deploy", "ci.example.com"),
            "certificate_chain_not_trusted",
        ),
        (self_signed("ci-deploy"), "certificate_chain_not_trusted"),
    ];
    for (cert, reason) in &cases {
        let (status, body) = token_with_cert(&server, cert, &c.id).await;
        assert_eq!(
            (status, body),
            (401, error("invalid_client", "client authentication failed")),
            "{reason}"
        );
        let failed = server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await;
        assert_eq!(failed.last().unwrap().reason.as_deref(), Some(*reason));
    }
    // No certificate at all: client_id alone authenticates nothing.
    let (status, _, _) = server
        .post(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &c.id)],
        )
        .await;
    assert_eq!(status, 401);
    assert!(server.events_of(EventKind::TokenIssued).await.is_empty());
}

#[tokio::test]
async fn self_signed_tls_client_auth_matches_the_registered_key() {
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let cert = self_signed("agent-7");
    let c = server
        .client(|c| {
            c.credential =
                Credential::Tls(TlsCredential::SelfSigned(ClientKeys::Jwks(cert.jwks())));
        })
        .await;
    let (status, body) = token_with_cert(&server, &cert, &c.id).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = token_with_cert(&server, &self_signed("agent-7"), &c.id).await;
    assert_eq!(status, 401);
    let failed = server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await;
    assert_eq!(
        failed.last().unwrap().reason.as_deref(),
        Some("certificate_key_not_registered")
    );
}

#[tokio::test]
async fn self_signed_tls_client_auth_keys_may_be_published_at_a_jwks_uri() {
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let cert = self_signed("agent-8");
    let host = crate::private_key_jwt::JwksHost::start(cert.jwks()).await;
    let c = server
        .client(|c| {
            c.credential = Credential::Tls(TlsCredential::SelfSigned(ClientKeys::JwksUri(
                format!("{}/jwks", host.base),
            )));
        })
        .await;
    let (status, body) = token_with_cert(&server, &cert, &c.id).await;
    assert_eq!(status, 200, "{body}");
    // Bound to the certificate like any mTLS token.
    let claims: Value = serde_json::from_slice(
        &B64.decode(
            body["access_token"]
                .as_str()
                .unwrap()
                .split('.')
                .nth(1)
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["cnf"]["x5t#S256"], cert.x5t());
    // Another key is refused; the set was fetched once (cached).
    let (status, _) = token_with_cert(&server, &self_signed("agent-8"), &c.id).await;
    assert_eq!(status, 401);
    assert_eq!(
        server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await
            .last()
            .unwrap()
            .reason
            .as_deref(),
        Some("certificate_key_not_registered")
    );
    assert_eq!(host.fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_secret_client_presenting_a_certificate_gets_a_bound_token_and_metadata_says_so() {
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let c = server.client(|_| {}).await;
    let cert = self_signed("any");
    let http = server.https_client(Some(cert.identity()));
    let resp = http
        .post(server.url("/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        server
            .introspect(&c, body["access_token"].as_str().unwrap())
            .await["cnf"]["x5t#S256"],
        cert.x5t().as_str()
    );
    let m: Value = server
        .http
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(
        m["mtls_endpoint_aliases"]["token_endpoint"],
        server.url("/token")
    );
    assert!(
        m["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("self_signed_tls_client_auth"))
    );
}

#[tokio::test]
async fn the_proxy_certificate_header_is_honoured_only_when_configured() {
    let cert = self_signed("behind-proxy");
    let escaped: String = percent_encode(&cert.pem);
    for configured in [false, true] {
        let mut config = test_config();
        if configured {
            config.insecure_client_cert_header = Some("x-client-cert".into());
        }
        let server = TestServer::start_with(config, Arc::new(SystemClock)).await;
        let c = server
            .client(|c| {
                c.credential =
                    Credential::Tls(TlsCredential::SelfSigned(ClientKeys::Jwks(cert.jwks())));
            })
            .await;
        let resp = server
            .http
            .post(server.url("/token"))
            .header("x-client-cert", &escaped)
            .form(&[("grant_type", "client_credentials"), ("client_id", &c.id)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            if configured { 200 } else { 401 },
            "configured={configured}"
        );
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn subject_dn_is_matched_rdn_by_rdn_not_as_a_display_string() {
    use DnType::{CommonName as CN, OrganizationName as O};
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let registered = |dn: &str| {
        let dn = dn.to_string();
        let server = &server;
        async move {
            server
                .client(|c| {
                    c.credential = Credential::Tls(TlsCredential::Subject(
                        TlsClientAuth::SubjectDn(dn.clone()),
                    ));
                })
                .await
                .id
        }
    };
    // RFC 4514 lists the last RDN first: "CN=svc,O=acme" is O=acme, then CN=svc.
    let svc = registered("CN=svc,O=acme").await;
    let real = pki.issue_with_subject(&[(O, "acme"), (CN, "svc")], "svc.example");
    let (status, body) = token_with_cert(&server, &real, &svc).await;
    assert_eq!(
        status, 200,
        "the certificate that really is CN=svc,O=acme: {body}"
    );
    // caseIgnoreMatch with insignificant spaces: the same name.
    let shouting = pki.issue_with_subject(&[(O, "ACME"), (CN, "  SVC ")], "svc.example");
    assert_eq!(token_with_cert(&server, &shouting, &svc).await.0, 200);

    let spoofs = [
        // One CN that contains a comma.
        pki.issue_with_subject(&[(CN, "svc, O=acme")], "svc.example"),
        pki.issue_with_subject(&[(CN, "svc,O=acme")], "svc.example"),
        // The RDNs in the other order ("CN=SVC/O=ACME" in OpenSSL's slash form).
        pki.issue_with_subject(&[(CN, "SVC"), (O, "ACME")], "svc.example"),
        // A prefix or an extension of the name.
        pki.issue_with_subject(&[(CN, "svc")], "svc.example"),
        pki.issue_with_subject(
            &[
                (O, "acme"),
                (CN, "svc"),
                (DnType::OrganizationalUnitName, "x"),
            ],
            "svc.example",
        ),
        pki.issue_with_subject(&[(O, "acme"), (CN, "svc2")], "svc.example"),
    ];
    for cert in &spoofs {
        let (status, body) = token_with_cert(&server, cert, &svc).await;
        assert_eq!(
            (status, body),
            (401, error("invalid_client", "client authentication failed"))
        );
        let failed = server
            .events_of(EventKind::ClientAuthenticationFailed)
            .await;
        assert_eq!(
            failed.last().unwrap().reason.as_deref(),
            Some("certificate_does_not_match_registration")
        );
    }
    // The comma-holding CN authenticates only as the name that escapes its comma.
    let escaped = registered(r"CN=svc\, O=acme").await;
    assert_eq!(token_with_cert(&server, &spoofs[0], &escaped).await.0, 200);
    assert_eq!(token_with_cert(&server, &real, &escaped).await.0, 401);
    // A stored name that does not parse authenticates nothing.
    let broken = registered("CN=svc;O=acme").await;
    assert_eq!(token_with_cert(&server, &real, &broken).await.0, 401);
    let failed = server
        .events_of(EventKind::ClientAuthenticationFailed)
        .await;
    assert_eq!(
        failed.last().unwrap().reason.as_deref(),
        Some("registered_subject_dn_unparseable")
    );
}

/// RFC 8693 with RFC 8705: a certificate-bound subject token is exchanged only over mutual TLS,
/// and the new token is bound to the exchanging client's own certificate.
#[tokio::test]
async fn a_certificate_bound_token_is_exchanged_only_over_mutual_tls() {
    use tessera_core::client::GrantType;
    let pki = Pki::new();
    let server = mtls_server(&pki).await;
    let agent_uri = "https://agent.example";
    let service = server
        .client(|c| c.audiences = vec![agent_uri.into()])
        .await;
    let agent = server
        .client(|c| {
            c.grant_types = vec![GrantType::TokenExchange];
            c.resource_uris = vec![agent_uri.into()];
        })
        .await;
    let user_cert = self_signed("user");
    let resp = server
        .https_client(Some(user_cert.identity()))
        .post(server.url("/token"))
        .basic_auth(&service.id, Some(&service.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let bound = body["access_token"].as_str().unwrap().to_string();
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", bound.as_str()),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
    ];
    let exchange = |http: reqwest::Client| {
        let req = http
            .post(server.url("/token"))
            .basic_auth(&agent.id, Some(&agent.secret))
            .form(&form);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        exchange(server.https_client(None)).await,
        (
            400,
            error(
                "invalid_request",
                "a certificate-bound subject_token is exchanged only over mutual TLS"
            )
        )
    );
    let agent_cert = self_signed("agent");
    let (status, body) = exchange(server.https_client(Some(agent_cert.identity()))).await;
    assert_eq!(status, 200, "{body}");
    let seen = server
        .introspect(&agent, body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(seen["cnf"]["x5t#S256"], agent_cert.x5t().as_str());
    assert_eq!(seen["act"]["sub"], agent.id.as_str());
}
