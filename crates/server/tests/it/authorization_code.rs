//! The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), the built-in login page,
//! RFC 9207 `iss`, `dpop_jkt` (RFC 9449 §10): the full flow with the `oauth2` crate, and every
//! refusal with its exact answer.
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use reqwest::header::LOCATION;
use tessera_core::audit::EventKind;
use tessera_core::client::GrantType;
use tessera_core::keys::SigningAlg;

use crate::dpop::DpopKey;
use crate::support::flow::*;
use crate::support::{TestServer, error, test_config};

#[tokio::test]
async fn oauth2_crate_runs_the_whole_flow_and_refreshes_twice() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let client = BasicClient::new(ClientId::new(c.id.clone()))
        .set_client_secret(ClientSecret::new(c.secret.clone()))
        .set_auth_uri(AuthUrl::new(server.url("/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(server.url("/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("deploy:read".into()))
        .add_scope(Scope::new("deploy:write".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: the login page, then the form.
    let page = browser().get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("deploy:write") && html.contains("<strong>test</strong>"));
    let resp = post_login(
        &server,
        &[
            ("request", &request_field(&html)),
            ("username", USER),
            ("password", PASSWORD),
            ("action", "allow"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let params = location_params(&resp);
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    assert_eq!(param(&params, "iss"), Some(server.base.as_str()));
    let code = param(&params, "code").unwrap();
    assert!(code.starts_with("tsr_ac_"));

    let http = oauth2::reqwest::Client::new();
    let token = client
        .exchange_code(AuthorizationCode::new(code.into()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(token.expires_in().unwrap().as_secs(), 300);
    let first_refresh = token.refresh_token().unwrap().clone();
    assert!(first_refresh.secret().starts_with("tsr_rt_"));
    let introspected = server.introspect(&c, token.access_token().secret()).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["sub"], USER);
    assert_eq!(introspected["scope"], "deploy:read deploy:write");

    // Rotation: each refresh returns a new refresh token; the old one is spent.
    let second = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .unwrap();
    let second_refresh = second.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let third = client
        .exchange_refresh_token(&second_refresh)
        .add_scope(Scope::new("deploy:read".into()))
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(
        third.scopes().unwrap(),
        &vec![Scope::new("deploy:read".into())]
    );
    assert_ne!(
        third.refresh_token().unwrap().secret(),
        second_refresh.secret()
    );
    let granted = server.events_of(EventKind::AuthorizationGranted).await;
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].subject.as_deref(), Some(USER));
}

#[tokio::test]
async fn pkce_is_required_and_plain_is_refused() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let expect = |resp: &reqwest::Response, description: &str| {
        assert_eq!(resp.status().as_u16(), 302);
        let params = location_params(resp);
        assert_eq!(param(&params, "error"), Some("invalid_request"));
        assert_eq!(param(&params, "error_description"), Some(description));
        assert_eq!(param(&params, "state"), Some("xyz"));
        assert_eq!(param(&params, "iss"), Some(server.base.as_str()));
    };
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| !k.starts_with("code_challenge"));
    expect(
        &authorize(&server, &q).await,
        "code_challenge is required (PKCE, RFC 7636)",
    );
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "code_challenge_method");
    expect(
        &authorize(&server, &q).await,
        "code_challenge_method must be S256 (plain is not supported)",
    );
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "code_challenge_method");
    q.push(("code_challenge_method", "plain"));
    expect(
        &authorize(&server, &q).await,
        "code_challenge_method must be S256 (plain is not supported)",
    );
    // Other response types are refused with their RFC code.
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "response_type");
    q.push(("response_type", "token"));
    let resp = authorize(&server, &q).await;
    assert_eq!(
        param(&location_params(&resp), "error"),
        Some("unsupported_response_type")
    );
}

#[tokio::test]
async fn an_untrusted_redirect_uri_gets_an_error_page_never_a_redirect() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    for (name, value, description) in [
        (
            "redirect_uri",
            "https://evil.example/cb",
            "redirect_uri does not match any redirection URI registered for this client",
        ),
        (
            "redirect_uri",
            "http://127.0.0.1:9/cb/extra",
            "redirect_uri does not match any redirection URI registered for this client",
        ),
        ("client_id", "nobody", "unknown client"),
    ] {
        let mut q = request(&c, &challenge, &[]);
        q.retain(|(k, _)| *k != name);
        q.push((name, value));
        let resp = authorize(&server, &q).await;
        assert_eq!(resp.status().as_u16(), 400, "{name}={value}");
        assert!(resp.headers().get(LOCATION).is_none());
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(&format!("<code>invalid_request</code>: {description}")),
            "{html}"
        );
    }
    // The redirect_uri may be omitted when exactly one is registered.
    let mut q = request(&c, &challenge, &[]);
    q.retain(|(k, _)| *k != "redirect_uri");
    assert_eq!(authorize(&server, &q).await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_wrong_verifier_or_redirect_uri_is_invalid_grant() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (verifier, challenge) = pkce();
    let code = get_code(&server, &c, &challenge, &[]).await;
    let (other_verifier, _) = pkce();
    assert_eq!(
        exchange(&server, &c, &code, &other_verifier, None).await,
        (
            400,
            error(
                "invalid_grant",
                "the code_verifier does not match the code_challenge"
            )
        )
    );
    // The code is spent by a failed attempt: no guessing of verifiers.
    assert_eq!(
        exchange(&server, &c, &code, &verifier, None).await,
        (
            400,
            error(
                "invalid_grant",
                "the authorization code is invalid, expired or was already used"
            )
        )
    );
    let code = get_code(&server, &c, &challenge, &[]).await;
    let (status, body) = token_request(
        &server,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "invalid_grant",
                "redirect_uri does not match the authorization request"
            )
        )
    );
    let code = get_code(&server, &c, &challenge, &[]).await;
    let (status, body) = token_request(
        &server,
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (400, error("invalid_request", "code_verifier is missing"))
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    let server = TestServer::start().await;
    let c = code_client(&server, false, |_| {}).await;
    let (verifier, challenge) = pkce();
    let code = get_code(&server, &c, &challenge, &[]).await;
    let (status, first) = exchange(&server, &c, &code, &verifier, None).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(server.introspect(&c, access).await["active"], true);
    assert_eq!(
        exchange(&server, &c, &code, &verifier, None).await,
        (
            400,
            error(
                "invalid_grant",
                "the authorization code is invalid, expired or was already used"
            )
        )
    );
    // RFC 6749 §4.1.2: the tokens issued from the code are revoked.
    assert_eq!(
        server.introspect(&c, access).await,
        serde_json::json!({"active": false})
    );
    let (status, body) = refresh(&server, &c, first["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "invalid_grant",
                "the refresh token is invalid, expired or revoked"
            )
        )
    );
    let reused = server.events_of(EventKind::AuthorizationCodeReused).await;
    assert_eq!(reused.len(), 1);
    assert_eq!(reused[0].client_id.as_deref(), Some(c.id.as_str()));
    assert_eq!(reused[0].reason.as_deref(), Some("family_revoked"));
}

#[tokio::test]
async fn a_code_of_another_client_is_invalid_grant() {
    let server = TestServer::start().await;
    let a = code_client(&server, true, |_| {}).await;
    let b = code_client(&server, true, |_| {}).await;
    let (verifier, challenge) = pkce();
    let code = get_code(&server, &a, &challenge, &[]).await;
    assert_eq!(
        exchange(&server, &b, &code, &verifier, None).await,
        (
            400,
            error(
                "invalid_grant",
                "the authorization code was issued to another client"
            )
        )
    );
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let clock = crate::support::fixed_clock();
    let server = TestServer::start_with(test_config(), clock.clone()).await;
    let c = code_client(&server, true, |_| {}).await;
    let (verifier, challenge) = pkce();
    let code = get_code(&server, &c, &challenge, &[]).await;
    clock.advance(60);
    assert_eq!(
        exchange(&server, &c, &code, &verifier, None).await,
        (
            400,
            error(
                "invalid_grant",
                "the authorization code is invalid, expired or was already used"
            )
        )
    );
}

#[tokio::test]
async fn wrong_passwords_show_the_form_again_and_the_form_is_single_use() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let html = authorize(&server, &request(&c, &challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    let id = request_field(&html);
    for (user, password) in [(USER, "wrong"), ("mallory", PASSWORD), ("", "")] {
        let resp = post_login(
            &server,
            &[
                ("request", &id),
                ("username", user),
                ("password", password),
                ("action", "allow"),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Wrong user name or password."), "{page}");
        assert_eq!(request_field(&page), id);
    }
    let failed = server.events_of(EventKind::UserLoginFailed).await;
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[1].subject.as_deref(), Some("mallory"));

    let ok = [
        ("request", id.as_str()),
        ("username", USER),
        ("password", PASSWORD),
        ("action", "allow"),
    ];
    assert_eq!(post_login(&server, &ok).await.status().as_u16(), 303);
    // Replayed: the form was used.
    let replay = post_login(&server, &ok).await;
    assert_eq!(replay.status().as_u16(), 400);
    assert!(replay.headers().get(LOCATION).is_none());
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("this login form has expired or was already used")
    );
    // Missing or forged request field.
    for form in [
        vec![
            ("username", USER),
            ("password", PASSWORD),
            ("action", "allow"),
        ],
        vec![
            ("request", "forged"),
            ("username", USER),
            ("password", PASSWORD),
            ("action", "allow"),
        ],
    ] {
        assert_eq!(post_login(&server, &form).await.status().as_u16(), 400);
    }
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let html = authorize(&server, &request(&c, &challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    let resp = post_login(
        &server,
        &[("request", &request_field(&html)), ("action", "deny")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let params = location_params(&resp);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(
        param(&params, "error_description"),
        Some("the user denied the request")
    );
    assert_eq!(param(&params, "state"), Some("xyz"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(
        server.events_of(EventKind::AuthorizationDenied).await.len(),
        1
    );
}

#[tokio::test]
async fn dpop_jkt_binds_the_code_to_the_proof_key() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let key = DpopKey::new(SigningAlg::ES256);
    let other = DpopKey::new(SigningAlg::ES256);
    let (verifier, challenge) = pkce();
    let jkt = key.thumbprint();
    let code = get_code(&server, &c, &challenge, &[("dpop_jkt", &jkt)]).await;
    let mismatch = (
        400,
        error(
            "invalid_grant",
            "the DPoP proof key does not match the dpop_jkt of the authorization request",
        ),
    );
    assert_eq!(
        exchange(&server, &c, &code, &verifier, Some(&other.proof(&server))).await,
        mismatch
    );
    let code = get_code(&server, &c, &challenge, &[("dpop_jkt", &jkt)]).await;
    assert_eq!(
        exchange(&server, &c, &code, &verifier, None).await,
        mismatch
    );
    let code = get_code(&server, &c, &challenge, &[("dpop_jkt", &jkt)]).await;
    let (status, body) = exchange(&server, &c, &code, &verifier, Some(&key.proof(&server))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
}

#[tokio::test]
async fn clients_without_the_grant_or_public_clients_misusing_grants_are_refused() {
    let server = TestServer::start().await;
    let cc = server
        .client(|c| c.redirect_uris = vec![REDIRECT.into()])
        .await;
    let (_, challenge) = pkce();
    let resp = authorize(&server, &request(&cc, &challenge, &[])).await;
    assert_eq!(
        param(&location_params(&resp), "error"),
        Some("unauthorized_client")
    );
    // A public client cannot use client_credentials even if registered for it.
    let public = code_client(&server, true, |c| {
        c.grant_types.push(GrantType::ClientCredentials)
    })
    .await;
    let (status, body) = token_request(
        &server,
        &public,
        &[("grant_type", "client_credentials")],
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "unauthorized_client",
                "this client may not use this grant type"
            )
        )
    );
    // Nor introspect.
    let (status, _, body) = server
        .post(
            "/introspect",
            None,
            &[("token", "x"), ("client_id", &public.id)],
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            error(
                "unauthorized_client",
                "public clients may not introspect tokens"
            )
        )
    );
}

#[tokio::test]
async fn a_malformed_login_post_gets_an_invalid_request_page_and_changes_nothing() {
    let server = TestServer::start().await;
    let c = code_client(&server, true, |_| {}).await;
    let (_, challenge) = pkce();
    let html = authorize(&server, &request(&c, &challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    let id = request_field(&html);
    let form = format!("request={id}&username={USER}&password={PASSWORD}&action=allow");
    let http = browser();
    for (what, req) in [
        (
            "wrong content type",
            http.post(server.url("/login"))
                .header("content-type", "application/json")
                .body(form.clone()),
        ),
        (
            "parameters in the query string",
            http.post(server.url(&format!("/login?{form}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(""),
        ),
        (
            "oversized body",
            http.post(server.url("/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("{form}&pad={}", "x".repeat(70 * 1024))),
        ),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{what}");
        assert!(resp.headers().get(LOCATION).is_none(), "{what}");
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("<code>invalid_request</code>"),
            "{what}: {page}"
        );
    }
    // None of them consumed the pending request: the well-formed post still logs in.
    let ok = [
        ("request", id.as_str()),
        ("username", USER),
        ("password", PASSWORD),
        ("action", "allow"),
    ];
    assert_eq!(post_login(&server, &ok).await.status().as_u16(), 303);
}
