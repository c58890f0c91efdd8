//! The Docker Engine API server: accepts connections on the daemon's unix socket, routes each
//! request (`router`) to a handler, and turns handler errors into Docker's error answers.
//!
//! Handlers take the shared `Daemon` and the request; they must not block the runtime
//! (store and archive work goes through `spawn_blocking`). Entry point: `serve`.

pub mod auth;
pub mod body;
pub mod containers;
pub mod errors;
pub mod events;
pub mod hijack;
pub mod images;
pub mod networks;
pub mod query;
pub mod router;
pub mod system;
pub mod volumes;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;
use tokio::task::JoinSet;

use crate::api::types::{ErrorResponse, API_VERSION};
use crate::daemon::state::Daemon;
use body::Body;
use errors::ApiError;
use query::Query;
use router::Route;

/// How long in-flight requests may run on after shutdown began.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves the API on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (up to `DRAIN_TIMEOUT`) and returns.
pub async fn serve(
    listener: UnixListener,
    daemon: Arc<Daemon>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, daemon.clone()));
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    daemon.begin_shutdown();
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "requests still running at shutdown were cut off"
        );
        connections.abort_all();
    }
}

/// Serves one connection; at shutdown, finishes the request in flight and closes.
async fn serve_connection(stream: tokio::net::UnixStream, daemon: Arc<Daemon>) {
    let service_daemon = daemon.clone();
    let service = hyper::service::service_fn(move |req| handle(service_daemon.clone(), req));
    // Upgrades: attach and exec hijack the connection (`hijack`).
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = daemon.stopping() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Clients hanging up mid-stream land here; not the daemon's fault.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// One request: route, run the handler, add Docker's common headers.
async fn handle(daemon: Arc<Daemon>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = match dispatch(daemon, req).await {
        Ok(resp) => resp,
        Err(e) => error_response(&method, &path, e),
    };
    add_common_headers(&mut resp);
    tracing::debug!(
        %method,
        path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(resp)
}

async fn dispatch(daemon: Arc<Daemon>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (version, path) = router::strip_version(req.uri().path())?;
    let multiplexed_media = router::speaks_multiplexed_media(version);
    let route = router::match_route(req.method(), path).ok_or_else(ApiError::page_not_found)?;
    let query = Query::parse(req.uri().query());
    match route {
        Route::Ping => Ok(system::ping(req.method())),
        Route::Version => Ok(system::version()),
        Route::Info => system::info(&daemon).await,
        Route::Events => events::stream(&daemon, &query),
        Route::Auth => auth::login(&daemon, req).await,
        Route::ImagesList => images::list(&daemon, &query).await,
        Route::ImageInspect(name) => images::inspect(&daemon, name).await,
        Route::ImageHistory(name) => images::history(&daemon, name).await,
        Route::ImageTag(name) => images::tag(&daemon, name, &query).await,
        Route::ImageDelete(name) => images::delete(&daemon, name, &query).await,
        Route::ImagesPrune => images::prune(&daemon, &query).await,
        Route::ImagesCreate => images::create(daemon, req, query).await,
        Route::ImagePush(name) => images::transfer::push(daemon, req, name, query).await,
        Route::DistributionInspect(name) => {
            images::transfer::distribution(&daemon, req, name).await
        }
        Route::ImageSave(name) => images::archive::save(daemon, vec![name]).await,
        Route::ImagesSave => {
            let names = query.all("names").into_iter().map(str::to_owned).collect();
            images::archive::save(daemon, names).await
        }
        Route::ImagesLoad => images::archive::load(daemon, req, query).await,
        Route::ContainersCreate => containers::lifecycle::create(&daemon, req, query).await,
        Route::ContainersList => containers::list_inspect::list(&daemon, &query).await,
        Route::ContainersPrune => containers::lifecycle::prune(&daemon, &query).await,
        Route::Container(id, op) => {
            containers::dispatch(daemon, req, query, multiplexed_media, id, op).await
        }
        Route::Exec(id, op) => {
            containers::exec::dispatch(daemon, req, query, multiplexed_media, id, op).await
        }
        Route::NetworksList => networks::list(&daemon, &query),
        Route::NetworksCreate => networks::create(&daemon, req).await,
        Route::NetworksPrune => networks::prune(&daemon, &query).await,
        Route::Network(id, op) => networks::dispatch(&daemon, req, &query, id, op).await,
        Route::VolumesList => volumes::list(&daemon, &query),
        Route::VolumesCreate => volumes::create(&daemon, req).await,
        Route::VolumesPrune => volumes::prune(&daemon, &query).await,
        Route::VolumeInspect(name) => volumes::inspect(&daemon, &name),
        Route::VolumeDelete(name) => volumes::remove(&daemon, &name, &query).await,
    }
}

fn error_response(method: &hyper::Method, path: &str, e: ApiError) -> Response<Body> {
    if e.status.is_server_error() {
        tracing::error!(%method, path, error = %e.message, "request failed");
    }
    if e.status == hyper::StatusCode::NOT_MODIFIED {
        // Docker answers "already started/stopped" with a bare 304.
        return body::no_content(e.status);
    }
    body::json(e.status, &ErrorResponse { message: e.message })
}

/// Docker's middleware adds these to every answer.
fn add_common_headers(resp: &mut Response<Body>) {
    let headers = resp.headers_mut();
    headers.insert(
        hyper::header::SERVER,
        HeaderValue::from_static(concat!("berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    headers.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
}
