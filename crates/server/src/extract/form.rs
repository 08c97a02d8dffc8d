//! The form body of a protocol request, checked before anything reads it: no parameters in the
//! URL query (tokens and credentials never belong in URLs), the right content type, a bounded
//! size, UTF-8. Each failure is an `invalid_request` JSON answer, never a framework's plain text.
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Request, header};
use tessera_core::config::LimitConfig;
use tessera_core::params::Params;
use tessera_proto::OAuthError;

/// Reads and decodes the form body of `req`, within `limits` (size and read timeout).
pub async fn read_form(
    req: Request<Body>,
    limits: &LimitConfig,
) -> Result<(Parts, Params), OAuthError> {
    let (parts, body) = req.into_parts();
    if parts.uri.query().is_some_and(|q| !q.is_empty()) {
        return Err(OAuthError::invalid_request(
            "parameters must be sent in the request body, never in the URL query",
        ));
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = super::body::read(body, limits.max_body_bytes, limits.read_timeout()).await?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(OAuthError::invalid_request(
            "the request body is not valid UTF-8",
        ));
    }
    let pairs = form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((parts, Params::new(pairs)))
}

/// Property tests of the form extractor: any body, any query and content type is answered with
/// parameters or `invalid_request`, never a panic; serialised pairs come back as they were sent.
#[cfg(test)]
mod proptests {
    use axum::body::Body;
    use axum::http::Request;
    use proptest::prelude::*;
    use tessera_core::config::LimitConfig;
    use tessera_proto::ErrorCode;

    use super::read_form;

    fn run(
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<tessera_core::params::Params, ErrorCode> {
        let req = Request::post(uri)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let limits = LimitConfig {
            max_body_bytes: 4096,
            ..LimitConfig::default()
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(read_form(req, &limits))
            .map(|(_, params)| params)
            .map_err(|e| e.code)
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    /// Form-ish bytes: separators, percent signs with good and bad digits, `+`, multi-byte text.
    fn formish() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "&",
                    "=",
                    "%",
                    "%2",
                    "%zz",
                    "%ff",
                    "%e9",
                    "%C3%A9",
                    "%00",
                    "+",
                    "é",
                    "😀",
                    "token",
                    "client_id",
                    "\u{0}",
                    "%%",
                    "==",
                    "&&",
                ])
                .prop_map(|s| s.as_bytes().to_vec()),
                any::<u8>().prop_map(|b| vec![b]),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_body_is_parameters_or_invalid_request(
            body in formish(),
            content_type in prop::sample::select(vec![FORM, "application/json", "", "Application/X-WWW-Form-Urlencoded; charset=é"]),
            query in prop::option::of("[a-z=&%é]{0,10}"),
        ) {
            let uri = query.map_or("/token".to_string(), |q| format!("/token?{q}"));
            if let Err(code) = run(&uri, content_type, body) {
                prop_assert_eq!(code, ErrorCode::InvalidRequest);
            }
        }

        #[test]
        fn serialised_pairs_round_trip_and_duplicates_are_refused(
            pairs in prop::collection::vec(("[a-z_]{1,6}", any::<String>()), 0..6),
        ) {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            let params = run("/token", FORM, body.into_bytes()).unwrap();
            for (name, value) in &pairs {
                let count = pairs.iter().filter(|(n, _)| n == name).count();
                match params.get(name) {
                    Ok(got) => {
                        prop_assert_eq!(count, 1);
                        prop_assert_eq!(got, Some(value.as_str()).filter(|v| !v.is_empty()));
                    }
                    Err(e) => {
                        prop_assert!(count > 1);
                        prop_assert_eq!(e.code, ErrorCode::InvalidRequest);
                    }
                }
                let all: Vec<&str> = pairs
                    .iter()
                    .filter(|(n, v)| n == name && !v.is_empty())
                    .map(|(_, v)| v.as_str())
                    .collect();
                prop_assert_eq!(params.all(name), all);
            }
        }
    }
}
