//! The routes table: a request's method and path to a `Route`, after the optional `/v1.NN`
//! prefix is checked against the versions berth serves.
//!
//! Pure: no I/O. Image names contain slashes (`127.0.0.1:5000/org/app:tag`), so a path under
//! `/images/` is matched by its known suffix and the rest is the name. Containers, networks
//! and volumes add their variants here.

use hyper::Method;

use super::errors::ApiError;
use super::query::percent_decode;
use crate::api::types::{API_VERSION, MIN_API_VERSION};

/// Every endpoint berth serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Ping,
    Version,
    Info,
    Events,
    Auth,
    ImagesList,
    ImagesCreate,
    ImagesLoad,
    ImagesPrune,
    /// `GET /images/get?names=...`
    ImagesSave,
    ImageInspect(String),
    ImageHistory(String),
    /// `GET /images/{name}/get`
    ImageSave(String),
    ImageTag(String),
    ImagePush(String),
    ImageDelete(String),
    DistributionInspect(String),
}

/// Splits `/v1.43/info` into the version and `/info`; checks the version is one we serve.
pub fn strip_version(path: &str) -> Result<(Option<&str>, &str), ApiError> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((None, path));
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let version = &rest[..end];
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        // Not a version prefix (Docker's router wants `[0-9.]+`).
        return Ok((None, path));
    }
    check_version(version)?;
    Ok((Some(version), &rest[end..]))
}

fn check_version(version: &str) -> Result<(), ApiError> {
    if compare_versions(version, API_VERSION).is_gt() {
        return Err(ApiError::bad_request(format!(
            "client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if compare_versions(version, MIN_API_VERSION).is_lt() {
        return Err(ApiError::bad_request(format!(
            "client version {version} is too old. Minimum supported API version is \
             {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    Ok(())
}

/// Compares dotted versions numerically (`1.9` < `1.43`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        let ord = a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0));
        if ord.is_ne() {
            return ord;
        }
    }
    std::cmp::Ordering::Equal
}

/// The route for an unversioned path, or `None` (Docker's "page not found").
pub fn match_route(method: &Method, path: &str) -> Option<Route> {
    let fixed = match (method.as_str(), path) {
        ("GET" | "HEAD", "/_ping") => Some(Route::Ping),
        ("GET", "/version") => Some(Route::Version),
        ("GET", "/info") => Some(Route::Info),
        ("GET", "/events") => Some(Route::Events),
        ("POST", "/auth") => Some(Route::Auth),
        ("GET", "/images/json") => Some(Route::ImagesList),
        ("POST", "/images/create") => Some(Route::ImagesCreate),
        ("POST", "/images/load") => Some(Route::ImagesLoad),
        ("POST", "/images/prune") => Some(Route::ImagesPrune),
        ("GET", "/images/get") => Some(Route::ImagesSave),
        _ => None,
    };
    fixed
        .or_else(|| match_image(method, path))
        .or_else(|| match_distribution(method, path))
}

/// `/images/{name}[/suffix]`.
fn match_image(method: &Method, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/images/")?;
    let named = |suffix: &str| -> Option<String> {
        let name = rest.strip_suffix(suffix)?;
        (!name.is_empty()).then(|| percent_decode(name, false))
    };
    match method.as_str() {
        "GET" => named("/json")
            .map(Route::ImageInspect)
            .or_else(|| named("/history").map(Route::ImageHistory))
            .or_else(|| named("/get").map(Route::ImageSave)),
        "POST" => named("/tag")
            .map(Route::ImageTag)
            .or_else(|| named("/push").map(Route::ImagePush)),
        "DELETE" => named("").map(Route::ImageDelete),
        _ => None,
    }
}

/// `/distribution/{name}/json`.
fn match_distribution(method: &Method, path: &str) -> Option<Route> {
    if method != Method::GET {
        return None;
    }
    let name = path.strip_prefix("/distribution/")?.strip_suffix("/json")?;
    (!name.is_empty()).then(|| Route::DistributionInspect(percent_decode(name, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_range_are_stripped() {
        assert_eq!(
            strip_version("/v1.43/info").expect("ok"),
            (Some("1.43"), "/info")
        );
        assert_eq!(strip_version("/v1.24/_ping").expect("ok").1, "/_ping");
        assert_eq!(strip_version("/info").expect("ok"), (None, "/info"));
        assert_eq!(strip_version("/volumes").expect("ok"), (None, "/volumes"));
    }

    #[test]
    fn versions_out_of_range_are_refused_with_dockers_words() {
        let e = strip_version("/v1.50/version").expect_err("too new");
        assert_eq!(
            e.message,
            "client version 1.50 is too new. Maximum supported API version is 1.43"
        );
        assert_eq!(e.status, hyper::StatusCode::BAD_REQUEST);
        let e = strip_version("/v1.12/version").expect_err("too old");
        assert!(e.message.starts_with("client version 1.12 is too old."));
    }

    #[test]
    fn numeric_version_order() {
        assert!(compare_versions("1.9", "1.43").is_lt());
        assert!(compare_versions("1.43", "1.43.0").is_eq());
    }

    #[test]
    fn image_names_with_slashes_and_ports() {
        assert_eq!(
            match_route(&Method::GET, "/images/127.0.0.1:5000/org/app:v1/json"),
            Some(Route::ImageInspect("127.0.0.1:5000/org/app:v1".into()))
        );
        assert_eq!(
            match_route(&Method::POST, "/images/busybox/tag"),
            Some(Route::ImageTag("busybox".into()))
        );
        assert_eq!(
            match_route(&Method::DELETE, "/images/org/app%3Alatest"),
            Some(Route::ImageDelete("org/app:latest".into()))
        );
        assert_eq!(
            match_route(&Method::GET, "/images/json"),
            Some(Route::ImagesList)
        );
        assert_eq!(
            match_route(&Method::GET, "/distribution/busybox:1/json"),
            Some(Route::DistributionInspect("busybox:1".into()))
        );
    }

    #[test]
    fn unknown_paths_and_methods_have_no_route() {
        assert_eq!(match_route(&Method::GET, "/nope"), None);
        assert_eq!(match_route(&Method::PUT, "/images/x/json"), None);
        assert_eq!(match_route(&Method::GET, "/images//json"), None);
        assert_eq!(match_route(&Method::HEAD, "/_ping"), Some(Route::Ping));
    }
}
