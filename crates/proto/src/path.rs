//! The one normal form of a request path (RFC 3986 §6.2.2): a resource server matches route
//! scopes on it and forwards it, and a DPoP `htu` is compared in it on both sides. Whatever the
//! client wrote (`/x/../admin`, `/./admin`, `/%61dmin`, `//admin`), every check sees the same
//! path, so no spelling reaches a protected route unchecked. What cannot be normalised safely
//! is refused, not guessed at.
use std::fmt;

/// Why a path was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Not an absolute path (`*`, an empty path, a relative reference).
    NotAbsolute,
    /// A `%` not followed by two hexadecimal digits.
    BadPercentEncoding,
    /// `%2F` or `%5C`, or a raw `\`: servers disagree on whether these separate segments.
    EncodedSeparator,
    /// NUL or another control character, raw or percent-encoded.
    ControlCharacter,
    /// A `..` that climbs above the root.
    AboveRoot,
    /// A dot segment carrying parameters (`..;x`), which some servers resolve as `..`.
    DotSegmentWithParameters,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAbsolute => "the path is not absolute",
            Self::BadPercentEncoding => "the path has a malformed percent-encoding",
            Self::EncodedSeparator => "the path has an encoded / or a backslash",
            Self::ControlCharacter => "the path has a control character",
            Self::AboveRoot => "the path climbs above the root",
            Self::DotSegmentWithParameters => "the path has a dot segment with parameters",
        })
    }
}

impl std::error::Error for PathError {}

/// RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// RFC 3986 §6.2.2.1–2: percent-encodings of unreserved characters are decoded, the others kept
/// with upper-case hex digits. Encoded separators and control characters are refused.
fn decode_unreserved(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(PathError::BadPercentEncoding);
            };
            let decoded = hi << 4 | lo;
            if decoded == b'/' || decoded == b'\\' {
                return Err(PathError::EncodedSeparator);
            }
            if decoded.is_ascii_control() {
                return Err(PathError::ControlCharacter);
            }
            if unreserved(decoded) {
                out.push(decoded as char);
            } else {
                out.push('%');
                out.push(char::from_digit(u32::from(hi), 16).unwrap_or('0'));
                out.push(char::from_digit(u32::from(lo), 16).unwrap_or('0'));
                let n = out.len();
                out[n - 2..].make_ascii_uppercase();
            }
            i += 3;
            continue;
        }
        if b == b'\\' {
            return Err(PathError::EncodedSeparator);
        }
        if b.is_ascii_control() {
            return Err(PathError::ControlCharacter);
        }
        // Copy the whole character (a non-ASCII one spans several bytes).
        let len = raw[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&raw[i..i + len]);
        i += len;
    }
    Ok(out)
}

/// The normal form of the absolute path `raw` (without query): percent-encodings of unreserved
/// characters decoded (RFC 3986 §6.2.2.2) and the others upper-cased (§6.2.2.1), empty segments
/// (`//`) collapsed, then dot segments removed (§5.2.4 `remove_dot_segments`). A trailing `/`
/// (or a final `.` or `..`) is kept as a trailing `/`.
///
/// Refused rather than normalised: `%2F`, `%5C` and raw `\` (a segment boundary to some servers,
/// not to others), NUL and other control characters (raw or encoded), malformed `%`, `..` above
/// the root, and `.`/`..` segments with `;` parameters (which servlet containers resolve).
///
/// The result is a fixed point (normalising it again returns it unchanged) and never contains
/// `//`, `/./` or `/../`.
pub fn normalize(raw: &str) -> Result<String, PathError> {
    if !raw.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let decoded = decode_unreserved(raw)?;
    let segments: Vec<&str> = decoded[1..].split('/').collect();
    let last = segments.len() - 1;
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    let mut trailing = false;
    for (i, segment) in segments.into_iter().enumerate() {
        let bare = segment.split(';').next().unwrap_or("");
        match segment {
            // Duplicate slashes: one separator, as most servers read them.
            "" | "." => trailing = i == last,
            // RFC 3986 §5.2.4 2.C: ".." removes the last output segment.
            ".." => {
                if kept.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
                trailing = i == last;
            }
            _ if bare == "." || bare == ".." => {
                return Err(PathError::DotSegmentWithParameters);
            }
            _ => {
                kept.push(segment);
                trailing = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for s in &kept {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || trailing {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_spelling_of_a_path_has_one_normal_form() {
        for raw in [
            "/admin",
            "/x/../admin",
            "/./admin",
            "/%61dmin",
            "/%61%64%6D%69%6e",
            "//admin",
            "///admin",
            "/x/y/../../admin",
            "/x//..//admin",
            "/%2e/admin",
            "/x/%2E%2E/admin",
            "/admin/.",
        ] {
            let want = if raw.ends_with('.') {
                "/admin/"
            } else {
                "/admin"
            };
            assert_eq!(normalize(raw).as_deref(), Ok(want), "{raw}");
        }
        assert_eq!(normalize("/").as_deref(), Ok("/"));
        assert_eq!(normalize("//").as_deref(), Ok("/"));
        assert_eq!(normalize("/a/..").as_deref(), Ok("/"));
        assert_eq!(normalize("/a/b/").as_deref(), Ok("/a/b/"));
        assert_eq!(normalize("/a/b/..").as_deref(), Ok("/a/"));
        assert_eq!(normalize("/caf%c3%a9").as_deref(), Ok("/caf%C3%A9"));
        assert_eq!(normalize("/a%20b").as_deref(), Ok("/a%20b"));
        assert_eq!(normalize("/%25").as_deref(), Ok("/%25"));
        assert_eq!(normalize("/a;v=1/b").as_deref(), Ok("/a;v=1/b"));
        assert_eq!(normalize("/é").as_deref(), Ok("/é"));
    }

    #[test]
    fn what_cannot_be_normalised_safely_is_refused() {
        use PathError::*;
        for (raw, why) in [
            ("", NotAbsolute),
            ("*", NotAbsolute),
            ("admin", NotAbsolute),
            ("/%2Fadmin", EncodedSeparator),
            ("/x%2f..%2fadmin", EncodedSeparator),
            ("/%5Cadmin", EncodedSeparator),
            ("/x\\..\\admin", EncodedSeparator),
            ("/%00", ControlCharacter),
            ("/a\0b", ControlCharacter),
            ("/a%0Ab", ControlCharacter),
            ("/a%7f", ControlCharacter),
            ("/a\tb", ControlCharacter),
            ("/%", BadPercentEncoding),
            ("/%6", BadPercentEncoding),
            ("/%zz", BadPercentEncoding),
            ("/..", AboveRoot),
            ("/../admin", AboveRoot),
            ("/x/../../admin", AboveRoot),
            ("/%2e%2e/admin", AboveRoot),
            ("/x/..;/admin", DotSegmentWithParameters),
            ("/x/.;a/admin", DotSegmentWithParameters),
        ] {
            assert_eq!(normalize(raw), Err(why), "{raw:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_and_is_idempotent(raw in "\\PC{0,40}") {
            let _ = normalize(&raw);
            let with_slash = format!("/{raw}");
            if let Ok(n) = normalize(&with_slash) {
                prop_assert_eq!(normalize(&n), Ok(n.clone()));
                prop_assert!(!n.contains("//") && !n.contains("/./") && !n.contains("/../"));
                prop_assert!(!n.ends_with("/.") && !n.ends_with("/.."));
            }
        }

        #[test]
        fn never_panics_on_percent_soup(raw in "/[%0-9a-fA-F./;\\\\a-z]{0,40}") {
            if let Ok(n) = normalize(&raw) {
                prop_assert_eq!(normalize(&n), Ok(n.clone()));
                prop_assert!(!n.contains("//") && !n.contains("/./") && !n.contains("/../"));
            }
        }
    }
}
