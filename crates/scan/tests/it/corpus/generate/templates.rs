//! The file templates of the corpus, one per kind of file real repositories hold: each plants
//! labelled secrets and the decoys that sit beside them in such files.
use tessera_proto::TokenKind;

use super::*;

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

pub(super) fn dotenv(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn workflow(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn k8s_secret(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn k8s_deployment(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn json_config(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn gcp_service_account(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn go_source(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn compose(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn python_settings(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn third_party(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn tessera_tokens(g: &mut Gen, dir: &str) -> Doc {
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

pub(super) fn key_files(g: &mut Gen, dir: &str) -> Doc {
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
