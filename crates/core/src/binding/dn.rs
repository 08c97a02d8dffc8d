//! Distinguished names for `tls_client_auth_subject_dn` (RFC 8705 §2.1.2): the RFC 4514 string
//! form parsed into its RDN sequence, formatted back, and compared with a certificate's subject
//! by RFC 4517 `distinguishedNameMatch` — attribute types by OID, values after string
//! preparation (RFC 4518, `caseIgnoreMatch`), RDN order significant. Comparing display strings
//! instead lets a comma inside one value, or the RDNs in the other order, pass for another name.
use std::fmt;

use unicode_normalization::UnicodeNormalization;
use x509_parser::asn1_rs::{Any, Class, FromDer, Tag};
use x509_parser::x509::X509Name;

/// RFC 4514 §3 short names, plus the other names OpenSSL and most CAs print, with their OIDs.
/// The first name listed for an OID is the one [`DistinguishedName`]'s `Display` writes.
const NAMES: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("serialNumber", "2.5.4.5"),
    ("SN", "2.5.4.4"),
    ("GN", "2.5.4.42"),
    ("givenName", "2.5.4.42"),
    ("surname", "2.5.4.4"),
    ("title", "2.5.4.12"),
    ("emailAddress", "1.2.840.113549.1.9.1"),
    ("postalCode", "2.5.4.17"),
    ("organizationIdentifier", "2.5.4.97"),
    ("commonName", "2.5.4.3"),
    ("organizationName", "2.5.4.10"),
    ("organizationalUnitName", "2.5.4.11"),
    ("countryName", "2.5.4.6"),
    ("localityName", "2.5.4.7"),
    ("stateOrProvinceName", "2.5.4.8"),
];

/// Longest DN string accepted for registration (a bound, far above any real subject).
const MAX_DN_LEN: usize = 4096;

/// One `attributeTypeAndValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ava {
    /// The attribute type as a dotted OID (short names are resolved at parse time).
    pub oid: String,
    /// The value as written.
    pub value: AvaValue,
}

/// An attribute value: a string, or RFC 4514 §2.4's `#` hex form (the BER encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AvaValue {
    /// A string value, unescaped.
    Text(String),
    /// The BER encoding of the value.
    Ber(Vec<u8>),
}

/// A distinguished name: its RDNs in ASN.1 order (the root first, as a certificate encodes
/// them; the RFC 4514 string lists them the other way round). Each RDN is a non-empty set of
/// AVAs, kept in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName {
    /// The RDNs, root first.
    pub rdns: Vec<Vec<Ava>>,
}

/// Why a DN string did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnError(pub &'static str);

impl fmt::Display for DnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RFC 4514 distinguished name: {}", self.0)
    }
}

impl std::error::Error for DnError {}

/// A value prepared for comparison: RFC 4518 prepared text, or the raw encoding of a value that
/// is no string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prepared {
    Text(String),
    Other { class: u8, tag: u32, data: Vec<u8> },
}

impl DistinguishedName {
    /// Parses an RFC 4514 string. Spaces around `,`, `+` and `=` are tolerated (RFC 4514 §4
    /// lets implementations accept other forms; they are insignificant under RFC 4518 anyway);
    /// anything else outside the grammar is an error: `;` separators, unescaped `"` `<` `>`,
    /// bad escapes, unknown type names, `#` values that are not BER, invalid UTF-8 escapes.
    pub fn parse(s: &str) -> Result<Self, DnError> {
        if s.len() > MAX_DN_LEN {
            return Err(DnError("too long"));
        }
        let mut p = Parser {
            b: s.as_bytes(),
            i: 0,
        };
        let mut rdns = Vec::new();
        p.skip_spaces();
        if p.at_end() {
            return Ok(Self { rdns });
        }
        loop {
            let mut rdn = Vec::new();
            loop {
                rdn.push(p.ava()?);
                p.skip_spaces();
                match p.next() {
                    None => {
                        rdns.push(rdn);
                        rdns.reverse();
                        return Ok(Self { rdns });
                    }
                    Some(b'+') => continue,
                    Some(b',') => break,
                    Some(_) => return Err(DnError("expected ',' or '+' after a value")),
                }
            }
            rdns.push(rdn);
        }
    }

    /// RFC 4517 §4.2.15 `distinguishedNameMatch`: the same number of RDNs, and each RDN of one
    /// matching the RDN at the same position in the other — the same set of attribute types,
    /// each value matching by its equality rule (here `caseIgnoreMatch` for every string).
    pub fn matches(&self, subject: &X509Name<'_>) -> bool {
        let ours: Option<Vec<Vec<(String, Prepared)>>> = self
            .rdns
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|ava| Some((ava.oid.clone(), prepare_ava(&ava.value)?)))
                    .collect()
            })
            .collect();
        let Some(ours) = ours else { return false };
        let theirs: Option<Vec<Vec<(String, Prepared)>>> = subject
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|atv| {
                        Some((
                            atv.attr_type().to_id_string(),
                            prepare_any(atv.attr_value())?,
                        ))
                    })
                    .collect()
            })
            .collect();
        let Some(theirs) = theirs else { return false };
        ours.len() == theirs.len()
            && ours.into_iter().zip(theirs).all(|(mut a, mut b)| {
                // An RDN is a SET: the order of its AVAs carries no meaning.
                a.sort();
                b.sort();
                a == b
            })
    }
}

impl fmt::Display for DistinguishedName {
    /// The RFC 4514 string: the last RDN first, values escaped per §2.4.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, ava) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                let name = NAMES
                    .iter()
                    .find(|(_, oid)| *oid == ava.oid)
                    .map_or(ava.oid.as_str(), |(n, _)| n);
                write!(f, "{name}=")?;
                match &ava.value {
                    AvaValue::Text(t) => write_escaped(f, t)?,
                    AvaValue::Ber(b) => {
                        f.write_str("#")?;
                        for byte in b {
                            write!(f, "{byte:02x}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// RFC 4514 §2.4: escape the specials, a leading space or `#`, a trailing space, and NUL.
fn write_escaped(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => write!(f, "\\{c}")?,
            '\0' => f.write_str("\\00")?,
            ' ' if i == 0 || i == last => f.write_str("\\ ")?,
            '#' if i == 0 => f.write_str("\\#")?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// `attributeType EQUALS attributeValue`, spaces around `=` tolerated.
    fn ava(&mut self) -> Result<Ava, DnError> {
        self.skip_spaces();
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| DnError("type"))?;
        let oid = attribute_oid(name)?;
        self.skip_spaces();
        if self.next() != Some(b'=') {
            return Err(DnError("expected '=' after an attribute type"));
        }
        self.skip_spaces();
        let value = if self.peek() == Some(b'#') {
            self.i += 1;
            AvaValue::Ber(self.hexstring()?)
        } else {
            AvaValue::Text(self.string()?)
        };
        Ok(Ava { oid, value })
    }

    /// RFC 4514 §3 `hexstring`: the BER encoding of one value, which must parse as such.
    fn hexstring(&mut self) -> Result<Vec<u8>, DnError> {
        let mut out = Vec::new();
        while let Some(hi) = self.peek().and_then(hex_digit) {
            let lo = self
                .b
                .get(self.i + 1)
                .copied()
                .and_then(hex_digit)
                .ok_or(DnError("odd number of hex digits"))?;
            out.push(hi << 4 | lo);
            self.i += 2;
        }
        match Any::from_der(&out) {
            Ok((&[], _)) => Ok(out),
            _ => Err(DnError("a '#' value is not one BER-encoded value")),
        }
    }

    /// RFC 4514 §3 `string` with its escapes; unescaped trailing spaces are dropped.
    fn string(&mut self) -> Result<String, DnError> {
        let mut out = Vec::new();
        let mut keep = 0;
        while let Some(c) = self.peek() {
            match c {
                b',' | b'+' => break,
                b'\\' => {
                    self.i += 1;
                    let e = self.next().ok_or(DnError("dangling '\\'"))?;
                    if let Some(hi) = hex_digit(e) {
                        let lo = self
                            .next()
                            .and_then(hex_digit)
                            .ok_or(DnError("bad hex escape"))?;
                        out.push(hi << 4 | lo);
                    } else if b"\"+,;<>\\ #=".contains(&e) {
                        out.push(e);
                    } else {
                        return Err(DnError("bad escape"));
                    }
                    keep = out.len();
                }
                b'"' | b';' | b'<' | b'>' | 0 => {
                    return Err(DnError("unescaped '\"', ';', '<', '>' or NUL in a value"));
                }
                _ => {
                    self.i += 1;
                    out.push(c);
                    if c != b' ' {
                        keep = out.len();
                    }
                }
            }
        }
        out.truncate(keep);
        String::from_utf8(out).map_err(|_| DnError("escapes that are not UTF-8"))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// RFC 4514 §3 `attributeType`: a known short name (case-insensitive) or a `numericoid`.
fn attribute_oid(name: &str) -> Result<String, DnError> {
    if name.is_empty() {
        return Err(DnError("missing attribute type"));
    }
    if name.as_bytes()[0].is_ascii_digit() {
        // RFC 4512 §1.4: numericoid = number 1*( DOT number ), no leading zeros.
        let ok = name.split('.').count() >= 2
            && name.split('.').all(|n| {
                !n.is_empty()
                    && n.len() <= 19
                    && n.bytes().all(|c| c.is_ascii_digit())
                    && (n == "0" || !n.starts_with('0'))
            });
        return if ok {
            Ok(name.to_string())
        } else {
            Err(DnError("malformed numeric OID"))
        };
    }
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, oid)| (*oid).to_string())
        .ok_or(DnError("unknown attribute type name (use its numeric OID)"))
}

fn prepare_ava(value: &AvaValue) -> Option<Prepared> {
    match value {
        AvaValue::Text(t) => Some(Prepared::Text(prepare(t))),
        AvaValue::Ber(b) => {
            let (_, any) = Any::from_der(b).ok()?;
            prepare_any(&any)
        }
    }
}

/// A certificate's (or a `#` value's) attribute value: string types decoded and prepared,
/// anything else compared by its exact encoding.
fn prepare_any(any: &Any<'_>) -> Option<Prepared> {
    let data = any.data;
    let text = if any.class() != Class::Universal {
        None
    } else {
        match any.tag() {
            Tag::Utf8String
            | Tag::PrintableString
            | Tag::Ia5String
            | Tag::VisibleString
            | Tag::NumericString => Some(std::str::from_utf8(data).ok()?.to_string()),
            // T.61 in practice: read as Latin-1, as most software does.
            Tag::TeletexString => Some(data.iter().map(|&b| b as char).collect()),
            Tag::BmpString => {
                if !data.len().is_multiple_of(2) {
                    return None;
                }
                let units: Vec<u16> = data
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                Some(String::from_utf16(&units).ok()?)
            }
            Tag::UniversalString => {
                if !data.len().is_multiple_of(4) {
                    return None;
                }
                data.chunks_exact(4)
                    .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .collect::<Option<String>>()
            }
            _ => None,
        }
    };
    Some(match text {
        Some(t) => Prepared::Text(prepare(&t)),
        None => Prepared::Other {
            class: any.class() as u8,
            tag: any.tag().0,
            data: data.to_vec(),
        },
    })
}

/// RFC 4518 string preparation for `caseIgnoreMatch`: map (controls and zero-width characters
/// to nothing, other spaces to SPACE, case folded), normalise (NFKC), then insignificant space
/// handling (§2.6.1: no leading or trailing space, inner runs of spaces count as one).
fn prepare(value: &str) -> String {
    let mapped: String = value
        .chars()
        .filter(|c| {
            // §2.2: mapped to nothing — controls other than the spaces below, soft hyphen,
            // zero-width and variation selectors, the object replacement character.
            (!c.is_control() || matches!(c, '\t' | '\n' | '\x0B' | '\x0C' | '\r' | '\u{85}'))
                && !matches!(
                    c,
                    '\u{AD}'
                        | '\u{180B}'..='\u{180D}'
                        | '\u{200B}'..='\u{200D}'
                        | '\u{2060}'
                        | '\u{FE00}'..='\u{FE0F}'
                        | '\u{FEFF}'
                        | '\u{FFFC}'
                )
        })
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .flat_map(char::to_lowercase)
        .nfkc()
        .collect();
    mapped
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(oid: &str, v: &str) -> Ava {
        Ava {
            oid: oid.into(),
            value: AvaValue::Text(v.into()),
        }
    }

    #[test]
    fn the_string_lists_the_last_rdn_first() {
        let dn = DistinguishedName::parse("CN=svc,O=acme,C=DE").unwrap();
        assert_eq!(
            dn.rdns,
            vec![
                vec![text("2.5.4.6", "DE")],
                vec![text("2.5.4.10", "acme")],
                vec![text("2.5.4.3", "svc")],
            ]
        );
        assert_eq!(dn.to_string(), "CN=svc,O=acme,C=DE");
    }

    #[test]
    fn escapes_multi_valued_rdns_hex_and_spaces() {
        let dn = DistinguishedName::parse(r"cn = svc\, O=acme + uid=7 , 2.5.4.10=#0c0461636d65")
            .unwrap();
        assert_eq!(
            dn.rdns,
            vec![
                vec![Ava {
                    oid: "2.5.4.10".into(),
                    value: AvaValue::Ber(vec![0x0c, 4, b'a', b'c', b'm', b'e']),
                }],
                vec![
                    text("2.5.4.3", "svc, O=acme"),
                    text("0.9.2342.19200300.100.1.1", "7")
                ],
            ]
        );
        let dn = DistinguishedName::parse(r"CN=\ a\c3\a9\ ").unwrap();
        assert_eq!(dn.rdns, vec![vec![text("2.5.4.3", " aé ")]]);
        assert_eq!(dn.to_string(), r"CN=\ aé\ ");
    }

    #[test]
    fn refuses_what_is_not_rfc_4514() {
        for bad in [
            "CN=a;O=b",
            "CN=a\"b",
            "CN=a<b",
            "CN=svc,",
            ",CN=svc",
            "CN",
            "=svc",
            "XX=svc",
            "OID.2.5.4.3=svc",
            "2.5.4.03=x",
            "CN=\\zz",
            "CN=\\c3",
            "CN=#0c05abc",
            "CN=#zz",
            "CN=a+",
            "/CN=svc/O=acme",
        ] {
            assert!(DistinguishedName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(DistinguishedName::parse("").unwrap().rdns.len(), 0);
    }

    #[test]
    fn preparation_ignores_case_and_insignificant_space() {
        assert_eq!(prepare("  Acme   Corp\u{200B} "), "acme corp");
        assert_eq!(prepare("ＡＣＭＥ"), "acme");
        assert_ne!(prepare("acme corp"), prepare("acmecorp"));
    }

    fn oid() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(NAMES.iter().map(|(_, o)| o.to_string()).collect::<Vec<_>>()),
            (
                1u64..3,
                0u64..40,
                prop::collection::vec(0u64..100_000, 0..4)
            )
                .prop_map(|(a, b, rest)| {
                    let mut s = format!("{a}.{b}");
                    for n in rest {
                        s.push_str(&format!(".{n}"));
                    }
                    s
                }),
        ]
    }

    fn value() -> impl Strategy<Value = AvaValue> {
        prop_oneof![
            4 => any::<String>().prop_map(AvaValue::Text),
            4 => "[ ,+=#;<>\"\\\\a-z]{0,8}".prop_map(AvaValue::Text),
            1 => prop::collection::vec(any::<u8>(), 0..20)
                .prop_map(|d| { let mut v = vec![0x0c, d.len() as u8]; v.extend(d); AvaValue::Ber(v) }),
        ]
    }

    fn dn() -> impl Strategy<Value = DistinguishedName> {
        prop::collection::vec(
            prop::collection::vec(
                (oid(), value()).prop_map(|(oid, value)| Ava { oid, value }),
                1..3,
            ),
            0..4,
        )
        .prop_map(|rdns| DistinguishedName { rdns })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = DistinguishedName::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_dn_like_input(s in "[ ,+=#;\\\\a-fA-F0-9CNOU.\"<>é]{0,40}") {
            let _ = DistinguishedName::parse(&s);
        }

        #[test]
        fn format_then_parse_round_trips(dn in dn()) {
            let text = dn.to_string();
            prop_assert_eq!(DistinguishedName::parse(&text), Ok(dn), "{}", text);
        }
    }
}
