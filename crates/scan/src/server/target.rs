//! Where the admin credentials may be sent: the `--server URL` policy.
//!
//! The leak check authenticates with an admin client's secret, so the URL decides who learns it.
//! The rule: `https` to any host (the certificate verified against the web PKI roots; there is no
//! switch to skip that), or plain `http` only on loopback. Loopback is decided by Tessera's one
//! rule, [`tessera_proto::loopback`] (`localhost`, 127.0.0.0/8 in dotted decimal or `::1`, the
//! host parsed by both URL parsers, never matched by prefix), the same rule the server applies to
//! issuers and redirect URIs, so the scanner cannot call loopback what the server would not.
//! URLs carrying userinfo, a query or a fragment are refused: the endpoint is
//! `{URL}/admin/leaks`, nothing else.

use tessera_proto::loopback::{InsecureUrl, https_or_loopback_http};
use ureq::http::Uri;

use crate::ScanError;

/// A checked `--server` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The leak endpoint, `{base}/admin/leaks`.
    pub leaks_url: String,
    /// Whether the connection is plain HTTP (allowed only on loopback; then no proxy is used, so
    /// the credentials never leave the host).
    pub plain_http: bool,
}

/// Parses and checks `url` against the policy above.
pub fn parse(url: &str) -> Result<Target, ScanError> {
    let refuse = |why: &str| ScanError::Usage(format!("--server {url}: {why}"));
    let uri: Uri = url
        .parse()
        .map_err(|_| refuse("not a URL (expected https://host[:port][/path])"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| refuse("not an absolute URL (expected https://host[:port][/path])"))?;
    if authority.as_str().contains('@') {
        return Err(refuse(
            "credentials in the URL are not accepted (use --client-id/--client-secret)",
        ));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(refuse("a query or fragment is not accepted"));
    }
    match https_or_loopback_http(url) {
        Ok(()) => {}
        Err(InsecureUrl::HttpOffLoopback) => {
            return Err(refuse(
                "plain http is allowed only to a loopback host (localhost, 127.0.0.0/8, ::1); \
                 the admin credentials would cross the network in clear — use https",
            ));
        }
        Err(InsecureUrl::NotHttpUrl) => {
            return Err(refuse("the scheme must be https (or http on loopback)"));
        }
    }
    let base = url.trim_end_matches('/');
    Ok(Target {
        leaks_url: format!("{base}/admin/leaks"),
        plain_http: uri.scheme_str() == Some("http"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rule with the server (issue 13): what `tessera_proto::loopback` refuses, the scanner
    /// refuses, including the spellings its own host check once let through (`127.1`, a trailing
    /// dot) or that only a prefix check would.
    #[test]
    fn loopback_is_the_servers_rule() {
        for url in [
            "http://localhost",
            "http://LocalHost:8080",
            "http://127.0.0.1",
            "http://127.255.3.4/base",
            "http://[::1]",
            "http://[0:0:0:0:0:0:0:1]:9",
        ] {
            assert!(parse(url).unwrap().plain_http, "{url}");
        }
        for url in [
            "http://127.attacker.example",
            "http://127.0.0.1.nip.io",
            "http://localhost.attacker.example",
            "http://localhost.",
            "http://0x7f.0.0.1",
            "http://0x7f000001",
            "http://2130706433",
            "http://127.1",
            "http://0177.0.0.1",
            "http://128.0.0.1",
            "http://10.0.0.1",
            "http://0.0.0.0",
            "http://[::ffff:127.0.0.1]",
            "http://[::2]",
            "http://[::]",
            "http://127.0.0.1\\@evil.example/",
        ] {
            assert!(parse(url).is_err(), "{url}");
            assert!(
                tessera_proto::loopback::https_or_loopback_http(url).is_err(),
                "{url}: the rules agree"
            );
        }
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        let ok = parse("https://auth.example.com/").unwrap();
        assert_eq!(ok.leaks_url, "https://auth.example.com/admin/leaks");
        assert!(!ok.plain_http);
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1:9",
            "http://[::1]:8080/base",
        ] {
            assert!(parse(url).unwrap().plain_http, "{url}");
        }
        for url in [
            "http://auth.example.com",
            "http://127.attacker.example",
            "http://127.attacker.example:8080/",
            "http://10.0.0.5",
            "http://[::ffff:127.0.0.1]",
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "https://admin:pw@auth.example.com",
            "http://x@127.0.0.1",
            "https://auth.example.com/?next=http://evil",
            "https://auth.example.com/#frag",
            "",
        ] {
            assert!(parse(url).is_err(), "{url}");
        }
    }
}
