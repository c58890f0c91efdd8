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
    ContainersCreate,
    ContainersList,
    ContainersPrune,
    /// `/containers/{id}/...`: the ID, prefix or name as written, and what to do.
    Container(String, ContainerOp),
    /// `/exec/{id}/...`.
    Exec(String, ExecOp),
    NetworksList,
    NetworksCreate,
    NetworksPrune,
    /// `/networks/{id}[/...]`: the ID, prefix or name as written, and what to do.
    Network(String, NetworkOp),
    VolumesList,
    VolumesCreate,
    VolumesPrune,
    /// `GET /volumes/{name}`.
    VolumeInspect(String),
    /// `DELETE /volumes/{name}`.
    VolumeDelete(String),
}

/// The endpoints under `/containers/{id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerOp {
    Inspect,
    Top,
    Logs,
    Stats,
    Changes,
    /// `HEAD .../archive`
    ArchiveStat,
    /// `GET .../archive`
    ArchiveGet,
    /// `PUT .../archive`
    ArchivePut,
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
    Wait,
    Rename,
    Resize,
    Attach,
    ExecCreate,
    /// `DELETE /containers/{id}`
    Delete,
}

/// The endpoints under `/networks/{id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkOp {
    Inspect,
    Delete,
    Connect,
    Disconnect,
}

/// The endpoints under `/exec/{id}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecOp {
    Start,
    Resize,
    Inspect,
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
        ("POST", "/containers/create") => Some(Route::ContainersCreate),
        ("GET", "/containers/json") => Some(Route::ContainersList),
        ("POST", "/containers/prune") => Some(Route::ContainersPrune),
        ("GET", "/networks" | "/networks/") => Some(Route::NetworksList),
        ("POST", "/networks/create") => Some(Route::NetworksCreate),
        ("POST", "/networks/prune") => Some(Route::NetworksPrune),
        ("GET", "/volumes" | "/volumes/") => Some(Route::VolumesList),
        ("POST", "/volumes/create") => Some(Route::VolumesCreate),
        ("POST", "/volumes/prune") => Some(Route::VolumesPrune),
        _ => None,
    };
    fixed
        .or_else(|| match_image(method, path))
        .or_else(|| match_distribution(method, path))
        .or_else(|| match_container(method, path))
        .or_else(|| match_exec(method, path))
        .or_else(|| match_network(method, path))
        .or_else(|| match_volume(method, path))
}

/// `/volumes/{name}`.
fn match_volume(method: &Method, path: &str) -> Option<Route> {
    let (name, suffix) = split_object(path, "/volumes/")?;
    match (method.as_str(), suffix) {
        ("GET", "") => Some(Route::VolumeInspect(name)),
        ("DELETE", "") => Some(Route::VolumeDelete(name)),
        _ => None,
    }
}

/// Splits `{id}[/suffix]` under `prefix`; IDs and names never contain a slash.
fn split_object<'a>(path: &'a str, prefix: &str) -> Option<(String, &'a str)> {
    let rest = path.strip_prefix(prefix)?;
    let (id, suffix) = rest.split_once('/').unwrap_or((rest, ""));
    (!id.is_empty()).then(|| (percent_decode(id, false), suffix))
}

/// `/containers/{id}[/suffix]`.
fn match_container(method: &Method, path: &str) -> Option<Route> {
    let (id, suffix) = split_object(path, "/containers/")?;
    let op = match (method.as_str(), suffix) {
        ("GET", "json") => ContainerOp::Inspect,
        ("GET", "top") => ContainerOp::Top,
        ("GET", "logs") => ContainerOp::Logs,
        ("GET", "stats") => ContainerOp::Stats,
        ("GET", "changes") => ContainerOp::Changes,
        ("HEAD", "archive") => ContainerOp::ArchiveStat,
        ("GET", "archive") => ContainerOp::ArchiveGet,
        ("PUT", "archive") => ContainerOp::ArchivePut,
        ("POST", "start") => ContainerOp::Start,
        ("POST", "stop") => ContainerOp::Stop,
        ("POST", "restart") => ContainerOp::Restart,
        ("POST", "kill") => ContainerOp::Kill,
        ("POST", "pause") => ContainerOp::Pause,
        ("POST", "unpause") => ContainerOp::Unpause,
        ("POST", "wait") => ContainerOp::Wait,
        ("POST", "rename") => ContainerOp::Rename,
        ("POST", "resize") => ContainerOp::Resize,
        ("POST", "attach") => ContainerOp::Attach,
        ("POST", "exec") => ContainerOp::ExecCreate,
        ("DELETE", "") => ContainerOp::Delete,
        _ => return None,
    };
    Some(Route::Container(id, op))
}

/// `/exec/{id}/suffix`.
fn match_exec(method: &Method, path: &str) -> Option<Route> {
    let (id, suffix) = split_object(path, "/exec/")?;
    let op = match (method.as_str(), suffix) {
        ("POST", "start") => ExecOp::Start,
        ("POST", "resize") => ExecOp::Resize,
        ("GET", "json") => ExecOp::Inspect,
        _ => return None,
    };
    Some(Route::Exec(id, op))
}

/// `/networks/{id}[/suffix]`.
fn match_network(method: &Method, path: &str) -> Option<Route> {
    let (id, suffix) = split_object(path, "/networks/")?;
    let op = match (method.as_str(), suffix) {
        ("GET", "") => NetworkOp::Inspect,
        ("DELETE", "") => NetworkOp::Delete,
        ("POST", "connect") => NetworkOp::Connect,
        ("POST", "disconnect") => NetworkOp::Disconnect,
        _ => return None,
    };
    Some(Route::Network(id, op))
}

/// Whether a client of `version` (the path's `/v1.NN`, `None` for the newest) expects
/// Docker's multiplexed-stream media type (API 1.42 and later).
pub fn speaks_multiplexed_media(version: Option<&str>) -> bool {
    version.is_none_or(|v| compare_versions(v, "1.42").is_ge())
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

    /// Every container and exec path, with and without the version prefix.
    #[test]
    fn container_and_exec_paths() {
        use ContainerOp as C;
        let cases: &[(Method, &str, Route)] = &[
            (Method::POST, "/containers/create", Route::ContainersCreate),
            (Method::GET, "/containers/json", Route::ContainersList),
            (Method::POST, "/containers/prune", Route::ContainersPrune),
            (
                Method::GET,
                "/containers/web/json",
                Route::Container("web".into(), C::Inspect),
            ),
            (
                Method::GET,
                "/containers/web/top",
                Route::Container("web".into(), C::Top),
            ),
            (
                Method::GET,
                "/containers/web/logs",
                Route::Container("web".into(), C::Logs),
            ),
            (
                Method::GET,
                "/containers/web/stats",
                Route::Container("web".into(), C::Stats),
            ),
            (
                Method::GET,
                "/containers/web/changes",
                Route::Container("web".into(), C::Changes),
            ),
            (
                Method::HEAD,
                "/containers/web/archive",
                Route::Container("web".into(), C::ArchiveStat),
            ),
            (
                Method::GET,
                "/containers/web/archive",
                Route::Container("web".into(), C::ArchiveGet),
            ),
            (
                Method::PUT,
                "/containers/web/archive",
                Route::Container("web".into(), C::ArchivePut),
            ),
            (
                Method::POST,
                "/containers/web/start",
                Route::Container("web".into(), C::Start),
            ),
            (
                Method::POST,
                "/containers/web/stop",
                Route::Container("web".into(), C::Stop),
            ),
            (
                Method::POST,
                "/containers/web/restart",
                Route::Container("web".into(), C::Restart),
            ),
            (
                Method::POST,
                "/containers/web/kill",
                Route::Container("web".into(), C::Kill),
            ),
            (
                Method::POST,
                "/containers/web/pause",
                Route::Container("web".into(), C::Pause),
            ),
            (
                Method::POST,
                "/containers/web/unpause",
                Route::Container("web".into(), C::Unpause),
            ),
            (
                Method::POST,
                "/containers/web/wait",
                Route::Container("web".into(), C::Wait),
            ),
            (
                Method::POST,
                "/containers/web/rename",
                Route::Container("web".into(), C::Rename),
            ),
            (
                Method::POST,
                "/containers/web/resize",
                Route::Container("web".into(), C::Resize),
            ),
            (
                Method::POST,
                "/containers/web/attach",
                Route::Container("web".into(), C::Attach),
            ),
            (
                Method::POST,
                "/containers/web/exec",
                Route::Container("web".into(), C::ExecCreate),
            ),
            (
                Method::DELETE,
                "/containers/web",
                Route::Container("web".into(), C::Delete),
            ),
            (
                Method::POST,
                "/exec/e1/start",
                Route::Exec("e1".into(), ExecOp::Start),
            ),
            (
                Method::POST,
                "/exec/e1/resize",
                Route::Exec("e1".into(), ExecOp::Resize),
            ),
            (
                Method::GET,
                "/exec/e1/json",
                Route::Exec("e1".into(), ExecOp::Inspect),
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(
                match_route(method, path).as_ref(),
                Some(route),
                "{method} {path}"
            );
            let versioned = format!("/v1.43{path}");
            let (version, bare) = strip_version(&versioned).expect("version ok");
            assert_eq!(version, Some("1.43"));
            assert_eq!(
                match_route(method, bare).as_ref(),
                Some(route),
                "{versioned}"
            );
        }
    }

    #[test]
    fn container_routes_refuse_wrong_methods_and_empty_ids() {
        assert_eq!(match_route(&Method::GET, "/containers/web/start"), None);
        assert_eq!(match_route(&Method::POST, "/containers/web/json"), None);
        assert_eq!(match_route(&Method::DELETE, "/containers/web/json"), None);
        assert_eq!(match_route(&Method::GET, "/containers//json"), None);
        assert_eq!(match_route(&Method::POST, "/containers/web/nope"), None);
        assert_eq!(match_route(&Method::GET, "/exec/e1/start"), None);
        assert_eq!(match_route(&Method::DELETE, "/exec/e1"), None);
        // A container may be called `json` or `create`: only the fixed paths are special.
        assert_eq!(
            match_route(&Method::GET, "/containers/create/json"),
            Some(Route::Container("create".into(), ContainerOp::Inspect))
        );
        assert_eq!(
            match_route(&Method::DELETE, "/containers/a%2Db"),
            Some(Route::Container("a-b".into(), ContainerOp::Delete))
        );
    }

    #[test]
    fn network_paths() {
        use NetworkOp as N;
        let cases: &[(Method, &str, Route)] = &[
            (Method::GET, "/networks", Route::NetworksList),
            (Method::GET, "/networks/", Route::NetworksList),
            (Method::POST, "/networks/create", Route::NetworksCreate),
            (Method::POST, "/networks/prune", Route::NetworksPrune),
            (
                Method::GET,
                "/networks/front",
                Route::Network("front".into(), N::Inspect),
            ),
            (
                Method::DELETE,
                "/networks/front",
                Route::Network("front".into(), N::Delete),
            ),
            (
                Method::POST,
                "/networks/front/connect",
                Route::Network("front".into(), N::Connect),
            ),
            (
                Method::POST,
                "/networks/front/disconnect",
                Route::Network("front".into(), N::Disconnect),
            ),
            // A network may be called `create` or `prune`: only POST on them is special.
            (
                Method::GET,
                "/networks/create",
                Route::Network("create".into(), N::Inspect),
            ),
            (
                Method::DELETE,
                "/networks/my%2Dnet",
                Route::Network("my-net".into(), N::Delete),
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(
                match_route(method, path).as_ref(),
                Some(route),
                "{method} {path}"
            );
            let versioned = format!("/v1.41{path}");
            let (_, bare) = strip_version(&versioned).expect("version ok");
            assert_eq!(
                match_route(method, bare).as_ref(),
                Some(route),
                "{versioned}"
            );
        }
        assert_eq!(match_route(&Method::GET, "/networks/front/connect"), None);
        assert_eq!(match_route(&Method::POST, "/networks/front"), None);
        assert_eq!(match_route(&Method::PUT, "/networks/front"), None);
        assert_eq!(match_route(&Method::DELETE, "/networks/"), None);
    }

    #[test]
    fn multiplexed_media_from_api_1_42() {
        assert!(speaks_multiplexed_media(None));
        assert!(speaks_multiplexed_media(Some("1.43")));
        assert!(speaks_multiplexed_media(Some("1.42")));
        assert!(!speaks_multiplexed_media(Some("1.41")));
    }

    #[test]
    fn unknown_paths_and_methods_have_no_route() {
        assert_eq!(match_route(&Method::GET, "/nope"), None);
        assert_eq!(match_route(&Method::PUT, "/images/x/json"), None);
        assert_eq!(match_route(&Method::GET, "/images//json"), None);
        assert_eq!(match_route(&Method::HEAD, "/_ping"), Some(Route::Ping));
    }
}
