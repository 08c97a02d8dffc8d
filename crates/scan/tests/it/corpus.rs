//! The labelled corpus behind the recall/precision figures in docs/scan.md: one repository with
//! planted secrets (some deleted so they live only in history), hard cases the rules are known to
//! miss, and decoys. Scanned with `--history`; every finding is matched against the labels by
//! (rule, path, line). Run with `--nocapture` to see the table.

use std::collections::BTreeSet;

use tessera_proto::TokenKind;
use tessera_scan::SourceMode;

use crate::support::{Tree, secrets};

type Label = (&'static str, String, usize);

fn label(rule: &'static str, path: &str, line: usize) -> Label {
    (rule, path.to_owned(), line)
}

#[test]
fn corpus_recall_and_precision() {
    let mut t = Tree::repo();
    let mut positives: Vec<Label> = Vec::new();
    let at = secrets::tessera(TokenKind::AccessToken, 100);

    // --- Commit 1: secrets that are later deleted (history only) + decoys.
    t.write(
        "legacy/settings.py",
        format!(
            "DEBUG = True\nREFRESH = \"{}\"\n",
            secrets::tessera(TokenKind::RefreshToken, 101)
        ),
    );
    positives.push(label("tessera-refresh-token", "legacy/settings.py", 2));
    t.write(
        "k8s/stripe.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nstringData:\n  key: {}\n",
            secrets::stripe_live(102)
        ),
    );
    positives.push(label("stripe-live-key", "k8s/stripe.yaml", 4));
    t.write("ops/deploy_key", secrets::openssh_key(103));
    positives.push(label("private-key", "ops/deploy_key", 1));
    t.commit("initial");
    t.remove("legacy/settings.py");
    t.remove("k8s/stripe.yaml");
    t.remove("ops/deploy_key");
    t.commit("remove secrets");

    // --- Commit 3: secrets still present at HEAD, in code, CI files and dotfiles.
    t.write(
        "src/client.rs",
        format!("// test fixture\nconst TOKEN: &str = \"{at}\";\n"),
    );
    positives.push(label("tessera-access-token", "src/client.rs", 2));
    t.write(
        ".github/workflows/ci.yml",
        format!(
            "env:\n  CLIENT_SECRET: {}\n",
            secrets::tessera(TokenKind::ClientSecret, 104)
        ),
    );
    positives.push(label(
        "tessera-client-secret",
        ".github/workflows/ci.yml",
        2,
    ));
    t.write(
        "logs/callback.log",
        format!(
            "GET /cb?code={}&state=xyz 302\n",
            secrets::tessera(TokenKind::AuthorizationCode, 105)
        ),
    );
    positives.push(label("tessera-authorization-code", "logs/callback.log", 1));
    t.write(
        "register.json",
        format!(
            "{{\n  \"registration_access_token\": \"{}\"\n}}\n",
            secrets::tessera(TokenKind::RegistrationToken, 106)
        ),
    );
    positives.push(label("tessera-registration-token", "register.json", 2));
    t.write(
        "notes.md",
        format!("the old one was\n{}\n", secrets::typo(&at)),
    );
    positives.push(label("tessera-malformed", "notes.md", 2));
    t.write(
        ".env",
        format!(
            "GITHUB_TOKEN={}\nGH_PAT={}\n",
            secrets::github(107),
            secrets::github_fine_grained(108)
        ),
    );
    positives.push(label("github-token", ".env", 1));
    positives.push(label("github-fine-grained-pat", ".env", 2));
    t.write(
        "infra/main.tf",
        format!(
            "provider \"aws\" {{\n  access_key = \"{}\"\n  secret_key = \"x\"\n}}\n",
            secrets::aws_key_id(109)
        ),
    );
    positives.push(label("aws-access-key-id", "infra/main.tf", 2));
    t.write(
        "aws/credentials",
        format!(
            "[default]\naws_secret_access_key = {}\n",
            secrets::aws_secret(110)
        ),
    );
    positives.push(label("aws-secret-access-key", "aws/credentials", 2));
    t.write(
        "Dockerfile",
        format!("FROM debian\nENV SLACK_BOT={}\n", secrets::slack_bot(111)),
    );
    positives.push(label("slack-token", "Dockerfile", 2));
    t.write(
        ".gitlab-ci.yml",
        format!(
            "notify:\n  script:\n    - curl -X POST {}\n",
            secrets::slack_webhook(112)
        ),
    );
    positives.push(label("slack-webhook", ".gitlab-ci.yml", 3));
    t.write(
        ".env.test",
        format!("STRIPE={}\n", secrets::stripe_test(113)),
    );
    positives.push(label("stripe-test-key", ".env.test", 1));
    t.write(
        "web/index.html",
        format!(
            "<script src=\"https://maps.googleapis.com/maps/api/js?key={}\"></script>\n",
            secrets::google_key(114)
        ),
    );
    positives.push(label("google-api-key", "web/index.html", 1));
    t.write("certs/server.key", secrets::pem(115));
    positives.push(label("private-key", "certs/server.key", 1));
    t.write(
        "scripts/call.sh",
        format!(
            "#!/bin/sh\ncurl -H \"Authorization: Bearer {}\" https://api.internal/\n",
            secrets::jwt(116)
        ),
    );
    positives.push(label("jwt", "scripts/call.sh", 2));
    t.write(
        "config/db.yaml",
        format!(
            "database:\n  host: db\n  password: {}\n",
            secrets::password(117)
        ),
    );
    positives.push(label("generic-secret-assignment", "config/db.yaml", 3));
    t.write(
        "config/oauth.json",
        format!(
            "{{\n  \"client_secret\": \"{}\"\n}}\n",
            secrets::password(118)
        ),
    );
    positives.push(label("generic-secret-assignment", "config/oauth.json", 2));
    t.write(
        "app/settings.py",
        format!("API_KEY = '{}'\n", secrets::password(119)),
    );
    positives.push(label("generic-secret-assignment", "app/settings.py", 1));

    // Hard positives the rules are known to miss (kept to keep the recall figure honest).
    t.write("config/weak.yaml", "smtp:\n  password: Winter2024!\n");
    positives.push(label("generic-secret-assignment", "config/weak.yaml", 2));
    t.write(
        "aws/odd.ini",
        format!("[x]\naws_key = {}\n", secrets::aws_secret(120)),
    );
    positives.push(label("aws-secret-access-key", "aws/odd.ini", 2));
    t.write(
        "src/split.js",
        format!("const t = \"{}\" +\n  \"{}\";\n", &at[..30], &at[30..]),
    );
    positives.push(label("tessera-access-token", "src/split.js", 1));

    // Decoys: documentation values, placeholders, bad checksums, references, look-alikes.
    t.write(
        "docs/examples.md",
        format!(
            "{}\n{}\n{}\n{}\nghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n{}\nxoxb-your-token-here\n\
             https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX\n\
             -----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n\
             -----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            concat!("AKIA", "IOSFODNN7EXAMPLE"),
            concat!(
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/",
                "bPxRfiCYEXAMPLEKEY"
            ),
            concat!("sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"),
            concat!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
                "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.",
                "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
            ),
            secrets::github_bad_checksum(130),
            secrets::random(
                131,
                64,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            ),
        ),
    );
    t.write(
        ".github/workflows/release.yml",
        "env:\n  TOKEN: ${{ secrets.RELEASE_TOKEN }}\n  NPM_TOKEN: ${{ secrets.NPM }}\n",
    );
    t.write(
        "config/refs.yaml",
        "password: ${DB_PASSWORD}\napi_key: <your-api-key>\nsecret: changeme12345\n\
         token_endpoint: https://login.example.net/oauth2/v2.0/token\n\
         secret_version: projects/123456/secrets/db-pass/versions/latest\n\
         api_key_env: OPENWEATHER_API_KEY_V2\nauth_token_header: X-Auth-Token-V2\n\
         client_id: 3f2c1e9a-8b7d-4c6e-9f1a-2b3c4d5e6f70\n",
    );
    t.write("src/auth.go", "tokenString := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)\npassword := os.Getenv(\"PASSWORD\")\n");
    t.write(
        "package-lock.json",
        format!(
            "\"integrity\": \"sha512-{}\"\n",
            secrets::random(
                132,
                86,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            )
        ),
    );
    // A hard negative: a commit hash under a token-ish name looks exactly like a hex secret.
    t.write(
        "ci/state.yaml",
        "last_token_commit: 9fceb02d0ae598e95dc970b74767f19372d61af8\n",
    );
    let decoy_files = 6;
    t.commit("current state");

    let findings = t.scan(SourceMode::History);
    let found: BTreeSet<Label> = findings
        .iter()
        .map(|f| (f.rule, f.path.clone(), f.line))
        .collect();
    let expected: BTreeSet<Label> = positives.iter().cloned().collect();
    let tp = found.intersection(&expected).count();
    let fp: Vec<_> = found.difference(&expected).collect();
    let fn_: Vec<_> = expected.difference(&found).collect();
    let recall = tp as f64 / expected.len() as f64;
    let precision = tp as f64 / found.len() as f64;
    println!(
        "corpus: {} labelled secrets, {} decoy files",
        expected.len(),
        decoy_files
    );
    println!(
        "true positives {tp}, false positives {}, false negatives {}",
        fp.len(),
        fn_.len()
    );
    println!("recall {recall:.3}, precision {precision:.3}");
    println!("false positives: {fp:?}");
    println!("false negatives: {fn_:?}");

    // The figures quoted in docs/scan.md; change both together.
    assert_eq!(expected.len(), 24);
    assert_eq!(tp, 21);
    assert_eq!(
        fn_.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        ["aws/odd.ini", "config/weak.yaml", "src/split.js"],
    );
    assert_eq!(
        fp.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        ["ci/state.yaml"]
    );
    // History-only secrets are attributed to the commit that introduced them, not at HEAD.
    let deleted = findings
        .iter()
        .find(|f| f.path == "legacy/settings.py")
        .unwrap();
    assert_eq!(deleted.at_head, Some(false));
    assert!(findings.iter().find(|f| f.path == ".env").unwrap().at_head == Some(true));
}
