//! Files holding only decoys: documentation, Helm templates, marked test fixtures.
use tessera_proto::TokenKind;

use super::*;

impl Gen {
    /// Files holding only decoys: documentation, Helm templates, marked test fixtures.
    pub(super) fn decoy_files(&mut self) -> Vec<Doc> {
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
