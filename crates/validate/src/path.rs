//! The one normal form of a request path, on which route scopes are matched and which is
//! forwarded (the normalisation itself is proto's [`normalize`], shared with the DPoP `htu`
//! check); here, what only route matching needs: the servlet view of `;parameters`.
pub use tessera_proto::path::{PathError, normalize};

/// `path` with the `;parameters` of each segment removed (`/admin;x/y` → `/admin/y`): what a
/// servlet container routes on. Route scopes apply to this form too.
pub(crate) fn without_parameters(path: &str) -> Option<String> {
    if !path.contains(';') {
        return None;
    }
    Some(
        path.split('/')
            .map(|s| s.split(';').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("/"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parameters_are_stripped_for_matching() {
        assert_eq!(without_parameters("/admin"), None);
        assert_eq!(
            without_parameters("/admin;jsessionid=1/x;y").as_deref(),
            Some("/admin/x")
        );
    }

    /// A path segment from a small alphabet, so collisions with the protected prefix are likely.
    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("admin".to_string()),
            Just("x".to_string()),
            "[a-z0-9._~-]{1,6}".prop_filter("no dot segment", |s| s != "." && s != ".."),
        ]
    }

    /// One way of writing `segment` that a server resolves back to it.
    fn spell(segment: &str, how: &[u8]) -> String {
        let mut out = String::new();
        for (i, c) in segment.chars().enumerate() {
            match how.get(i).copied().unwrap_or(0) % 3 {
                0 => out.push(c),
                1 => out.push_str(&format!("%{:02x}", c as u32)),
                _ => out.push_str(&format!("%{:02X}", c as u32)),
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever detours and encodings a client uses, the normal form is the plain path's,
        /// so a rule on a prefix of it applies.
        #[test]
        fn every_encoding_of_a_protected_path_is_caught(
            segments in prop::collection::vec(segment(), 1..5),
            spellings in prop::collection::vec(prop::collection::vec(any::<u8>(), 6), 5),
            detours in prop::collection::vec(0u8..5, 5),
        ) {
            let plain = format!("/{}", segments.join("/"));
            let mut written = String::new();
            for (i, s) in segments.iter().enumerate() {
                match detours[i] {
                    1 => written.push_str("/."),
                    2 => written.push_str("/zz/.."),
                    3 => written.push('/'),
                    4 => written.push_str("/%2e"),
                    _ => {}
                }
                written.push('/');
                written.push_str(&spell(s, &spellings[i]));
            }
            prop_assert_eq!(normalize(&written), normalize(&plain));
            prop_assert_eq!(normalize(&plain), Ok(plain.clone()));
            let rule = crate::RouteScope::parse(&format!("/{}=s", segments[0])).unwrap();
            prop_assert!(rule.applies("GET", &normalize(&written).unwrap()));
        }
    }
}
