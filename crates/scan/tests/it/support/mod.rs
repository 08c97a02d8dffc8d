//! Test harness: temp trees and real git repositories (driven through the `git` CLI, isolated
//! from the user's config), secrets generated at run time (so no secret sits in this file), and a
//! one-shot HTTP server standing in for the authorization server's leak endpoint.

pub mod http;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;
use tessera_scan::{Finding, ScanOptions, SourceMode};

/// A temp directory to build a tree or repository in.
pub struct Tree {
    pub dir: TempDir,
    commits: u32,
}

impl Tree {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            commits: 0,
        }
    }

    /// A fresh repository on branch `main`.
    pub fn repo() -> Self {
        let tree = Self::new();
        tree.git(&["init", "-q", "-b", "main"]);
        tree
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `content` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join(rel)).unwrap();
    }

    /// Runs git in the tree with a pinned identity and no user or system config; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let date = format!("2024-01-01T00:00:{:02}+0000", self.commits.min(59));
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `git add -A && git commit`; returns the new commit's full id.
    pub fn commit(&mut self, message: &str) -> String {
        self.commits += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Options scanning this tree in `mode`.
    pub fn options(&self, mode: SourceMode) -> ScanOptions {
        ScanOptions {
            paths: vec![PathBuf::from(self.path())],
            mode,
            ..ScanOptions::default()
        }
    }

    /// Scans and returns the findings.
    pub fn scan(&self, mode: SourceMode) -> Vec<Finding> {
        tessera_scan::scan(&self.options(mode))
            .expect("scan succeeds")
            .0
    }
}

/// The comparable part of a finding: rule, path, line, commit, at_head.
pub type Key = (&'static str, String, usize, Option<String>, Option<bool>);

pub fn keys(findings: &[Finding]) -> Vec<Key> {
    let mut keys: Vec<Key> = findings
        .iter()
        .map(|f| (f.rule, f.path.clone(), f.line, f.commit.clone(), f.at_head))
        .collect();
    keys.sort();
    keys
}

/// A key for a file finding (no commit).
pub fn file_key(rule: &'static str, path: &str, line: usize) -> Key {
    (rule, path.to_owned(), line, None, None)
}

/// Runs the full pipeline (baseline, server, report) and returns (exit code, output).
pub fn run(opts: &ScanOptions) -> (i32, String) {
    let mut out = Vec::new();
    let code = tessera_scan::run(opts, &mut out).expect("run succeeds");
    (code, String::from_utf8(out).unwrap())
}
