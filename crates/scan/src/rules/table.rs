//! The curated rule table: every detector the scanner knows, as data.
//!
//! Order matters: when two rules match overlapping bytes, the earlier (more specific) rule wins,
//! so checksummed formats come first and the generic assignment rule last. Example secrets are
//! assembled with `concat!` so this file never holds one contiguously (and never trips a scanner).

use tessera_proto::TokenKind;

use super::{Rule, Severity, Validator};

const TSR: &[&str] = &["tsr_"];
const GENERIC_KEYWORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "credential",
];

/// Names under which a value is a password.
const PASSWORD_KEYWORDS: &[&str] = &["password", "passwd", "passphrase", "pwd", "_pass"];
const ENV_PAIR_KEYWORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "credential",
];

/// `NAME = value`, `NAME: value`, `NAME := "value"`, `"NAME": "value"`, `("NAME", "value")`:
/// the value ends at a quote, a separator, white space or the end of the line — a value followed
/// by `(`, `[` or `{` is code (`os.Getenv(…)`, `ENV[…]`, `${…}`) and does not match.
const PASSWORD_ASSIGNMENT: &str = r#"(?i)(?P<name>[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|_pass\b)[a-z0-9_.-]*)["']?\s*(?::=|=>|=|:|["']\s*,)\s*["'`]?(?P<secret>[^\s"'`,;(){}\[\]<>]{1,200})(?:["'`,;\s]|$)"#;

/// Every rule, most specific first.
pub static RULES: &[Rule] = &[
    Rule {
        id: "tessera-access-token",
        description: "Tessera opaque access token (tsr_at_), checksum verified",
        severity: Severity::High,
        keywords: TSR,
        pattern: r"\btsr_at_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::Tessera(TokenKind::AccessToken),
        examples: &[concat!(
            "token = tsr_at_",
            "0000000000fnzp6vFQXmc77ASbWypoEUOKmU7WKARwXX6D8bLZKsL313jkIR"
        )],
        decoys: &[concat!(
            "tsr_at_",
            "0000000000fnzp6vFQXmc77ASbWypoEUOKmU7WKARwXX6D8bLZKsL313jkIr"
        )],
    },
    Rule {
        id: "tessera-refresh-token",
        description: "Tessera refresh token (tsr_rt_), checksum verified",
        severity: Severity::High,
        keywords: TSR,
        pattern: r"\btsr_rt_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::Tessera(TokenKind::RefreshToken),
        examples: &[concat!(
            "tsr_rt_",
            "0000000000fqVQ92oBrcyRzsmrfL0SJ2NDBwAb9Hywq1BjJsDoRaGL4IU6xl"
        )],
        decoys: &[concat!(
            "tsr_rt_",
            "0000000000fqVQ92oBrcyRzsmrfL0SJ2NDBwAb9Hywq1BjJsDoRaGL4IU6x"
        )],
    },
    Rule {
        id: "tessera-client-secret",
        description: "Tessera client secret (tsr_cs_), checksum verified",
        severity: Severity::High,
        keywords: TSR,
        pattern: r"\btsr_cs_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::Tessera(TokenKind::ClientSecret),
        examples: &[concat!(
            "TESSERA_CLIENT_SECRET=tsr_cs_",
            "0000000000fGhBgLQwW8PNFvqQmBVXDnF3IRgUDzoHudvT1GxbANIE26puig"
        )],
        decoys: &[concat!(
            "tsr_cs_",
            "0000000000fGhBgLQwW8PNFvqQmBVXDnF3IRgUDzoHudvT1GxbANIE26puigX"
        )],
    },
    Rule {
        id: "tessera-authorization-code",
        description: "Tessera authorization code (tsr_ac_), checksum verified",
        severity: Severity::High,
        keywords: TSR,
        pattern: r"\btsr_ac_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::Tessera(TokenKind::AuthorizationCode),
        examples: &[concat!(
            "code=tsr_ac_",
            "0000000000fySQtSd9Vw2efMq6EuqTe4lBvxMQThBE56rp6BC4Xwa11Y69eX&state=1"
        )],
        decoys: &[concat!(
            "tsr_ac_",
            "0000000000fySQtSd9Vw2efMq6EuqTe4lBvxMQThBE56rp6BC4Xwa11Y69eY"
        )],
    },
    Rule {
        id: "tessera-registration-token",
        description: "Tessera registration access token (tsr_rat_, RFC 7592), checksum verified",
        severity: Severity::High,
        keywords: TSR,
        pattern: r"\btsr_rat_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::Tessera(TokenKind::RegistrationToken),
        examples: &[concat!(
            "\"tsr_rat_",
            "0000000000g36Ms2s1QNi9G8NCYu5EnA1SV5Sgzai2uqnxdCxjwZuR4FQIpw\""
        )],
        decoys: &[concat!(
            "tsr_rat_",
            "0000000000g36Ms2s1QNi9G8NCYu5EnA1SV5Sgzai2uqnxdCxjwZuR4FQIpW"
        )],
    },
    Rule {
        id: "tessera-malformed",
        description: "Tessera-shaped string whose checksum fails (a typo, truncation or hand-made example)",
        severity: Severity::Low,
        keywords: TSR,
        pattern: r"\btsr_(?:at|rt|cs|ac|rat)_[0-9A-Za-z]{60}\b",
        span: 0,
        validator: Validator::TesseraMalformed,
        examples: &[concat!(
            "tsr_at_",
            "0000000000fnzp6vFQXmc77ASbWypoEUOKmU7WKARwXX6D8bLZKsL313jkIr"
        )],
        decoys: &[
            concat!(
                "tsr_at_",
                "0000000000fnzp6vFQXmc77ASbWypoEUOKmU7WKARwXX6D8bLZKsL313jkIR"
            ),
            "tsr_at_short",
            concat!(
                "tsr_xx_",
                "0000000000fnzp6vFQXmc77ASbWypoEUOKmU7WKARwXX6D8bLZKsL313jkIr"
            ),
        ],
    },
    Rule {
        id: "github-token",
        description: "GitHub classic token (ghp_/gho_/ghu_/ghs_/ghr_), CRC32 checksum verified",
        severity: Severity::High,
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        pattern: r"\bgh[pousr]_[0-9A-Za-z]{36}\b",
        span: 0,
        validator: Validator::GithubChecksum,
        examples: &[
            concat!("GITHUB_TOKEN=ghp_", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL"),
            concat!("oauth: gho_", "Eeeby3abP3E2Zs8IQ9Y7aJZqhB6bae2dTjzx"),
        ],
        decoys: &[
            concat!("ghp_", "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IM"),
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_abcdefghijklmnopqrstuvwxyzABCD012345",
        ],
    },
    Rule {
        id: "github-fine-grained-pat",
        description: "GitHub fine-grained personal access token (github_pat_ + 22 + _ + 59 base62)",
        severity: Severity::High,
        keywords: &["github_pat_"],
        // GitHub documents no checksum for this format (unlike ghp_ & co), so the exact shape
        // — 22 and 59 base62 characters, bounded on both sides — is the whole test.
        pattern: r"\bgithub_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[
            concat!(
                "GH_PAT=github_pat_",
                "CN6Zj4a3dDVhYRnKTbxTNJ_FoBinF5aJXVuLkSIc47WQAmL9xVQ2zg4mZaouqKLiMcVbpT4r5yHU1tduuU"
            ),
            concat!(
                "          token: github_pat_",
                "11ABCDEFG0kq7Rw3ZpX2Lm_Tn8Vb4Yc6Hd1Jf5Ks9Qa2We7Rt3Yu6Io0Pl4Zx8Cv1Bn5Mm9Qq2Ww6Ee3Rr"
            ),
        ],
        decoys: &[
            // One character short, one too long, on either side of the `_`.
            concat!(
                "github_pat_",
                "CN6Zj4a3dDVhYRnKTbxTN_FoBinF5aJXVuLkSIc47WQAmL9xVQ2zg4mZaouqKLiMcVbpT4r5yHU1tduuU"
            ),
            concat!(
                "github_pat_",
                "CN6Zj4a3dDVhYRnKTbxTNJ_FoBinF5aJXVuLkSIc47WQAmL9xVQ2zg4mZaouqKLiMcVbpT4r5yHU1tduu"
            ),
            concat!(
                "github_pat_",
                "CN6Zj4a3dDVhYRnKTbxTNJ_FoBinF5aJXVuLkSIc47WQAmL9xVQ2zg4mZaouqKLiMcVbpT4r5yHU1tduuUx"
            ),
            "github_pat_xxxxxxxxxxxxxxxxxxxxxx_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ],
    },
    Rule {
        id: "aws-access-key-id",
        description: "AWS access key id (AKIA/ASIA/ABIA/ACCA)",
        severity: Severity::High,
        keywords: &["akia", "asia", "abia", "acca"],
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!("aws_access_key_id = AKIA", "454ML6LG4TJFCZ4K")],
        decoys: &[
            concat!("AKIA", "IOSFODNN7EXAMPLE"),
            "AKIAXXXXXXXXXXXXXXXX",
            "akia454ml6lg4tjfcz4k",
        ],
    },
    Rule {
        id: "aws-secret-access-key",
        description: "AWS secret access key assigned to an aws_secret_access_key-like name",
        severity: Severity::High,
        keywords: &["aws_secret", "secret_access_key", "secretaccesskey"],
        pattern: r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*(?::=|=>|=|:)\s*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        span: 0,
        validator: Validator::Entropy(4.0),
        examples: &[concat!(
            "aws_secret_access_key = ",
            "1874OU3xfuPTb+0AwZqAWeTa38DpDbn820RQ6ymo"
        )],
        decoys: &[concat!(
            "aws_secret_access_key = ",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        )],
    },
    Rule {
        id: "slack-token",
        description: "Slack bot, user, app or refresh token (xoxb-/xoxp-/xoxa-/xoxr-/xoxs-)",
        severity: Severity::High,
        keywords: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"],
        pattern: r"\bxox[bpars]-[0-9]{8,14}-[0-9A-Za-z-]{8,200}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!(
            "SLACK_BOT_TOKEN=xoxb-",
            "619345145061-2310077283783-kn8QfO7PQD0HtpbJu1DBPscf"
        )],
        decoys: &[
            "xoxb-your-token-here",
            "xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
        ],
    },
    Rule {
        id: "slack-webhook",
        description: "Slack incoming-webhook URL",
        severity: Severity::Medium,
        keywords: &["hooks.slack.com/"],
        pattern: r"https://hooks\.slack\.com/services/T[0-9A-Z]{8,12}/B[0-9A-Z]{8,12}/[0-9A-Za-z]{24}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!(
            "url: https://hooks.slack.com/services/",
            "TGCJN2QAVSY/BEEFNPAXX3I/zbUra8tOBe9JwEqdFkCAleyZ"
        )],
        decoys: &["https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX"],
    },
    Rule {
        id: "stripe-live-key",
        description: "Stripe live secret or restricted key (sk_live_/rk_live_)",
        severity: Severity::High,
        keywords: &["sk_live_", "rk_live_"],
        pattern: r"\b[sr]k_live_[0-9A-Za-z]{24,99}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!("STRIPE_KEY=sk_live_", "ChyOuUc5Q3662WzGFljPGQqv")],
        decoys: &[
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "sk_live_your_key_here_please_1234",
        ],
    },
    Rule {
        id: "stripe-test-key",
        description: "Stripe test-mode secret or restricted key (sk_test_/rk_test_)",
        severity: Severity::Medium,
        keywords: &["sk_test_", "rk_test_"],
        pattern: r"\b[sr]k_test_[0-9A-Za-z]{24,99}\b",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!("rk_test_", "cVIXBxk48EUZfsdd4HDwwDl1")],
        decoys: &[concat!("sk_test_", "4eC39HqLyjWDarjtT1zdp7dc")],
    },
    Rule {
        id: "google-api-key",
        description: "Google API key (AIza…)",
        severity: Severity::Medium,
        keywords: &["aiza"],
        pattern: r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        span: 0,
        validator: Validator::NotPlaceholder,
        examples: &[concat!("key=AIza", "8YqvV75MalGBkHvgH42yjd429z8deH99vl5")],
        decoys: &[
            "AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "AIzaYourGoogleApiKeyGoesHere12345678",
        ],
    },
    Rule {
        id: "private-key",
        description: "PEM private key block (RSA, EC, DSA, OpenSSH, PKCS#8, PGP)",
        severity: Severity::High,
        keywords: &["-----begin"],
        pattern: r"(?s-u)-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----.*?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        span: 64 * 1024,
        validator: Validator::PrivateKey,
        examples: &[
            concat!(
                "-----BEGIN RSA PRIVATE KEY-----\n",
                "O3YUI6EvDl9PPyWM1y4MSYiKoSBqnGvwP0mhxfQCFRVnBdfX2iA4uhrZ+3R8s4Mg\n",
                "HyJu/BSubLWdmQcIY/PqE0m35pF+BL8wqpYVy/GhtyeDOr3XG24OJT1afjV/D/FW\n",
                "-----END RSA PRIVATE KEY-----\n"
            ),
            // A GCP service-account JSON: the PEM inside a string, line breaks escaped.
            concat!(
                "  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n",
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\\n",
                "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\\n",
                "-----END PRIVATE KEY-----\\n\",",
            ),
        ],
        decoys: &[
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
            "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n<your key>\\n-----END PRIVATE KEY-----\\n\"",
            "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE...\\n-----END PRIVATE KEY-----\\n\"",
            "-----BEGIN PUBLIC KEY-----\nO3YUI6EvDl9PPyWM1y4MSYiKoSBqnGvwP0mhxfQCFRVnBdfX2iA4uhrZ+3R8s4Mg\n-----END PUBLIC KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n<your key here>\n-----END OPENSSH PRIVATE KEY-----",
        ],
    },
    Rule {
        id: "jwt",
        description: "JSON Web Token (header and payload decode to JSON objects; alg is not none)",
        severity: Severity::Medium,
        keywords: &["eyj"],
        pattern: r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
        span: 0,
        validator: Validator::Jwt,
        examples: &[concat!(
            "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.",
            "eyJzdWIiOiJzdmMtYmlsbGluZyIsImlzcyI6Imh0dHBzOi8vaWRwLmludGVybmFsIiwiZXhwIjoxODkzNDU2MDAwfQ.",
            "GhjAy9r3_1mm19ABEWrgnwuxA3dBz2TE_-W1lcIPLhu"
        )],
        decoys: &[
            concat!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
                "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.",
                "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
            ),
            "eyJnotjson12345.eyJnotjson12345.abcdefghijklmnopqrstu",
        ],
    },
    Rule {
        id: "password-assignment",
        description: "Password assigned to a password-like name (.env, YAML, JSON, code, Kubernetes)",
        severity: Severity::Medium,
        keywords: PASSWORD_KEYWORDS,
        pattern: PASSWORD_ASSIGNMENT,
        span: 0,
        validator: Validator::Password,
        examples: &[
            concat!("DB_PASSWORD=", "Winter2024!x"),
            concat!("export PGPASSWORD='", "h7Kp2mQz9'"),
            concat!("    \"password\": \"", "Tr0ub4dor&3x\","),
            concat!("\tpassword := \"", "kX9#mP2vL5q\""),
            concat!("  db-password: ", "S3cure.Pass-42"),
            concat!("REDIS_PASS=", "r3d1s-Pr0d-7781"),
            concat!("DB_PASSWORD=", "QmTzRwPvKsNjHyLgFbX_q"),
            concat!(
                "cmd.Env = append(os.Environ(), \"DB_PASSWORD=",
                "q8Zr2LmX4vT9\")"
            ),
            concat!("os.Setenv(\"SMTP_PASSWORD\", \"", "mX4vT9pK1w!\")"),
        ],
        decoys: &[
            "DB_PASSWORD=changeme",
            "DB_PASSWORD=${DB_PASSWORD}",
            "password: $(DB_PASSWORD)",
            "password: \"{{ .Values.db.password }}\"",
            "password: <password>",
            "password: your-password-here",
            "password: xxxxxxxxxx",
            "\"password\": \"\"",
            "password := os.Getenv(\"DB_PASSWORD\")",
            "Password: cfg.Database.Password,",
            "password = request.form['password']",
            "password = get_password()",
            "password: string;",
            "password = db_password",
            "password = dbPassword",
            "DB_PASSWORD=DB_PASSWORD_V2",
            "password_hash = \"$argon2id$v=19$m=19456\"",
            "password_min_length: 12345678x",
            "PASSWORD_FILE=/run/secrets/db_password",
            "password: hunter2",
            "password = 'x7Kp9mQ2' # test fixture",
            "bypass = 1",
        ],
    },
    Rule {
        id: "env-pair-secret",
        description: "Secret value in a name/value pair (Kubernetes env, ECS task definitions)",
        severity: Severity::Medium,
        keywords: ENV_PAIR_KEYWORDS,
        pattern: r#"(?i)["']?name["']?\s*:\s*["']?(?P<name>[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api_?key|credential)[a-z0-9_.-]*)["']?\s*,?\s*["']?value["']?\s*:\s*["'`]?(?P<secret>[^\s"'`,;(){}\[\]<>]{1,200})(?:["'`,;}\s]|$)"#,
        span: 256,
        validator: Validator::Password,
        examples: &[
            concat!(
                "        env:\n        - name: DB_PASSWORD\n          value: \"",
                "Pg-Pr0d-2291x\"\n"
            ),
            concat!("{\"name\": \"API_TOKEN\", \"value\": \"", "kX9mP2vL5qR7\"}"),
        ],
        decoys: &[
            "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password\n",
            "- name: DB_PASSWORD\n  value: \"{{ .Values.db.password }}\"\n",
            "- name: DB_PASSWORD\n  value: $(DB_PASSWORD)\n",
            "- name: DB_PASSWORD\n  value: changeme\n",
        ],
    },
    Rule {
        id: "generic-secret-assignment",
        description: "High-entropy value assigned to a password/secret/token/api-key name",
        severity: Severity::Medium,
        keywords: GENERIC_KEYWORDS,
        pattern: r#"(?i)(?P<name>[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential)s?[a-z0-9_.-]*)["']?\s*(?::=|=>|=|:)\s*["'`]?(?P<secret>[^\s"'`,;()\[\]{}]{12,200})"#,
        span: 0,
        validator: Validator::Entropy(3.3),
        examples: &[
            concat!("SECRET_KEY_BASE=", "VvFKPgGCeRppmwCuDOEb7"),
            concat!(
                "  \"client_secret\": \"",
                "a644fb12853ef86dcfaea21818b904ce\","
            ),
            concat!("api_key: '", "q8Zr2LmX4vT9pK1w'"),
        ],
        decoys: &[
            "password = os.environ[\"DB_PASSWORD\"]",
            "token: ${{ secrets.DEPLOY_TOKEN }}",
            "DB_PASSWORD=changeme123456",
            "secret_key = \"your-secret-key-here\"",
            "password_hash_algorithm = argon2id",
            "token = request.headers.authorization",
            "password: xxxxxxxxxxxxxxxx",
        ],
    },
];
