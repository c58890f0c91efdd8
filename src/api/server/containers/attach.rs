//! `POST /containers/{id}/attach` (a hijacked connection, see `hijack`) and
//! `POST /containers/{id}/resize`.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::super::body::{self, Body};
use super::super::errors::ApiError;
use super::super::hijack;
use super::super::query::Query;
use super::dimension;
use crate::daemon::containers::AttachOptions;
use crate::daemon::state::Daemon;

/// The attach query as the manager takes it.
pub fn attach_options(query: &Query) -> AttachOptions {
    AttachOptions {
        stream: query.bool("stream"),
        logs: query.bool("logs"),
        stdin: query.bool("stdin"),
        stdout: query.bool("stdout"),
        stderr: query.bool("stderr"),
        detach_keys: query.non_empty("detachKeys").map(str::to_owned),
    }
}

/// `POST /containers/{id}/attach?stream&stdin&stdout&stderr&logs&detachKeys`. Errors (no
/// such container, ...) are answered before any upgrade.
pub async fn attach(
    daemon: &Daemon,
    id: &str,
    query: &Query,
    mut req: Request<Incoming>,
    multiplexed_media: bool,
) -> Result<Response<Body>, ApiError> {
    let session = daemon.containers.attach(id, &attach_options(query)).await?;
    let upgrade = hijack::take_upgrade(&mut req);
    Ok(hijack::respond(upgrade, session, multiplexed_media))
}

/// `POST /containers/{id}/resize?h&w`.
pub async fn resize(daemon: &Daemon, id: &str, query: &Query) -> Result<Response<Body>, ApiError> {
    let height = dimension(query, "h")?;
    let width = dimension(query, "w")?;
    daemon.containers.resize(id, height, width).await?;
    Ok(body::no_content(StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_query() {
        let q = Query::parse(Some("stream=1&stdin=1&stdout=1&stderr=0&detachKeys=ctrl-x"));
        let o = attach_options(&q);
        assert!(o.stream && o.stdin && o.stdout);
        assert!(!o.stderr && !o.logs);
        assert_eq!(o.detach_keys.as_deref(), Some("ctrl-x"));
        assert_eq!(attach_options(&Query::parse(None)).detach_keys, None);
    }
}
