//! `GET /admin/alerts?status=open|acked|all&detector=D&limit=N`: the monitor's stored alerts,
//! newest first, for a client holding `tessera:admin`. The query carries filters only, never
//! credentials.
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use tessera_core::ops::alerts::{self, MAX_LIST};
use tessera_core::store::{AlertFilter, AlertStatus};
use tessera_proto::OAuthError;

use super::caller::{self, BodyKind};
use crate::routes::finish;
use crate::state::App;

pub async fn handle(State(app): State<App>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let mut basic = false;
    let query = req.uri().query().unwrap_or("").to_string();
    let result = async {
        let admin = caller::read(&app, req, BodyKind::Empty, &mut basic).await?;
        let filter = parse_query(&query)?;
        let list = alerts::list(&app.authority, &admin.caller, &filter).await?;
        let alerts: Vec<_> = list.iter().map(alerts::to_json).collect();
        Ok(axum::Json(serde_json::json!({ "alerts": alerts })).into_response())
    }
    .await;
    finish(&app, "admin_alerts", started, basic, result)
}

/// The filters; an unknown parameter or a bad value is `invalid_request`, so a typo never
/// silently lists everything.
fn parse_query(query: &str) -> Result<AlertFilter, OAuthError> {
    let mut filter = AlertFilter::default();
    let mut seen = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if seen.contains(&key) {
            return Err(OAuthError::invalid_request(format!(
                "the {key} parameter is repeated"
            )));
        }
        match key.as_ref() {
            "status" => {
                filter.status = match value.as_ref() {
                    "all" => None,
                    s => Some(AlertStatus::parse(s).ok_or_else(|| {
                        OAuthError::invalid_request("status must be open, acked or all")
                    })?),
                }
            }
            "detector" => filter.detector = Some(value.to_string()),
            "limit" => {
                filter.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIST).contains(n))
                    .ok_or_else(|| {
                        OAuthError::invalid_request(format!(
                            "limit must be a number from 1 to {MAX_LIST}"
                        ))
                    })?
            }
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "unknown parameter {key}"
                )));
            }
        }
        seen.push(key);
    }
    Ok(filter)
}
