//! What the `tessera` binary's tests share: the binary, its processes (`tessera serve`, `tessera
//! proxy`) on loopback ports, killed when dropped, and running it for its JSON output.
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// A child process, killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `tessera serve` (or `tessera proxy`) child and its base URL.
pub struct Server {
    /// Held so the process lives as long as the test (it is killed when dropped).
    #[allow(dead_code)]
    pub process: Process,
    pub base: String,
}

impl Server {
    /// The listening address (`127.0.0.1:PORT`), for raw sockets.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

/// Waits for the child's stderr line starting with `prefix` and returns the rest of it; the
/// rest of stderr is drained on a thread so the child never blocks on a full pipe.
pub fn line_after(child: &mut Child, prefix: &str) -> String {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let rest = loop {
        let line = lines.next().expect("process exited").unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            break rest.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    rest
}

/// Waits for the child's "tessera listening on ADDR" line on stderr and returns ADDR.
pub fn listening_address(child: &mut Child) -> String {
    let rest = line_after(child, "tessera listening on ");
    rest.split_whitespace().next().unwrap().to_string()
}

/// Spawns `tessera ARGS` (logging at `warn`) and waits for its stderr line starting with
/// `prefix`; returns the process and the rest of that line.
pub fn start(args: &[&str], prefix: &str) -> (Process, String) {
    start_with_env(args, prefix, &[])
}

/// [`start`] with extra environment variables (a key-encryption key for PostgreSQL, say).
pub fn start_with_env(args: &[&str], prefix: &str, env: &[(&str, &str)]) -> (Process, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rest = line_after(&mut child, prefix);
    (Process(child), rest)
}

/// Spawns `tessera ARGS` and waits for the address announced after `prefix`.
pub fn spawn(args: &[&str], prefix: &str) -> Server {
    let (process, rest) = start(args, prefix);
    let addr = rest.split_whitespace().next().unwrap();
    Server {
        process,
        base: format!("http://{addr}"),
    }
}

/// `tessera serve` on `db` with loopback listeners (and `extra` flags).
pub fn serve(db: &str, extra: &[&str]) -> Server {
    serve_with_env(db, extra, &[])
}

/// [`serve`] with extra environment variables.
pub fn serve_with_env(db: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut args = vec![
        "serve",
        "--database",
        db,
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    let (process, rest) = start_with_env(&args, "tessera listening on ", env);
    let addr = rest.split_whitespace().next().unwrap();
    Server {
        process,
        base: format!("http://{addr}"),
    }
}

/// Runs `tessera ARGS` with `stdin` and returns its output.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("TESSERA_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `tessera ARGS`, which must succeed, and parses its JSON output.
pub fn tessera(args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tessera {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether `f` holds within a second (a running server picks CLI changes up within its poll).
pub async fn eventually(mut f: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// A fresh SQLite database in a temporary directory: the directory (keep it) and the URL.
pub fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("t.db").display());
    (dir, db)
}

/// A client_credentials token request to `base` as `id` (Basic), with `extra` parameters.
pub async fn client_credentials(
    base: &str,
    id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The `kid`s `base/jwks` publishes.
pub async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks: serde_json::Value = reqwest::get(format!("{base}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}
