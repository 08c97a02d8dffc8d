//! Where the admin credentials may be sent: the `--server URL` policy.
//!
//! The leak check authenticates with an admin client's secret, so the URL decides who learns it.
//! The rule: `https` to any host (the certificate verified against the web PKI roots; there is no
//! switch to skip that), or plain `http` only when the host is loopback — the name `localhost`,
//! an address in 127.0.0.0/8, or `::1` — decided by parsing the host, never by a string prefix
//! (`http://127.attacker.example` is a DNS name, not a loopback address). URLs carrying
//! userinfo, a query or a fragment are refused: the endpoint is `{URL}/admin/leaks`, nothing else.

use std::net::{Ipv4Addr, Ipv6Addr};

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

/// Whether `host` (as it appears in a URL's authority, IPv6 in brackets) names this machine:
/// `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>() == Ok(Ipv6Addr::LOCALHOST);
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
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
    let host = authority.host();
    let plain_http = match uri.scheme_str() {
        Some("https") => false,
        Some("http") if is_loopback_host(host) => true,
        Some("http") => {
            return Err(refuse(
                "plain http is allowed only to a loopback host (localhost, 127.0.0.0/8, ::1); \
                 the admin credentials would cross the network in clear — use https",
            ));
        }
        _ => return Err(refuse("the scheme must be https (or http on loopback)")),
    };
    let base = url.trim_end_matches('/');
    Ok(Target {
        leaks_url: format!("{base}/admin/leaks"),
        plain_http,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_parsed_not_prefixed() {
        for host in [
            "localhost",
            "LocalHost",
            "127.0.0.1",
            "127.255.3.4",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "127.attacker.example",
            "127.0.0.1.nip.io",
            "localhost.attacker.example",
            "0x7f.0.0.1",
            "128.0.0.1",
            "10.0.0.1",
            "[::ffff:127.0.0.1]",
            "[::2]",
            "::1",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
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
