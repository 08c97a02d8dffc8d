//! Git sources: history (deleted secrets, branches, tags, repeated blobs), HEAD and the index.

use std::process::Command;

use tessera_proto::TokenKind;
use tessera_scan::SourceMode;

use crate::support::{Tree, keys, secrets};

fn key(
    rule: &'static str,
    path: &str,
    line: usize,
    commit: &str,
    at_head: Option<bool>,
) -> crate::support::Key {
    (
        rule,
        path.to_owned(),
        line,
        Some(commit.to_owned()),
        at_head,
    )
}

/// main: c1 adds a refresh token and a GitHub token; c2 deletes the refresh token (history only)
/// and edits around the GitHub token (same secret, new blob); c4 adds placeholders.
/// feature (tagged, never merged): c3 adds an AWS key id.
fn history_repo() -> (Tree, [String; 4], String) {
    let mut t = Tree::repo();
    let rt = secrets::tessera(TokenKind::RefreshToken, 77);
    let gh = secrets::github(21);
    t.write("README.md", "# demo\n");
    t.write(
        "config/app.env",
        format!("NAME=demo\nREFRESH={rt}\nGITHUB={gh}\n"),
    );
    let c1 = t.commit("add config");
    t.write(
        "config/app.env",
        format!("NAME=demo\n# moved\nPORT=8080\nGITHUB={gh}\n"),
    );
    let c2 = t.commit("drop the refresh token");
    t.git(&["checkout", "-q", "-b", "feature"]);
    t.write(
        "deploy/aws.cfg",
        format!(
            "[default]\naws_access_key_id = {}\n",
            secrets::aws_key_id(31)
        ),
    );
    let c3 = t.commit("feature: aws");
    t.git(&["tag", "-a", "v0-feature", "-m", "tagged"]);
    t.git(&["checkout", "-q", "main"]);
    t.write(
        ".env.example",
        "DB_PASSWORD=changeme\nAPI_KEY=<your-api-key>\n",
    );
    let c4 = t.commit("placeholders");
    (t, [c1, c2, c3, c4], rt)
}

#[test]
fn history_finds_every_secret_once_at_the_commit_that_introduced_it() {
    let (t, [c1, _c2, c3, _c4], _) = history_repo();
    let (findings, stats) = tessera_scan::scan(&t.options(SourceMode::History)).unwrap();
    let mut expected = vec![
        key(
            "tessera-refresh-token",
            "config/app.env",
            2,
            &c1,
            Some(false),
        ),
        key("github-token", "config/app.env", 3, &c1, Some(true)),
        key("aws-access-key-id", "deploy/aws.cfg", 2, &c3, Some(false)),
    ];
    expected.sort();
    assert_eq!(keys(&findings), expected);

    // Every blob reachable from every ref, each read exactly once.
    let out = Command::new("git")
        .args(["rev-list", "--all", "--objects"])
        .current_dir(t.path())
        .output()
        .unwrap();
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let blobs = ids
        .iter()
        .filter(|id| t.git(&["cat-file", "-t", id]).trim() == "blob")
        .count();
    assert_eq!(stats.scanned + stats.skipped, blobs as u64);
}

#[test]
fn history_reports_a_blob_reachable_only_from_a_tag() {
    let (t, _, _) = history_repo();
    t.git(&["branch", "-D", "feature"]);
    let findings = t.scan(SourceMode::History);
    assert!(
        findings.iter().any(|f| f.rule == "aws-access-key-id"),
        "the annotated tag keeps it alive"
    );
}

#[test]
fn head_mode_scans_only_the_committed_tree() {
    let (t, [_, c2, _, c4], _) = history_repo();
    t.write(
        "uncommitted.env",
        format!("K={}\n", secrets::stripe_live(8)),
    );
    let findings = t.scan(SourceMode::GitHead);
    assert_eq!(
        keys(&findings),
        [key("github-token", "config/app.env", 4, &c4, None)]
    );
    assert_ne!(c2, c4);
}

#[test]
fn staged_scans_only_what_the_next_commit_adds() {
    let (t, _, _) = history_repo();
    let cs = secrets::tessera(TokenKind::ClientSecret, 3);
    t.write("service.yaml", format!("client:\n  secret: {cs}\n"));
    t.write("unstaged.env", format!("K={}\n", secrets::stripe_live(8)));
    t.git(&["add", "service.yaml"]);
    let findings = t.scan(SourceMode::Staged);
    assert_eq!(
        keys(&findings),
        [(
            "tessera-client-secret",
            "service.yaml".to_owned(),
            2,
            None,
            None
        )]
    );
    // The exit code a pre-commit hook sees.
    let (code, _) = crate::support::run(&t.options(SourceMode::Staged));
    assert_eq!(code, 1);
    t.git(&["reset", "-q", "service.yaml"]);
    let (code, _) = crate::support::run(&t.options(SourceMode::Staged));
    assert_eq!(code, 0);
}

#[test]
fn a_path_that_is_not_a_repository_is_an_error() {
    let t = Tree::new();
    let opts = t.options(SourceMode::History);
    let err = tessera_scan::run(&opts, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().starts_with("git:"), "{err}");
}
