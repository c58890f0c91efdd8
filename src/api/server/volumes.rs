//! The `/volumes` endpoints: list, create, inspect, remove and prune, in Docker's shapes
//! and status codes on top of `daemon.volumes` (the volume manager), which makes every
//! decision and words every error.

use std::collections::BTreeMap;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::body::{self, Body};
use super::containers::read_json;
use super::errors::ApiError;
use super::query::Query;
use crate::api::volume_types::{VolumeCreateRequest, VolumeListResponse};
use crate::daemon::state::Daemon;
use crate::volume::VolumeError;

/// The filter keys Docker's `GET /volumes` and `POST /volumes/prune` accept; the manager
/// checks them per endpoint, so the union is all the parser needs to know.
const FILTER_KEYS: &[&str] = &["name", "label", "label!", "dangling", "driver", "all"];

impl From<VolumeError> for ApiError {
    fn from(e: VolumeError) -> ApiError {
        let status = match &e {
            VolumeError::NotFound(_) => StatusCode::NOT_FOUND,
            VolumeError::Conflict(_) => StatusCode::CONFLICT,
            VolumeError::Invalid(_) => StatusCode::BAD_REQUEST,
            VolumeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// The `filters` parameter as the map the manager takes.
fn filter_map(query: &Query) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let filters = query.filters(FILTER_KEYS)?;
    Ok(FILTER_KEYS
        .iter()
        .filter(|k| filters.contains(k))
        .map(|k| ((*k).to_owned(), filters.values(k).to_vec()))
        .collect())
}

/// `GET /volumes`: `{"Volumes":[...],"Warnings":null}`.
pub fn list(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = filter_map(query)?;
    let volumes = daemon.volumes.list(&filters)?;
    let response = VolumeListResponse {
        volumes,
        warnings: None,
    };
    Ok(body::json(StatusCode::OK, &response))
}

/// `POST /volumes/create`: `201` with the volume (the existing one for a known name).
pub async fn create(daemon: &Daemon, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let request: VolumeCreateRequest = read_json(req).await?.unwrap_or_default();
    let volumes = daemon.volumes.clone();
    let created = tokio::task::spawn_blocking(move || volumes.create(request))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(body::json(StatusCode::CREATED, &created))
}

/// `GET /volumes/{name}`.
pub fn inspect(daemon: &Daemon, name: &str) -> Result<Response<Body>, ApiError> {
    let volume = daemon.volumes.get(name)?;
    Ok(body::json(StatusCode::OK, &volume))
}

/// `DELETE /volumes/{name}?force=`: `204`.
pub async fn remove(
    daemon: &Daemon,
    name: &str,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let force = query.bool("force");
    let volumes = daemon.volumes.clone();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || volumes.remove(&name, force))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /volumes/prune?filters=`: `{"VolumesDeleted":[...],"SpaceReclaimed":N}`.
pub async fn prune(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = filter_map(query)?;
    let volumes = daemon.volumes.clone();
    let report = tokio::task::spawn_blocking(move || volumes.prune(&filters))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(body::json(StatusCode::OK, &report))
}

#[cfg(test)]
mod tests {
    use hyper::Method;

    use super::super::router::{match_route, Route};

    #[test]
    fn volume_routes_match_dockers_paths() {
        assert_eq!(
            match_route(&Method::GET, "/volumes"),
            Some(Route::VolumesList)
        );
        assert_eq!(
            match_route(&Method::POST, "/volumes/create"),
            Some(Route::VolumesCreate)
        );
        assert_eq!(
            match_route(&Method::POST, "/volumes/prune"),
            Some(Route::VolumesPrune)
        );
        assert_eq!(
            match_route(&Method::GET, "/volumes/data"),
            Some(Route::VolumeInspect("data".into()))
        );
        assert_eq!(
            match_route(&Method::DELETE, "/volumes/data"),
            Some(Route::VolumeDelete("data".into()))
        );
        assert_eq!(match_route(&Method::PUT, "/volumes/data"), None);
    }
}
