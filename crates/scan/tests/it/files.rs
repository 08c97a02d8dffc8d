//! Files and directories: planted secrets in code, CI files and dotfiles; decoys; ignored,
//! binary and oversized files.

use tessera_proto::TokenKind;
use tessera_scan::{ScanOptions, SourceMode};

use crate::support::{Tree, file_key, keys, secrets};

#[test]
fn finds_planted_secrets_in_code_ci_files_and_dotfiles_and_nothing_else() {
    let t = Tree::new();
    let cs = secrets::tessera(TokenKind::ClientSecret, 9);
    let at = secrets::tessera(TokenKind::AccessToken, 1234);
    t.write(
        "src/config.py",
        format!("import os\n\nCLIENT_SECRET = \"{cs}\"\nDEBUG = False\n"),
    );
    t.write(
        ".env",
        format!(
            "STRIPE_KEY={}\nDB_PASSWORD={}\n",
            secrets::stripe_live(1),
            secrets::password(2)
        ),
    );
    t.write(
        ".github/workflows/deploy.yml",
        format!("on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - env:\n          GH: {}\n", secrets::github(3)),
    );
    t.write(
        ".gitlab-ci.yml",
        format!(
            "variables:\n  AWS_ACCESS_KEY_ID: {}\n",
            secrets::aws_key_id(4)
        ),
    );
    t.write(
        "Dockerfile",
        format!("FROM alpine\nENV SLACK={}\n", secrets::slack_bot(5)),
    );
    t.write(
        "k8s/job.yaml",
        format!(
            "kind: Job\nspec:\n  env:\n    - value: \"Bearer {}\"\n",
            secrets::jwt(6)
        ),
    );
    t.write(
        "infra/main.tf",
        format!(
            "provider \"google\" {{}}\nlocals {{\n  maps = \"{}\"\n}}\n",
            secrets::google_key(7)
        ),
    );
    t.write("deploy/id_ec", secrets::pem(8));
    t.write(
        "Jenkinsfile",
        format!("pipeline {{\n  environment {{ T = '{at}' }}\n}}\n"),
    );
    // Decoys: documentation values, placeholders, a bad GitHub checksum, template references.
    t.write(
        "docs/setup.md",
        format!(
            "AWS_ACCESS_KEY_ID={}\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\npassword = \"${{DB_PASSWORD}}\"\n\
             token: ${{{{ secrets.DEPLOY_TOKEN }}}}\nSTRIPE={}\nGH={}\nsecret_key = \"your-secret-key-here\"\n",
            concat!("AKIA", "IOSFODNN7EXAMPLE"),
            concat!("sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"),
            secrets::github_bad_checksum(11),
        ),
    );
    // A Tessera typo: reported, but only as the low-severity tessera-malformed.
    t.write("notes.txt", format!("old token\n{}\n", secrets::typo(&at)));
    // Ignored, binary and oversized files are not read.
    t.write(".gitignore", "build/\n");
    t.write("build/out.log", format!("{cs}\n"));
    let mut binary = b"\x7fELF\x00\x00".to_vec();
    binary.extend_from_slice(cs.as_bytes());
    t.write("bin/tool", binary);
    t.write("big.txt", format!("{}{cs}\n", "x".repeat(2 * 1024 * 1024)));

    let opts = ScanOptions {
        max_file_size: 1024 * 1024,
        ..t.options(SourceMode::Files)
    };
    let (findings, stats) = tessera_scan::scan(&opts).unwrap();
    let mut expected = vec![
        file_key("tessera-client-secret", "src/config.py", 3),
        file_key("stripe-live-key", ".env", 1),
        file_key("password-assignment", ".env", 2),
        file_key("github-token", ".github/workflows/deploy.yml", 7),
        file_key("aws-access-key-id", ".gitlab-ci.yml", 2),
        file_key("slack-token", "Dockerfile", 2),
        file_key("jwt", "k8s/job.yaml", 4),
        file_key("google-api-key", "infra/main.tf", 3),
        file_key("private-key", "deploy/id_ec", 1),
        file_key("tessera-access-token", "Jenkinsfile", 2),
        file_key("tessera-malformed", "notes.txt", 2),
    ];
    expected.sort();
    assert_eq!(keys(&findings), expected);
    assert_eq!(stats.skipped, 2, "the binary and the oversized file");

    let cs_finding = findings
        .iter()
        .find(|f| f.rule == "tessera-client-secret")
        .unwrap();
    assert_eq!(cs_finding.column, 18);
    let leak = cs_finding.tessera.as_ref().unwrap();
    assert_eq!((leak.kind, leak.selector), ("cs", 9));
    assert_eq!(
        leak.sha256,
        tessera_proto::TokenString::parse(&cs)
            .unwrap()
            .hash
            .to_hex()
    );
    let malformed = findings
        .iter()
        .find(|f| f.rule == "tessera-malformed")
        .unwrap();
    assert!(
        malformed.tessera.is_none(),
        "a typo is never sent to the server"
    );
}

#[test]
fn a_single_file_argument_is_shown_as_given() {
    let t = Tree::new();
    t.write(
        "app.env",
        format!("TOKEN={}\n", secrets::tessera(TokenKind::RefreshToken, 5)),
    );
    let path = t.path().join("app.env");
    let opts = ScanOptions {
        paths: vec![path.clone()],
        ..ScanOptions::default()
    };
    let (findings, _) = tessera_scan::scan(&opts).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].path, path.to_string_lossy());
    assert_eq!((findings[0].line, findings[0].column), (1, 7));
}

#[test]
fn a_missing_path_is_an_error() {
    let opts = ScanOptions {
        paths: vec!["/nonexistent/tessera-scan".into()],
        ..ScanOptions::default()
    };
    assert!(tessera_scan::run(&opts, &mut Vec::new()).is_err());
}

#[test]
fn no_ignore_scans_ignored_files_too() {
    let t = Tree::new();
    t.write(".gitignore", ".env\n");
    t.write(".env", format!("K={}\n", secrets::stripe_live(3)));
    assert!(t.scan(SourceMode::Files).is_empty());
    let opts = ScanOptions {
        no_ignore: true,
        ..t.options(SourceMode::Files)
    };
    let (findings, _) = tessera_scan::scan(&opts).unwrap();
    assert_eq!(keys(&findings), [file_key("stripe-live-key", ".env", 1)]);
}
