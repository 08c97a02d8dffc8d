//! A seeded generator of labelled git repositories for the corpus test.
//!
//! Built from a description of what real repositories hold, not from the rule table: `.env*`
//! files, CI workflows, Kubernetes manifests (`stringData:`, `env: - name/value`), JSON config,
//! GCP service-account keys, Go, Python and compose files, logs and docs. Every secret line is
//! labelled; so is every decoy — placeholders (`changeme`, `<password>`, `xxxx`,
//! `your-password-here`), references (`${VAR}`, `$(VAR)`, `{{ .Values.x }}`, `os.Getenv`,
//! `secretKeyRef`), test fixtures marked as such, and one-character near misses of real tokens
//! (Tessera tokens with a bad checksum, GitHub tokens one character short or long). Secrets are
//! planted in files and in history: some files are deleted or rewritten without their secret in
//! later commits, and one branch is never merged.

use std::collections::{BTreeMap, BTreeSet};

use tessera_proto::TokenKind;

use crate::support::{Tree, secrets};

/// splitmix64: small, deterministic, good enough to pick templates and characters.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn string(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const PW_SYMBOLS: &[u8] = b"!@%^&*-_+=.?";
const WORDS: &[&str] = &[
    "Falcon", "Winter", "Harbor", "Copper", "Meadow", "Orbit", "Lantern", "Pepper", "Summit",
    "Velvet", "Granite", "Maple", "Cobalt", "Tundra", "Juniper",
];
const SERVICES: &[&str] = &[
    "billing", "checkout", "search", "ledger", "notify", "gateway", "reports", "identity",
];

/// What the scanner should say about a labelled line.
#[derive(Clone, Copy, Debug)]
enum Label {
    /// A secret of this class: exactly one finding (any rule) on this line.
    Secret(&'static str),
    /// A valid Tessera token: exactly this rule on this line.
    Tessera(&'static str),
    /// A Tessera string with a bad checksum: `tessera-malformed` (a note), never a token rule.
    NearMiss,
    /// Nothing may be reported on this line.
    Decoy(&'static str),
}

/// The ground truth of one generated repository.
#[derive(Default, Debug)]
pub struct Labels {
    /// (path, line) → secret class.
    pub secrets: BTreeMap<(String, usize), &'static str>,
    /// (rule, path, line) of every valid Tessera token.
    pub tessera: BTreeSet<(&'static str, String, usize)>,
    /// (path, line) of every Tessera near miss (bad checksum).
    pub near_misses: BTreeSet<(String, usize)>,
    /// (path, line) → decoy class.
    pub decoys: BTreeMap<(String, usize), &'static str>,
}

/// A file being written: its path and labelled lines.
#[derive(Clone)]
struct Doc {
    path: String,
    lines: Vec<(String, Option<Label>)>,
}

impl Doc {
    fn new(path: String) -> Self {
        Self {
            path,
            lines: Vec::new(),
        }
    }
    fn line(&mut self, text: impl Into<String>) -> &mut Self {
        self.lines.push((text.into(), None));
        self
    }
    fn secret(&mut self, class: &'static str, text: impl Into<String>) -> &mut Self {
        self.lines.push((text.into(), Some(Label::Secret(class))));
        self
    }
    fn decoy(&mut self, class: &'static str, text: impl Into<String>) -> &mut Self {
        self.lines.push((text.into(), Some(Label::Decoy(class))));
        self
    }
    fn text(&self) -> String {
        let mut s: String = self
            .lines
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        s.push('\n');
        s
    }
}

struct Gen {
    rng: Rng,
    tree: Tree,
    labels: Labels,
    dirs: usize,
    selector: u64,
}

/// Builds the repository for `seed` and returns it with its labels.
pub fn build(seed: u64) -> (Tree, Labels) {
    let mut g = Gen {
        rng: Rng::new(seed),
        tree: Tree::repo(),
        labels: Labels::default(),
        dirs: 0,
        selector: seed * 1000,
    };
    // 1. A first batch; then half its files deleted and some rewritten without their secrets.
    let first = g.batch(TEMPLATES.len());
    g.commit(&first, "initial import");
    g.retire(&first, "remove credentials");
    // 2. A second batch (every template again, in another order) plus decoy-only files.
    let mut second = g.batch(TEMPLATES.len() + 4);
    second.extend(g.decoy_files());
    g.commit(&second, "add services");
    // 3. A branch that is never merged.
    g.tree.git(&["checkout", "-q", "-b", "wip/experiment"]);
    let wip = g.batch(3);
    g.commit(&wip, "wip");
    g.tree.git(&["checkout", "-q", "main"]);
    // 4. Part of the second batch removed; a last batch stays at HEAD.
    g.retire(&second, "cleanup");
    let last = g.batch(6);
    g.commit(&last, "current state");
    (g.tree, g.labels)
}

type Template = fn(&mut Gen, &str) -> Doc;

const TEMPLATES: &[Template] = &[
    dotenv,
    workflow,
    k8s_secret,
    k8s_deployment,
    json_config,
    gcp_service_account,
    go_source,
    compose,
    python_settings,
    third_party,
    tessera_tokens,
    key_files,
];

impl Gen {
    fn dir(&mut self) -> String {
        self.dirs += 1;
        format!("{}-{}", self.rng.pick(SERVICES), self.dirs)
    }

    fn batch(&mut self, n: usize) -> Vec<Doc> {
        let offset = self.rng.below(TEMPLATES.len());
        (0..n)
            .map(|i| {
                let template = if i < TEMPLATES.len() {
                    TEMPLATES[(i + offset) % TEMPLATES.len()]
                } else {
                    *self.rng.pick(TEMPLATES)
                };
                let dir = self.dir();
                template(self, &dir)
            })
            .collect()
    }

    fn record(&mut self, doc: &Doc) {
        for (i, (_, label)) in doc.lines.iter().enumerate() {
            let key = (doc.path.clone(), i + 1);
            match label {
                None => {}
                Some(Label::Secret(class)) => {
                    assert!(self.labels.secrets.insert(key, class).is_none());
                }
                Some(Label::Tessera(rule)) => {
                    self.labels.tessera.insert((rule, key.0.clone(), key.1));
                    self.labels.secrets.insert(key, rule);
                }
                Some(Label::NearMiss) => {
                    self.labels.near_misses.insert(key);
                }
                Some(Label::Decoy(class)) => {
                    self.labels.decoys.insert(key, class);
                }
            }
        }
    }

    fn commit(&mut self, docs: &[Doc], message: &str) {
        for doc in docs {
            self.tree.write(&doc.path, doc.text());
            self.record(doc);
        }
        self.tree.commit(message);
    }

    /// Deletes about half of `docs` and rewrites about a quarter with every secret replaced by a
    /// placeholder (below a header as long as the old file, so no new line shares a number with
    /// a labelled old one); the secrets stay in history.
    fn retire(&mut self, docs: &[Doc], message: &str) {
        for doc in docs {
            match self.rng.below(4) {
                0 | 1 => self.tree.remove(&doc.path),
                2 => {
                    let mut rotated = Doc::new(doc.path.clone());
                    for _ in 0..doc.lines.len() {
                        rotated.line("# rotated: value moved to the secret store");
                    }
                    for (text, label) in &doc.lines {
                        match label {
                            Some(Label::Secret(_) | Label::Tessera(_)) => {
                                let indent: String =
                                    text.chars().take_while(|c| c.is_whitespace()).collect();
                                rotated.decoy(
                                    "rotated-out",
                                    format!("{indent}# secret removed; see the vault"),
                                );
                            }
                            // An unchanged near miss collapses onto its first commit.
                            Some(Label::NearMiss) => {
                                rotated.lines.push((text.clone(), None));
                            }
                            _ => {
                                rotated.lines.push((text.clone(), *label));
                            }
                        }
                    }
                    self.tree.write(&rotated.path, rotated.text());
                    self.record(&rotated);
                }
                _ => {}
            }
        }
        self.tree.commit(message);
    }

    // --- Values -------------------------------------------------------------------------

    /// A password as people and generators make them: random with symbols, word + digits +
    /// symbol, or URL-safe random.
    fn password(&mut self) -> String {
        match self.rng.below(3) {
            0 => {
                let len = 10 + self.rng.below(12);
                let mut pw = self.rng.string(1, LETTERS);
                for _ in 1..len {
                    let alphabet = if self.rng.chance(1, 6) {
                        PW_SYMBOLS
                    } else {
                        ALNUM
                    };
                    pw.push_str(&self.rng.string(1, alphabet));
                }
                pw.push_str(&self.rng.string(1, b"0123456789"));
                pw
            }
            1 => {
                let word = *self.rng.pick(WORDS);
                let n = 2 + self.rng.below(3);
                let digits = self.rng.string(n, b"0123456789");
                let symbol = self.rng.string(1, b"!@%^&*?.");
                format!("{word}{digits}{symbol}")
            }
            _ => {
                let len = 16 + self.rng.below(8);
                let mut pw = self.rng.string(1, LETTERS);
                pw.push_str(&self.rng.string(len, B64URL));
                pw
            }
        }
    }

    fn placeholder(&mut self) -> (&'static str, String) {
        let options: [(&'static str, String); 8] = [
            ("placeholder", "changeme".into()),
            ("placeholder", "<password>".into()),
            ("placeholder", "xxxxxxxxxxxx".into()),
            ("placeholder", "your-password-here".into()),
            ("reference", "${DB_PASSWORD}".into()),
            ("reference", "$(DB_PASSWORD)".into()),
            ("reference", "{{ .Values.db.password }}".into()),
            ("placeholder", "CHANGE_ME".into()),
        ];
        let i = self.rng.below(options.len());
        options[i].clone()
    }

    fn tessera(&mut self, kind: TokenKind) -> String {
        self.selector += 1;
        secrets::tessera(kind, self.selector)
    }

    fn github_classic(&mut self) -> String {
        let s = self.rng.below(1 << 30) as u64;
        secrets::github(s)
    }

    /// `github_pat_` + 22 + `_` + 59 base62: GitHub's fine-grained format, no checksum assumed.
    fn github_pat(&mut self) -> String {
        let id = format!("11{}", self.rng.string(20, ALNUM));
        format!("github_pat_{id}_{}", self.rng.string(59, ALNUM))
    }

    fn pem_lines(&mut self, n: usize) -> Vec<String> {
        let mut lines = vec![format!(
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ{}",
            self.rng.string(14, B64)
        )];
        for _ in 1..n {
            lines.push(self.rng.string(64, B64));
        }
        lines
    }
}

/// Replaces the value in a `KEY=value`-like line built by `f` with a placeholder decoy.
fn decoy_or_secret(g: &mut Gen, doc: &mut Doc, class: &'static str, f: impl Fn(&str) -> String) {
    if g.rng.chance(2, 3) {
        let pw = g.password();
        doc.secret(class, f(&pw));
    } else {
        let (kind, value) = g.placeholder();
        doc.decoy(kind, f(&value));
    }
}

// --- Templates ------------------------------------------------------------------------------

fn dotenv(g: &mut Gen, dir: &str) -> Doc {
    let name = *g
        .rng
        .pick(&[".env", ".env.production", ".env.local", ".env.staging"]);
    let mut d = Doc::new(format!("{dir}/{name}"));
    d.line(format!("# {dir} settings"))
        .line("APP_ENV=production")
        .line("DB_HOST=db.internal");
    let pw = g.password();
    d.secret("password-env", format!("DB_PASSWORD={pw}"));
    let pw = g.password();
    let style = *g.rng.pick(&[
        "export PGPASSWORD='{}'",
        "REDIS_PASS=\"{}\"",
        "SMTP_PASSWORD={}",
    ]);
    d.secret("password-env", style.replace("{}", &pw));
    if g.rng.chance(1, 2) {
        let pat = g.github_pat();
        let name = *g.rng.pick(&["GH_TOKEN", "GH_PAT", "CR_PAT", "GITHUB_PAT"]);
        d.secret("github-fine-grained", format!("{name}={pat}"));
    }
    let (kind, value) = g.placeholder();
    d.decoy(kind, format!("ADMIN_PASSWORD={value}"));
    d.decoy("reference", "CACHE_PASSWORD=${CACHE_PASSWORD:-}");
    d.line("LOG_LEVEL=info");
    d
}

fn workflow(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/.github/workflows/deploy.yml"));
    d.line("name: deploy")
        .line("on: [push]")
        .line("jobs:")
        .line("  deploy:")
        .line("    runs-on: ubuntu-latest")
        .line("    env:");
    let pat = g.github_pat();
    let name = *g.rng.pick(&["GH_TOKEN", "GH_PAT", "REGISTRY_PAT"]);
    d.secret("github-fine-grained", format!("      {name}: {pat}"));
    d.decoy("reference", "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}");
    decoy_or_secret(g, &mut d, "password-yaml", |v| {
        format!("      DEPLOY_PASSWORD: \"{v}\"")
    });
    d.line("    steps:")
        .line("      - uses: actions/checkout@v4")
        .line("      - run: ./scripts/deploy.sh")
        .line("        env:");
    if g.rng.chance(1, 2) {
        let t = g.github_classic();
        d.secret("github-classic", format!("          GITHUB_TOKEN: {t}"));
    } else {
        // One character short: not GitHub's format.
        let pat = g.github_pat();
        d.decoy(
            "near-miss-github",
            format!("          GITHUB_TOKEN: {}", &pat[..pat.len() - 1]),
        );
    }
    d
}

fn k8s_secret(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/k8s/secret.yaml"));
    d.line("apiVersion: v1")
        .line("kind: Secret")
        .line("metadata:")
        .line(format!("  name: {dir}-db"))
        .line("type: Opaque")
        .line("stringData:")
        .line("  username: app");
    let pw = g.password();
    d.secret("password-k8s", format!("  password: {pw}"));
    decoy_or_secret(g, &mut d, "password-k8s", |v| {
        format!("  DB_PASSWORD: \"{v}\"")
    });
    d.decoy("reference", "  api-token: \"{{ .Values.apiToken }}\"");
    d
}

fn k8s_deployment(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/deploy/deployment.yaml"));
    d.line("apiVersion: apps/v1")
        .line("kind: Deployment")
        .line("metadata:")
        .line(format!("  name: {dir}"))
        .line("spec:")
        .line("  template:")
        .line("    spec:")
        .line("      containers:")
        .line("        - name: app")
        .line("          image: registry.internal/app:1.4.2")
        .line("          env:")
        .line("            - name: DB_HOST")
        .line("              value: db.internal")
        .line("            - name: DB_PASSWORD");
    let pw = g.password();
    d.secret("password-k8s-env", format!("              value: \"{pw}\""));
    d.line("            - name: CACHE_PASSWORD")
        .line("              valueFrom:")
        .line("                secretKeyRef:")
        .line("                  name: cache")
        .decoy("reference", "                  key: password")
        .line("            - name: ADMIN_PASSWORD");
    let (kind, value) = g.placeholder();
    d.decoy(kind, format!("              value: {value}"));
    d
}

fn json_config(g: &mut Gen, dir: &str) -> Doc {
    let env = *g.rng.pick(&["production", "staging", "default"]);
    let mut d = Doc::new(format!("{dir}/config/{env}.json"));
    d.line("{")
        .line("  \"database\": {")
        .line("    \"host\": \"db.internal\",")
        .line("    \"user\": \"app\",");
    let pw = g.password();
    d.secret("password-json", format!("    \"password\": \"{pw}\""));
    d.line("  },").line("  \"smtp\": {");
    let (kind, value) = g.placeholder();
    d.decoy(kind, format!("    \"password\": \"{value}\","));
    decoy_or_secret(g, &mut d, "password-json", |v| {
        format!("    \"smtp_password\": \"{v}\"")
    });
    d.line("  },")
        .line("  \"containerDefinitions\": [{\"environment\": [");
    let pw = g.password();
    d.secret(
        "password-ecs",
        format!("    {{\"name\": \"DB_PASSWORD\", \"value\": \"{pw}\"}},"),
    );
    d.line("    {\"name\": \"DB_HOST\", \"value\": \"db.internal\"}")
        .line("  ]}]")
        .line("}");
    d
}

fn gcp_service_account(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/keys/service-account.json"));
    let key_id = g.rng.string(40, b"0123456789abcdef");
    let body = g.pem_lines(25).join("\\n");
    d.line("{")
        .line("  \"type\": \"service_account\",")
        .line(format!("  \"project_id\": \"{dir}-prod\","))
        .decoy("key-id", format!("  \"private_key_id\": \"{key_id}\","));
    d.secret(
        "private-key-json",
        format!(
            "  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n\","
        ),
    );
    d.line(format!(
        "  \"client_email\": \"deploy@{dir}-prod.iam.gserviceaccount.com\","
    ))
    .line("  \"token_uri\": \"https://oauth2.googleapis.com/token\"")
    .line("}");
    d
}

fn go_source(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/cmd/server/main.go"));
    d.line("package main")
        .line("")
        .line("import (")
        .line("\t\"os\"")
        .line("\t\"os/exec\"")
        .line(")")
        .line("");
    let pw = g.password();
    d.secret("password-go", format!("const adminPassword = \"{pw}\""));
    d.line("").line("func main() {");
    let pw = g.password();
    d.secret("password-go", format!("\tpassword := \"{pw}\""));
    d.decoy("reference", "\tdbPassword := os.Getenv(\"DB_PASSWORD\")");
    d.line("\tcmd := exec.Command(\"migrate\")");
    let pw = g.password();
    d.secret(
        "password-go",
        format!("\tcmd.Env = append(os.Environ(), \"DB_PASSWORD={pw}\")"),
    );
    d.decoy("reference", "\tcfg := Config{Password: dbPassword}");
    let pw = g.password();
    d.secret(
        "password-go",
        format!("\tadmin := User{{Name: \"admin\", Password: \"{pw}\"}}"),
    );
    let pw = g.password();
    d.secret(
        "password-go",
        format!("\tos.Setenv(\"SMTP_PASSWORD\", \"{pw}\")"),
    );
    d.line("\t_ = password").line("\t_ = cfg").line("}");
    d
}

fn compose(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/docker-compose.yml"));
    d.line("services:")
        .line("  db:")
        .line("    image: postgres:16")
        .line("    environment:");
    let pw = g.password();
    d.secret(
        "password-compose",
        format!("      - POSTGRES_PASSWORD={pw}"),
    );
    d.line("      - POSTGRES_USER=app")
        .line("  cache:")
        .line("    image: redis:7")
        .line("    environment:");
    d.decoy(
        "reference",
        "      REDIS_PASSWORD: ${REDIS_PASSWORD:-changeme}",
    );
    decoy_or_secret(g, &mut d, "password-compose", |v| {
        format!("      MYSQL_ROOT_PASSWORD: \"{v}\"")
    });
    d
}

fn python_settings(g: &mut Gen, dir: &str) -> Doc {
    let mut d = Doc::new(format!("{dir}/app/settings.py"));
    d.line("import os").line("").line("DEBUG = False");
    let key = format!("{}{}", g.rng.string(1, LETTERS), g.rng.string(49, ALNUM));
    d.secret("secret-key", format!("SECRET_KEY = \"{key}\""));
    let pw = g.password();
    d.secret("password-python", format!("DATABASE_PASSWORD = '{pw}'"));
    d.decoy(
        "reference",
        "EMAIL_PASSWORD = os.environ[\"EMAIL_PASSWORD\"]",
    );
    let pw = g.password();
    d.secret(
        "password-python",
        format!("conn = psycopg2.connect(host=\"db\", user=\"app\", password=\"{pw}\")"),
    );
    d.decoy(
        "reference",
        "CACHE_PASSWORD = os.getenv(\"CACHE_PASSWORD\", \"\")",
    );
    d
}

fn third_party(g: &mut Gen, dir: &str) -> Doc {
    match g.rng.below(5) {
        0 => {
            let mut d = Doc::new(format!("{dir}/aws/credentials"));
            let id = secrets::aws_key_id(g.rng.below(1 << 30) as u64);
            let secret = secrets::aws_secret(g.rng.below(1 << 30) as u64);
            d.line("[default]")
                .secret("aws-key-id", format!("aws_access_key_id = {id}"))
                .secret("aws-secret", format!("aws_secret_access_key = {secret}"));
            d
        }
        1 => {
            let mut d = Doc::new(format!("{dir}/Dockerfile"));
            let t = secrets::slack_bot(g.rng.below(1 << 30) as u64);
            d.line("FROM debian:12")
                .secret("slack-token", format!("ENV SLACK_BOT_TOKEN={t}"))
                .line("CMD [\"/app\"]");
            d
        }
        2 => {
            let mut d = Doc::new(format!("{dir}/scripts/notify.sh"));
            let hook = secrets::slack_webhook(g.rng.below(1 << 30) as u64);
            let jwt = secrets::jwt(g.rng.below(1 << 30) as u64);
            d.line("#!/bin/sh")
                .secret("slack-webhook", format!("curl -X POST {hook} -d @msg.json"))
                .secret(
                    "jwt",
                    format!("curl -H \"Authorization: Bearer {jwt}\" https://api.internal/"),
                );
            d
        }
        3 => {
            let mut d = Doc::new(format!("{dir}/.env.payments"));
            let sk = secrets::stripe_live(g.rng.below(1 << 30) as u64);
            let test_key = secrets::stripe_test(g.rng.below(1 << 30) as u64);
            d.secret("stripe", format!("STRIPE_SECRET_KEY={sk}"))
                .secret("stripe-test", format!("STRIPE_TEST_KEY={test_key}"))
                .decoy(
                    "placeholder",
                    "STRIPE_WEBHOOK_SECRET=whsec_your_webhook_secret_here",
                );
            d
        }
        _ => {
            let mut d = Doc::new(format!("{dir}/web/index.html"));
            let k = secrets::google_key(g.rng.below(1 << 30) as u64);
            d.line("<!doctype html>").secret(
                "google-api-key",
                format!(
                    "<script src=\"https://maps.googleapis.com/maps/api/js?key={k}\"></script>"
                ),
            );
            d
        }
    }
}

fn tessera_tokens(g: &mut Gen, dir: &str) -> Doc {
    let kinds: [(TokenKind, &'static str, &'static str); 5] = [
        (
            TokenKind::AccessToken,
            "tessera-access-token",
            "ACCESS_TOKEN",
        ),
        (
            TokenKind::RefreshToken,
            "tessera-refresh-token",
            "refresh_token",
        ),
        (
            TokenKind::ClientSecret,
            "tessera-client-secret",
            "TESSERA_CLIENT_SECRET",
        ),
        (
            TokenKind::AuthorizationCode,
            "tessera-authorization-code",
            "code",
        ),
        (
            TokenKind::RegistrationToken,
            "tessera-registration-token",
            "registration_access_token",
        ),
    ];
    let mut d = Doc::new(format!("{dir}/ops/tessera.yaml"));
    d.line("# how this service talks to the authorization server");
    for &(kind, rule, name) in &kinds {
        if g.rng.chance(3, 5) {
            let t = g.tessera(kind);
            d.lines
                .push((format!("{name}: {t}"), Some(Label::Tessera(rule))));
        }
        if g.rng.chance(1, 3) {
            // A one-character typo: the checksum fails.
            let t = g.tessera(kind);
            d.lines.push((
                format!("old_{name}: {}", secrets::typo(&t)),
                Some(Label::NearMiss),
            ));
        }
        if g.rng.chance(1, 4) {
            // One character short: not a Tessera string at all.
            let t = g.tessera(kind);
            d.decoy(
                "near-miss-tessera",
                format!("truncated_{name}: {}", &t[..t.len() - 1]),
            );
        }
    }
    // A checksummed token is reported even under a fixture marker: it is a token wherever it is.
    let t = g.tessera(TokenKind::AccessToken);
    d.line("# test fixture");
    d.lines.push((
        format!("log: \"GET /api 200 Authorization: Bearer {t}\""),
        Some(Label::Tessera("tessera-access-token")),
    ));
    d
}

fn key_files(g: &mut Gen, dir: &str) -> Doc {
    if g.rng.chance(1, 3) {
        let mut d = Doc::new(format!("{dir}/.ssh/id_deploy"));
        let key = secrets::openssh_key(g.rng.below(1 << 30) as u64);
        for (i, line) in key.lines().enumerate() {
            if i == 0 {
                d.secret("private-key", line);
            } else {
                d.line(line);
            }
        }
        return d;
    }
    let kind = *g.rng.pick(&["RSA ", "EC ", "OPENSSH ", ""]);
    let mut d = Doc::new(format!("{dir}/certs/server.key"));
    d.secret("private-key", format!("-----BEGIN {kind}PRIVATE KEY-----"));
    for l in g.pem_lines(12) {
        d.line(l);
    }
    d.line(format!("-----END {kind}PRIVATE KEY-----"));
    d
}

impl Gen {
    /// Files holding only decoys: documentation, Helm templates, marked test fixtures.
    fn decoy_files(&mut self) -> Vec<Doc> {
        let dir = self.dir();
        let mut docs = Vec::new();

        let mut readme = Doc::new(format!("{dir}/README.md"));
        let pat = self.github_pat();
        let classic = self.github_classic();
        readme
            .line("# Setup")
            .line("")
            .decoy("placeholder", "    export DB_PASSWORD=<password>")
            .decoy("placeholder", "    export DB_PASSWORD=your-password-here")
            .decoy(
                "placeholder",
                "    GH_TOKEN=github_pat_xxxxxxxxxxxxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            )
            .decoy(
                "near-miss-github",
                format!("    GH_TOKEN={}", &pat[..pat.len() - 1]),
            )
            .decoy("near-miss-github", format!("    GH_TOKEN={pat}x"))
            .decoy(
                "near-miss-github",
                format!("    GITHUB_TOKEN={}", &classic[..classic.len() - 1]),
            )
            .decoy(
                "near-miss-github",
                format!("    GITHUB_TOKEN={}", secrets::github_bad_checksum(self.selector)),
            )
            .decoy("placeholder", "    password: changeme")
            .decoy("placeholder", "    \"password\": \"xxxx\"");
        let t = self.tessera(TokenKind::ClientSecret);
        readme.lines.push((
            format!("    TESSERA_CLIENT_SECRET={}", secrets::typo(&t)),
            Some(Label::NearMiss),
        ));
        docs.push(readme);

        let mut helm = Doc::new(format!("{dir}/chart/templates/secret.yaml"));
        helm.line("apiVersion: v1")
            .line("kind: Secret")
            .line("stringData:")
            .decoy("reference", "  password: {{ .Values.db.password | quote }}")
            .decoy("reference", "  DB_PASSWORD: \"{{ .Values.db.password }}\"")
            .decoy(
                "reference",
                "  api-token: {{ required \"token\" .Values.token }}",
            );
        docs.push(helm);

        // Test fixtures marked as such: a file-wide header, and a marker beside one value.
        let mut fixture = Doc::new(format!("{dir}/testdata/fixture.env"));
        fixture.line("# Test fixture: not a real secret. Used by the config loader tests.");
        for _ in 0..3 {
            let pw = self.password();
            fixture.decoy("fixture", format!("DB_PASSWORD={pw}"));
        }
        docs.push(fixture);

        let mut go_test = Doc::new(format!("{dir}/internal/auth/login_test.go"));
        let pw = self.password();
        go_test
            .line("package auth")
            .line("")
            .line("func TestLogin(t *testing.T) {")
            .line("\t// test fixture: not a real password")
            .decoy("fixture", format!("\tpassword := \"{pw}\""))
            .line("\tif !check(password) {")
            .line("\t\tt.Fatal(\"rejected\")")
            .line("\t}")
            .line("}");
        docs.push(go_test);

        let mut json = Doc::new(format!("{dir}/testdata/users.json"));
        let pw = self.password();
        json.line("{")
            .line("  \"_comment\": \"test fixture: not a real secret\",")
            .decoy("fixture", format!("  \"password\": \"{pw}\""))
            .line("}");
        docs.push(json);
        docs
    }
}
