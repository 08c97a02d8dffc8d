//! The one "https, or plain http only on loopback" rule, for every URL Tessera accepts or dials.
//!
//! Issuer identifiers, native-app redirect URIs (RFC 8252 §7.3), `jwks_uri`, the scanner's and
//! the proxy's authorization server, `tessera-validate`'s issuer: each may be plain `http` only
//! when its host is the local machine. Deciding that by string prefix (`http://127.`) lets
//! `http://127.attacker.example` through, so the host is parsed, twice:
//!
//! - by the WHATWG parser (`url`), which is what reqwest and browsers connect to, and
//! - by the RFC 3986 parser (`http::Uri`), which keeps the host as written.
//!
//! A host counts as loopback only when both parsers agree that it is `localhost`, an address in
//! 127.0.0.0/8 written in plain dotted decimal, or `::1`, and the URL has no userinfo. Spellings
//! the parsers read differently (`0x7f.1`, `127.1`, `0177.0.0.1`, a backslash before `@`) are
//! not loopback: refusing them costs no real deployment, and a parser differential is exactly
//! how such checks are bypassed.
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a URL is refused by [`https_or_loopback_http`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsecureUrl {
    /// Not an absolute `http`/`https` URL with a host.
    #[error("not an absolute http(s) URL with a host")]
    NotHttpUrl,
    /// Plain `http` to a host that is not loopback (`localhost`, 127.0.0.0/8, `::1`).
    #[error("plain http is allowed only on a loopback host (localhost, 127.0.0.0/8, [::1])")]
    HttpOffLoopback,
}

/// Whether `uri`'s host is the local machine: `localhost`, 127.0.0.0/8 or `::1`, with no
/// userinfo, read the same way by the WHATWG and the RFC 3986 parsers. The scheme is not checked.
pub fn is_loopback_url(uri: &str) -> bool {
    let Ok(whatwg) = url::Url::parse(uri) else {
        return false;
    };
    let Ok(rfc3986) = uri.parse::<http::Uri>() else {
        return false;
    };
    if !whatwg.username().is_empty() || whatwg.password().is_some() {
        return false;
    }
    let Some(authority) = rfc3986.authority() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    // `http::Uri` hands the host back as written, brackets included for IPv6.
    let written = authority.host();
    match whatwg.host() {
        Some(url::Host::Domain(d)) => d == "localhost" && written.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback() && written.parse::<Ipv4Addr>().is_ok_and(|w| w == ip)
        }
        Some(url::Host::Ipv6(ip)) => {
            ip == Ipv6Addr::LOCALHOST
                && written
                    .strip_prefix('[')
                    .and_then(|w| w.strip_suffix(']'))
                    .and_then(|w| w.parse::<Ipv6Addr>().ok())
                    == Some(ip)
        }
        None => false,
    }
}

/// Accepts `https` URLs, and `http` URLs only on a loopback host ([`is_loopback_url`]).
pub fn https_or_loopback_http(uri: &str) -> Result<(), InsecureUrl> {
    let url = url::Url::parse(uri).map_err(|_| InsecureUrl::NotHttpUrl)?;
    if url.host().is_none() {
        return Err(InsecureUrl::NotHttpUrl);
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(uri) => Ok(()),
        "http" => Err(InsecureUrl::HttpOffLoopback),
        _ => Err(InsecureUrl::NotHttpUrl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_accepted() {
        for uri in [
            "http://localhost",
            "http://LOCALHOST:8080/cb",
            "http://127.0.0.1",
            "http://127.0.0.2:9000/x",
            "http://127.255.255.254",
            "http://[::1]",
            "http://[::1]:8443/jwks",
            "http://[0:0:0:0:0:0:0:1]/",
        ] {
            assert!(is_loopback_url(uri), "{uri} should be loopback");
            assert_eq!(https_or_loopback_http(uri), Ok(()), "{uri}");
        }
    }

    /// Issue 13, finding 9: each of these passed (or would pass) a string-prefix check.
    #[test]
    fn look_alikes_and_tricks_are_not_loopback() {
        for uri in [
            "http://127.attacker.example",
            "http://127.0.0.1.attacker.example",
            "http://localhost.attacker.example",
            "http://localhost.",
            "http://[::1].attacker.example",
            "http://127.0.0.1@evil.example",
            "http://localhost@evil.example",
            "http://127.0.0.1:80@evil.example/",
            "http://evil.example@127.0.0.1/",
            "http://user:pw@localhost/",
            "http://127.0.0.1\\@evil.example/",
            "http://0x7f.1",
            "http://0x7f000001",
            "http://2130706433",
            "http://127.1",
            "http://0177.0.0.1",
            "http://[::ffff:127.0.0.1]",
            "http://[::]",
            "http://0.0.0.0",
            "http://10.0.0.1",
            "http://evil.example/http://127.0.0.1",
            "http://evil.example?localhost",
            "http://evil.example#@127.0.0.1",
            "http:127.0.0.1",
            "127.0.0.1:8080",
        ] {
            assert!(!is_loopback_url(uri), "{uri} must not be loopback");
            assert!(https_or_loopback_http(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn https_anywhere_other_schemes_nowhere() {
        assert_eq!(https_or_loopback_http("https://as.example.com"), Ok(()));
        assert_eq!(
            https_or_loopback_http("https://127.attacker.example/x"),
            Ok(())
        );
        assert_eq!(
            https_or_loopback_http("http://as.example.com"),
            Err(InsecureUrl::HttpOffLoopback)
        );
        assert_eq!(
            https_or_loopback_http("ftp://localhost/x"),
            Err(InsecureUrl::NotHttpUrl)
        );
        assert_eq!(
            https_or_loopback_http("not a url"),
            Err(InsecureUrl::NotHttpUrl)
        );
        assert_eq!(
            https_or_loopback_http("https://"),
            Err(InsecureUrl::NotHttpUrl)
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = is_loopback_url(&s);
            let _ = https_or_loopback_http(&s);
        }

        /// Anything built around a loopback-looking prefix is loopback only if the host that
        /// reqwest would connect to really is loopback.
        #[test]
        fn accepted_means_connected_to_loopback(
            prefix in prop::sample::select(vec!["127.", "127.0.0.1", "localhost", "[::1]", "0x7f", ""]),
            tail in "[a-z0-9.@:/\\\\\\[\\]%-]{0,24}",
        ) {
            let uri = format!("http://{prefix}{tail}");
            if is_loopback_url(&uri) {
                let host = url::Url::parse(&uri).unwrap().host().map(|h| h.to_owned());
                let loopback = match host {
                    Some(url::Host::Domain(d)) => d == "localhost",
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                prop_assert!(loopback, "{} accepted", uri);
            }
        }

        #[test]
        fn every_127_slash_8_address_is_loopback(a in any::<u8>(), b in any::<u8>(), c in any::<u8>(), port in any::<u16>()) {
            let uri = format!("http://127.{a}.{b}.{c}:{port}/cb");
            prop_assert!(is_loopback_url(&uri));
            let other = format!("http://{}.{a}.{b}.{c}/cb", if a % 2 == 0 { 128 } else { 126 });
            prop_assert!(!is_loopback_url(&other));
        }
    }
}
