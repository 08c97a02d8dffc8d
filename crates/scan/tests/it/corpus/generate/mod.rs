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

use templates::*;

mod decoys;
mod templates;

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
