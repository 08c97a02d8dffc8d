//! Route scopes on every spelling of a path: what reaches the upstream is the normal form the
//! scope was checked on, and what cannot be normalised safely is refused.
use super::{create_client, issuer, proxy, raw_get, recording_upstream, token};

/// The route-scope bypass: with `--require-scope /admin=admin`, no spelling of `/admin` reaches
/// the upstream with a token lacking `admin`; the upstream receives the path in normal form,
/// the one the scope was checked on; what cannot be normalised safely is refused with 400.
#[tokio::test]
async fn no_spelling_of_a_protected_path_bypasses_its_scope() {
    let (server, db, _dir) = issuer();
    let issuer = &server.base;
    let (id, secret) = create_client(&db, "ci", "read admin");
    let (rs_id, rs_secret) = create_client(&db, "proxy", "tessera:revocations");
    let (upstream, seen) = recording_upstream().await;
    let proxy = proxy(
        issuer,
        &upstream,
        &[
            "--require-scope",
            "/admin=admin",
            "--client-id",
            &rs_id,
            "--client-secret",
            &rs_secret,
        ],
    );
    let reader = token(issuer, &id, &secret, "read").await;
    let admin = token(issuer, &id, &secret, "read admin").await;

    let bypasses = [
        "/admin",
        "/x/../admin",
        "/./admin",
        "/%61dmin",
        "//admin",
        "/admin/../admin/users",
        "/%2e/admin",
        "/x/%2E%2E/admin",
        "/admin;jsessionid=1",
        "/ADMIN/..//admin",
    ];
    for path in bypasses {
        let (status, _) = raw_get(proxy.addr(), path, &reader, "").await;
        assert_eq!(status, 403, "GET {path} without the admin scope");
    }
    for path in [
        "/%2Fadmin",
        "/x%2F..%2Fadmin",
        "/%5Cadmin",
        "/x\\..\\admin",
        "/../admin",
        "/x/..;/admin",
        "/a%00",
    ] {
        let (status, _) = raw_get(proxy.addr(), path, &admin, "").await;
        assert_eq!(status, 400, "GET {path}");
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );

    // With the scope, each spelling reaches the upstream as the path that was checked.
    for (path, forwarded) in [
        ("/x/../admin", "/admin"),
        ("/./admin", "/admin"),
        ("/%61dmin", "/admin"),
        ("//admin", "/admin"),
        ("/admin/%7e/a%2fb", ""),
        ("/other/./x//y/", "/other/x/y/"),
    ] {
        let (status, body) = raw_get(proxy.addr(), path, &admin, "").await;
        if forwarded.is_empty() {
            assert_eq!(status, 400, "GET {path}");
            continue;
        }
        assert_eq!(status, 200, "GET {path}: {body}");
        let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(echoed["path"], forwarded, "GET {path}");
    }
    // Without it, other routes still pass, in normal form.
    let (status, body) = raw_get(proxy.addr(), "/x/../other/%7euser", &reader, "").await;
    assert_eq!(status, 200, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echoed["path"], "/other/~user");
}
