//! `tessera user …` against a running server sharing the SQLite file: list, disable (the user's
//! refresh tokens stop working at once), enable, set-password, unlock (the login lockout) and
//! delete, each recorded as a `user.changed` event.
use serde_json::Value;

use crate::support::{Server, run, serve, sqlite};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
// RFC 7636 appendix B's pair.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Runs `tessera user ARGS --database DB --json` and returns its JSON.
fn user(db: &str, args: &[&str], stdin: &[u8]) -> Value {
    let mut all = vec!["user"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--database", db, "--json"]);
    let out = run(&all, stdin);
    assert!(
        out.status.success(),
        "tessera {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens a login form and posts it; returns the status and the code (on 303) or the page.
async fn login(server: &Server, client_id: &str, password: &str) -> (u16, String) {
    let http = browser();
    let page = http
        .get(format!("{}/authorize", server.base))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    let location = format!("{:?}", page.headers().get("location"));
    let page = page.text().await.unwrap();
    let marker = "name=\"request\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no login form: {location} {page}"))
        + marker.len();
    let request = &page[start..start + page[start..].find('"').unwrap()];
    let resp = http
        .post(format!("{}/login", server.base))
        .form(&[
            ("request", request),
            ("username", "alice"),
            ("password", password),
            ("action", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status == 303 {
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let code = location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .expect("a code");
        (status, code.to_string())
    } else {
        (status, resp.text().await.unwrap())
    }
}

async fn token(server: &Server, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/token", server.base))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn users_are_listed_disabled_enabled_unlocked_and_deleted_with_their_grants_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    let server = serve(&db, &[]);
    let out = run(
        &[
            "client",
            "create",
            "--database",
            &db,
            "--name",
            "spa",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--redirect-uri",
            REDIRECT,
            "--auth-method",
            "none",
            "--scope",
            "read",
            "--audience",
            "https://api.example.com",
            "--json",
        ],
        b"",
    );
    assert!(out.status.success());
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let client_id = created["client_id"].as_str().unwrap().to_string();
    user(&db, &["create", "--username", "alice"], b"first pass\n");
    let listed = user(&db, &["list"], b"");
    assert_eq!(listed["users"][0]["username"], "alice");
    assert_eq!(listed["users"][0]["disabled"], false);
    assert!(listed["users"][0]["created_at"].as_u64().unwrap() > 1_700_000_000);
    assert!(!listed.to_string().contains("argon2"), "no password hash");

    // alice signs in and the application holds a refresh token.
    let (status, code) = login(&server, &client_id, "first pass").await;
    assert_eq!(status, 303, "{code}");
    let (status, tokens) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // Disabled: the refresh token is dead at once and the password no longer signs in.
    let disabled = user(&db, &["disable", "alice"], b"");
    assert_eq!(disabled["action"], "disabled");
    assert_eq!(disabled["grants_revoked"], 1);
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", client_id.as_str()),
    ];
    let (status, body) = token(&server, &refresh_form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, page) = login(&server, &client_id, "first pass").await;
    assert_eq!(status, 200);
    assert!(page.contains("Wrong user name or password."), "{page}");
    assert_eq!(user(&db, &["list"], b"")["users"][0]["disabled"], true);

    // Enabled with a new password: only the new one works; revoked grants stay revoked.
    user(&db, &["enable", "alice"], b"");
    user(&db, &["set-password", "alice"], b"second pass\n");
    assert_eq!(login(&server, &client_id, "first pass").await.0, 200);
    assert_eq!(login(&server, &client_id, "second pass").await.0, 303);
    assert_eq!(token(&server, &refresh_form).await.0, 400);

    // Five failures lock the name out, even for the right password, until an admin unlocks it.
    for _ in 0..5 {
        login(&server, &client_id, "guess").await;
    }
    let (status, page) = login(&server, &client_id, "second pass").await;
    assert_eq!(status, 200);
    assert!(page.contains("Too many failed sign-in attempts"), "{page}");
    assert_eq!(user(&db, &["unlock", "alice"], b"")["action"], "unlocked");
    let (status, last_code) = login(&server, &client_id, "second pass").await;
    assert_eq!(status, 303);

    // Deleted: the two authorizations since (codes never redeemed) are revoked too.
    let deleted = user(&db, &["delete", "alice"], b"");
    assert_eq!(deleted["grants_revoked"], 2);
    let (status, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &last_code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code of a revoked authorization is not redeemed: {body}"
    );
    assert_eq!(user(&db, &["list"], b"")["users"], serde_json::json!([]));
    let again = run(&["user", "delete", "alice", "--database", &db], b"");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no user \"alice\""));

    // Every change is in the audit trail, without the passwords.
    let conn = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM events WHERE type = 'user.changed' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let reasons: Vec<String> = bodies
        .iter()
        .map(|b| {
            let e: Value = serde_json::from_str(b).unwrap();
            assert_eq!(e["subject"], "alice");
            e["reason"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "created",
            "disabled",
            "enabled",
            "password_set",
            "unlocked",
            "deleted"
        ]
    );
    assert!(!bodies.concat().contains(" pass"));
}

/// `user create --password-stdin`: the password comes from stdin, is never printed, and user
/// names are unique.
#[test]
fn users_read_their_password_from_stdin() {
    let (_dir, db) = sqlite();
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
