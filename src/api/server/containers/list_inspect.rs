//! Read-only container endpoints answered as one JSON document: list, inspect, top, changes.

use hyper::{Response, StatusCode};

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::query::Query;
use super::optional_int;
use crate::daemon::containers::ListOptions;
use crate::daemon::state::Daemon;

/// The filter keys Docker's `GET /containers/json` accepts.
pub const LIST_FILTERS: &[&str] = &[
    "ancestor",
    "before",
    "expose",
    "exited",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

/// `GET /containers/json`'s parameters.
pub fn list_options(query: &Query) -> Result<ListOptions, ApiError> {
    let filters = query.filters(LIST_FILTERS)?;
    let limit = optional_int(query, "limit")?.unwrap_or(0);
    Ok(ListOptions {
        all: query.bool("all"),
        // Docker treats zero and negative limits as "no limit".
        limit: usize::try_from(limit).unwrap_or(0),
        size: query.bool("size"),
        filters: LIST_FILTERS
            .iter()
            .filter(|k| filters.contains(k))
            .map(|k| ((*k).to_owned(), filters.values(k).to_vec()))
            .collect(),
    })
}

/// `GET /containers/json?all&limit&size&filters`.
pub async fn list(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let options = list_options(query)?;
    let containers = daemon.containers.list(&options).await?;
    Ok(body::json(StatusCode::OK, &containers))
}

/// `GET /containers/{id}/json?size`.
pub async fn inspect(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let inspected = daemon.containers.inspect(id, query.bool("size")).await?;
    Ok(body::json(StatusCode::OK, &inspected))
}

/// `GET /containers/{id}/top?ps_args`.
pub async fn top(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let processes = daemon
        .containers
        .top(id, query.non_empty("ps_args"))
        .await?;
    Ok(body::json(StatusCode::OK, &processes))
}

/// `GET /containers/{id}/changes`.
pub async fn changes(daemon: &Daemon, id: &str) -> Result<Response<Body>, ApiError> {
    let changes = daemon.containers.changes(id).await?;
    Ok(body::json(StatusCode::OK, &changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters() {
        let q = Query::parse(Some(
            "all=1&limit=3&size=true&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D",
        ));
        let o = list_options(&q).expect("ok");
        assert!(o.all && o.size);
        assert_eq!(o.limit, 3);
        assert_eq!(o.filters.get("status"), Some(&vec!["exited".to_owned()]));
        assert_eq!(o.filters.len(), 1);

        let o = list_options(&Query::parse(Some("limit=-1"))).expect("ok");
        assert_eq!(o.limit, 0);
        assert!(!o.all);
    }

    #[test]
    fn unknown_list_filters_and_bad_limits_are_refused() {
        let q = Query::parse(Some("filters=%7B%22color%22%3A%5B%22red%22%5D%7D"));
        let e = list_options(&q).expect_err("unknown filter");
        assert_eq!(e.message, "invalid filter 'color'");
        let e = list_options(&Query::parse(Some("limit=x"))).expect_err("bad limit");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
