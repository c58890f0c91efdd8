//! The `/networks` endpoints: list, inspect, create, remove, connect, disconnect and prune,
//! answered in Docker's shapes and status codes on top of `daemon.networks` (the network
//! manager) and `daemon.containers` (connect and disconnect change a container).
//!
//! Handlers only check what Docker's router checks (filter keys, JSON bodies); every other
//! decision, and its wording, is the manager's (`NetworkError`).

use std::collections::BTreeMap;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::body::{self, Body};
use super::containers::read_json;
use super::errors::ApiError;
use super::query::Query;
use super::router::NetworkOp;
use crate::api::network_types::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest, NetworkPruneReport,
};
use crate::daemon::networks::NetworkError;
use crate::daemon::state::Daemon;

/// The filter keys Docker's `GET /networks` accepts.
const LIST_FILTERS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];
/// The filter keys Docker's `POST /networks/prune` accepts.
const PRUNE_FILTERS: &[&str] = &["label", "label!", "until"];

/// Docker's errdefs codes for the manager's errors.
impl From<NetworkError> for ApiError {
    fn from(e: NetworkError) -> ApiError {
        let status = match &e {
            NetworkError::NotFound(_) => StatusCode::NOT_FOUND,
            NetworkError::Conflict(_) => StatusCode::CONFLICT,
            NetworkError::Forbidden(_) => StatusCode::FORBIDDEN,
            NetworkError::Invalid(_) => StatusCode::BAD_REQUEST,
            NetworkError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// Runs the `/networks/{id}/...` endpoint `op`.
pub async fn dispatch(
    daemon: &Daemon,
    req: Request<Incoming>,
    query: &Query,
    id: String,
    op: NetworkOp,
) -> Result<Response<Body>, ApiError> {
    match op {
        NetworkOp::Inspect => inspect(daemon, &id, query),
        NetworkOp::Delete => remove(daemon, &id).await,
        NetworkOp::Connect => connect(daemon, &id, req).await,
        NetworkOp::Disconnect => disconnect(daemon, &id, req).await,
    }
}

/// The `filters` parameter checked against `allowed`, as the map the manager takes.
fn filter_map(query: &Query, allowed: &[&str]) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let filters = query.filters(allowed)?;
    Ok(allowed
        .iter()
        .filter(|k| filters.contains(k))
        .map(|k| ((*k).to_owned(), filters.values(k).to_vec()))
        .collect())
}

/// `GET /networks?filters=`. Docker leaves `Containers` empty in list entries.
pub fn list(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = filter_map(query, LIST_FILTERS)?;
    let networks = daemon.networks.list(&filters)?;
    Ok(body::json(StatusCode::OK, &networks))
}

/// `GET /networks/{id}?verbose=&scope=`. `verbose` only adds swarm service details and
/// `scope` only narrows between swarm and local networks; berth has local ones only, so
/// both are accepted and change nothing (a scope other than `local` finds nothing, as
/// Docker's does).
pub fn inspect(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let network = daemon.networks.inspect(id)?;
    if let Some(scope) = query.non_empty("scope") {
        if scope != network.scope && !(scope == "local" && network.scope.is_empty()) {
            return Err(ApiError::not_found(format!("network {id} not found")));
        }
    }
    Ok(body::json(StatusCode::OK, &network))
}

/// `POST /networks/create`: `201` with `{"Id","Warning"}`.
pub async fn create(daemon: &Daemon, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let request: NetworkCreateRequest = read_json(req)
        .await?
        .ok_or_else(|| ApiError::bad_request("invalid JSON: got EOF while reading request body"))?;
    let created = daemon.networks.create(request).await?;
    Ok(body::json(StatusCode::CREATED, &created))
}

/// `DELETE /networks/{id}`: `204`.
pub async fn remove(daemon: &Daemon, id: &str) -> Result<Response<Body>, ApiError> {
    daemon.networks.remove(id).await?;
    Ok(body::no_content(StatusCode::NO_CONTENT))
}

/// `POST /networks/{id}/connect`: `200` with no body.
pub async fn connect(
    daemon: &Daemon,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let request: NetworkConnectRequest = read_json(req).await?.unwrap_or_default();
    daemon
        .containers
        .connect_network(&request.container, id, request.endpoint_config)
        .await?;
    Ok(body::no_content(StatusCode::OK))
}

/// `POST /networks/{id}/disconnect`: `200` with no body.
pub async fn disconnect(
    daemon: &Daemon,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let request: NetworkDisconnectRequest = read_json(req).await?.unwrap_or_default();
    daemon
        .containers
        .disconnect_network(&request.container, id, request.force)
        .await?;
    Ok(body::no_content(StatusCode::OK))
}

/// `POST /networks/prune?filters=`: `{"NetworksDeleted": [...]}` (`null` when none, as
/// Docker's nil slice).
pub async fn prune(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = filter_map(query, PRUNE_FILTERS)?;
    let deleted = daemon.networks.prune(&filters).await?;
    let report = NetworkPruneReport {
        networks_deleted: (!deleted.is_empty()).then_some(deleted),
    };
    Ok(body::json(StatusCode::OK, &report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_errors_get_dockers_codes() {
        let cases = [
            (NetworkError::NotFound("network x not found".into()), 404),
            (
                NetworkError::Conflict("network with name x already exists".into()),
                409,
            ),
            (
                NetworkError::Forbidden("bridge is a pre-defined network".into()),
                403,
            ),
            (NetworkError::Invalid("invalid subnet".into()), 400),
            (
                NetworkError::Internal(anyhow::anyhow!("netlink: boom")),
                500,
            ),
        ];
        for (error, status) in cases {
            let text = error.to_string();
            let api = ApiError::from(error);
            assert_eq!(api.status.as_u16(), status, "{text}");
            assert_eq!(api.message, text);
        }
    }

    #[test]
    fn filters_are_checked_and_kept() {
        let q = Query::parse(Some(
            "filters=%7B%22name%22%3A%7B%22web%22%3Atrue%7D%2C%22driver%22%3A%5B%22bridge%22%5D%7D",
        ));
        let map = filter_map(&q, LIST_FILTERS).expect("valid");
        assert_eq!(map["name"], ["web"]);
        assert_eq!(map["driver"], ["bridge"]);
        assert_eq!(map.len(), 2);
        let q = Query::parse(Some("filters=%7B%22nope%22%3A%5B%22x%22%5D%7D"));
        let e = filter_map(&q, LIST_FILTERS).expect_err("unknown key");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "invalid filter 'nope'");
        let e = filter_map(&q, PRUNE_FILTERS).expect_err("unknown key");
        assert_eq!(e.message, "invalid filter 'nope'");
        assert!(filter_map(&Query::parse(None), PRUNE_FILTERS)
            .expect("none")
            .is_empty());
    }
}
