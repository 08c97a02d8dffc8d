//! Client registration rules for authentication and audience, end to end through the binary:
//! only secret-based clients get a secret, a client that could never get a token is refused,
//! subject DNs are parsed when registered, and `tls_client_auth` works with the CA given by
//! `--tls-client-ca` or `TESSERA_TLS_CLIENT_CA`.
use std::process::{Command, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair,
};
use serde_json::Value;

use crate::support::{BIN, Process, Server, sqlite};

const API: &str = "https://api.example.com";

fn tessera(args: &[&str]) -> Result<Value, String> {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("TESSERA_CONFIG")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        assert_eq!(out.status.code(), Some(2));
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn create(db: &str, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec![
        "client",
        "create",
        "--database",
        db,
        "--name",
        "c",
        "--json",
    ];
    args.extend_from_slice(extra);
    tessera(&args)
}

#[test]
fn a_client_that_could_never_get_a_token_is_refused() {
    let (_dir, db) = sqlite();
    let err = create(&db, &["--scope", "read"]).unwrap_err();
    assert!(
        err.starts_with(
            "error: --audience is required: every access token is issued for one resource server"
        ),
        "{err}"
    );
    let err = create(
        &db,
        &[
            "--grant-type",
            "authorization_code",
            "--redirect-uri",
            "https://app.example/cb",
            "--auth-method",
            "none",
        ],
    )
    .unwrap_err();
    assert!(err.contains("--audience is required"), "{err}");
    // A resource server that only introspects and reads the revocation feed asks for no token.
    let rs = create(
        &db,
        &["--grant-type", "none", "--scope", "tessera:revocations"],
    )
    .unwrap();
    let id = rs["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]).unwrap();
    assert_eq!(shown["grant_types"], serde_json::json!([]));
    let err = create(
        &db,
        &["--grant-type", "none", "--grant-type", "client_credentials"],
    )
    .unwrap_err();
    assert!(err.contains("--grant-type none goes alone"), "{err}");
    assert!(create(&db, &["--scope", "read", "--audience", API]).is_ok());
}

#[test]
fn only_clients_that_authenticate_with_a_secret_are_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    let jwks = jwks.to_str().unwrap();
    let secret = create(&db, &["--audience", API]).unwrap();
    assert!(
        secret["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("tsr_cs_")
    );
    for extra in [
        vec!["--auth-method", "private_key_jwt", "--jwks-file", jwks],
        vec![
            "--auth-method",
            "self_signed_tls_client_auth",
            "--jwks-file",
            jwks,
        ],
        vec![
            "--auth-method",
            "tls_client_auth",
            "--tls-client-auth-san-dns",
            "svc.example",
        ],
    ] {
        let mut args = extra.clone();
        args.extend(["--audience", API]);
        let created = create(&db, &args).unwrap();
        assert_eq!(created["client_secret"], Value::Null, "{extra:?}");
        let id = created["client_id"].as_str().unwrap();
        let err =
            tessera(&["client", "rotate-secret", "--database", &db, id, "--json"]).unwrap_err();
        assert!(err.contains("it has no secret"), "{err}");
        // Human output: no secret line either.
        let out = Command::new(BIN)
            .args(["client", "create", "--database", &db, "--name", "h"])
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains("client_secret"), "{stdout}");
        assert!(!stdout.contains("tsr_cs_"), "{stdout}");
    }
}

#[test]
fn subject_dns_must_parse_and_are_stored_canonical() {
    let (_dir, db) = sqlite();
    let dn = |value: &str| {
        create(
            &db,
            &[
                "--auth-method",
                "tls_client_auth",
                "--tls-client-auth-subject-dn",
                value,
                "--audience",
                API,
            ],
        )
    };
    for bad in ["CN=svc;O=acme", "/CN=svc/O=acme", "CN=a\"b", "", "XX=svc"] {
        let err = dn(bad).unwrap_err();
        assert!(
            err.starts_with("error: --tls-client-auth-subject-dn"),
            "{bad}: {err}"
        );
    }
    let created = dn("cn = svc\\, inc , o=acme").unwrap();
    let id = created["client_id"].as_str().unwrap();
    let shown = tessera(&["client", "show", "--database", &db, id, "--json"]).unwrap();
    assert_eq!(
        shown["tls_client_auth"],
        serde_json::json!({"subject_dn": "CN=svc\\, inc,O=acme"})
    );
}

struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        let server = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        std::fs::write(dir.path().join("server.pem"), server.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("server.key"),
            server.signing_key.serialize_pem(),
        )
        .unwrap();
        Self { dir, ca }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// A client certificate whose subject holds `rdns` in this (ASN.1) order.
    fn identity(&self, rdns: &[(DnType, &str)]) -> reqwest::Identity {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        for (ty, v) in rdns {
            params.distinguished_name.push(ty.clone(), *v);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.ca).unwrap();
        reqwest::Identity::from_pem(format!("{}{}", cert.pem(), key.serialize_pem()).as_bytes())
            .unwrap()
    }
}

/// `tessera serve` over TLS with `extra` flags and `env` variables; its base is https.
fn serve_tls(db: &str, pki: &Pki, extra: &[&str], env: &[(&str, String)]) -> Server {
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--database",
            db,
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--tls-cert",
            &pki.path("server.pem"),
            "--tls-key",
            &pki.path("server.key"),
        ])
        .args(extra)
        .env_remove("TESSERA_CONFIG")
        .env_remove("TESSERA_TLS_CLIENT_CA")
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let addr = crate::support::listening_address(&mut child);
    Server {
        process: Process(child),
        base: format!("https://{addr}"),
    }
}

async fn token(server: &Server, pki: &Pki, client_id: &str, identity: reqwest::Identity) -> u16 {
    let server_cert = std::fs::read(pki.path("server.pem")).unwrap();
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&server_cert).unwrap())
        .identity(identity)
        .build()
        .unwrap();
    http.post(format!("{}/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn tls_client_auth_is_configured_from_the_command_line_or_the_environment() {
    use DnType::{CommonName as CN, OrganizationName as O};
    let pki = Pki::new();
    let db = format!("sqlite:{}", pki.dir.path().join("t.db").display());
    let created = create(
        &db,
        &[
            "--auth-method",
            "tls_client_auth",
            "--tls-client-auth-subject-dn",
            "CN=svc,O=acme",
            "--audience",
            API,
        ],
    )
    .unwrap();
    assert_eq!(created["client_secret"], Value::Null);
    let id = created["client_id"].as_str().unwrap();
    let by_flag = serve_tls(&db, &pki, &["--tls-client-ca", &pki.path("ca.pem")], &[]);
    let by_env = serve_tls(
        &db,
        &pki,
        &[],
        &[("TESSERA_TLS_CLIENT_CA", pki.path("ca.pem"))],
    );
    let without = serve_tls(&db, &pki, &[], &[]);
    let real = || pki.identity(&[(O, "acme"), (CN, "svc")]);
    assert_eq!(token(&by_flag, &pki, id, real()).await, 200);
    assert_eq!(token(&by_env, &pki, id, real()).await, 200);
    // Without the CA no chain verifies: the same certificate authenticates nothing.
    assert_eq!(token(&without, &pki, id, real()).await, 401);
    // The spoofs of the old display-string comparison.
    for spoof in [
        pki.identity(&[(CN, "svc, O=acme")]),
        pki.identity(&[(CN, "SVC"), (O, "ACME")]),
    ] {
        assert_eq!(token(&by_flag, &pki, id, spoof).await, 401);
    }
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--tls-client-ca") && help.contains("TESSERA_TLS_CLIENT_CA"),
        "{help}"
    );
}
