//! Container and exec endpoints: parse Docker's parameters, call `daemon.containers`, and
//! answer in Docker's shapes. Each submodule has one group of endpoints; this one routes
//! `/containers/{id}/...` and holds the parameter helpers they share.
//!
//! The container manager resolves IDs, prefixes and names and decides every status (through
//! `ContainerError`); handlers only check what Docker's router checks before the backend.

pub mod archive;
pub mod attach;
pub mod exec;
pub mod lifecycle;
pub mod list_inspect;
pub mod logs;
pub mod stats;

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Request, Response};
use serde::de::DeserializeOwned;

use super::auth::read_small_body;
use super::body::Body;
use super::errors::ApiError;
use super::query::Query;
use super::router::ContainerOp;
use crate::daemon::state::Daemon;

/// Largest JSON body accepted (a create request with a big environment fits easily).
const MAX_JSON_BODY: usize = 4 * 1024 * 1024;

/// Runs the `/containers/{id}/...` endpoint `op`. `multiplexed_media`: the client's API
/// version expects Docker's multiplexed-stream media type.
pub async fn dispatch(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
    multiplexed_media: bool,
    id: String,
    op: ContainerOp,
) -> Result<Response<Body>, ApiError> {
    let d = &daemon;
    match op {
        ContainerOp::Inspect => list_inspect::inspect(d, &id, &query).await,
        ContainerOp::Top => list_inspect::top(d, &id, &query).await,
        ContainerOp::Changes => list_inspect::changes(d, &id).await,
        ContainerOp::Logs => logs::logs(d, &id, &query, multiplexed_media).await,
        ContainerOp::Stats => stats::stats(daemon.clone(), id, &query).await,
        ContainerOp::ArchiveStat => archive::stat(d, &id, &query).await,
        ContainerOp::ArchiveGet => archive::get(d, &id, &query).await,
        ContainerOp::ArchivePut => archive::put(d, &id, &query, req).await,
        ContainerOp::Start => lifecycle::start(d, &id, &req).await,
        ContainerOp::Stop => lifecycle::stop(d, &id, &query).await,
        ContainerOp::Restart => lifecycle::restart(d, &id, &query).await,
        ContainerOp::Kill => lifecycle::kill(d, &id, &query).await,
        ContainerOp::Pause => lifecycle::pause(d, &id).await,
        ContainerOp::Unpause => lifecycle::unpause(d, &id).await,
        ContainerOp::Wait => lifecycle::wait(d, &id, &query).await,
        ContainerOp::Rename => lifecycle::rename(d, &id, &query).await,
        ContainerOp::Delete => lifecycle::remove(d, &id, &query).await,
        ContainerOp::Resize => attach::resize(d, &id, &query).await,
        ContainerOp::Attach => attach::attach(d, &id, &query, req, multiplexed_media).await,
        ContainerOp::ExecCreate => exec::create(d, &id, req).await,
    }
}

/// Go's `strconv.Atoi` error text, which Docker passes through.
fn atoi_error(value: &str, out_of_range: bool) -> ApiError {
    let why = if out_of_range {
        "value out of range"
    } else {
        "invalid syntax"
    };
    ApiError::bad_request(format!("strconv.Atoi: parsing {value:?}: {why}"))
}

/// An optional integer parameter: absent or empty is `None`.
pub fn optional_int(query: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(value) = query.non_empty(name) else {
        return Ok(None);
    };
    value
        .parse::<i64>()
        .map(Some)
        .map_err(|e| atoi_error(value, is_overflow(&e)))
}

fn is_overflow(e: &std::num::ParseIntError) -> bool {
    matches!(
        e.kind(),
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
    )
}

/// A required terminal dimension (`h`, `w`); Docker refuses a missing one with Atoi's text.
pub fn dimension(query: &Query, name: &str) -> Result<u16, ApiError> {
    let value = query.get(name).unwrap_or("");
    let n: i64 = value
        .parse()
        .map_err(|e| atoi_error(value, is_overflow(&e)))?;
    u16::try_from(n).map_err(|_| atoi_error(value, true))
}

/// Docker's `BoolValueOrDefault`: the default when the parameter is absent.
pub fn bool_or(query: &Query, name: &str, default: bool) -> bool {
    match query.get(name) {
        None => default,
        Some(_) => query.bool(name),
    }
}

/// Docker's `CheckForJSON`: a body's Content-Type, when given, must be JSON.
fn check_json_content_type(req: &Request<Incoming>) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let media = text.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "unsupported Content-Type header ({text}): must be 'application/json'"
    )))
}

/// Reads a JSON request body; `None` when the body is empty.
pub async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<Option<T>, ApiError> {
    check_json_content_type(&req)?;
    let bytes = read_small_body(req.into_body(), MAX_JSON_BODY).await?;
    parse_json(&bytes)
}

/// A JSON body's value; `None` when empty (only whitespace).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::StatusCode;

    #[test]
    fn integers_use_atoi_words() {
        let q = Query::parse(Some("t=10&bad=ten&empty="));
        assert_eq!(optional_int(&q, "t").expect("ok"), Some(10));
        assert_eq!(optional_int(&q, "empty").expect("ok"), None);
        assert_eq!(optional_int(&q, "absent").expect("ok"), None);
        let e = optional_int(&q, "bad").expect_err("not a number");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "strconv.Atoi: parsing \"ten\": invalid syntax");
    }

    #[test]
    fn dimensions_are_required_and_bounded() {
        let q = Query::parse(Some("h=40&w=120&big=70000"));
        assert_eq!(dimension(&q, "h").expect("h"), 40);
        assert_eq!(dimension(&q, "w").expect("w"), 120);
        let e = dimension(&q, "x").expect_err("missing");
        assert_eq!(e.message, "strconv.Atoi: parsing \"\": invalid syntax");
        let e = dimension(&q, "big").expect_err("too big");
        assert_eq!(
            e.message,
            "strconv.Atoi: parsing \"70000\": value out of range"
        );
    }

    #[test]
    fn bool_default_applies_only_when_absent() {
        let q = Query::parse(Some("stream=0&empty="));
        assert!(!bool_or(&q, "stream", true));
        assert!(!bool_or(&q, "empty", true));
        assert!(bool_or(&q, "absent", true));
    }

    #[test]
    fn json_bodies() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Check {
            #[serde(rename = "Detach")]
            detach: bool,
        }
        assert_eq!(parse_json::<Check>(b"  \n").expect("empty"), None);
        assert_eq!(
            parse_json::<Check>(br#"{"Detach":true}"#).expect("ok"),
            Some(Check { detach: true })
        );
        let e = parse_json::<Check>(b"{nope").expect_err("bad");
        assert!(e.message.starts_with("invalid JSON: "), "{}", e.message);
    }
}
