//! The Docker Engine API calls the scheduler and the compose verbs make, typed. Every path
//! is pinned to API v1.41 (what Debian's dockerd 20.10 speaks at most; berth's daemon
//! accepts it too), so one client drives both daemons. The connection target is
//! `-H`, else `BERTH_HOST`, else `DOCKER_HOST` (unix:// only), else berth's socket (whose
//! daemon the CLI starts when it does not answer).
//!
//! Image pulls and pushes are not here: they need the user's registry credentials, which
//! the CLI reads (`cli::pull_push`).

use std::collections::BTreeMap;
use std::pin::Pin;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::api::client::{Client, ClientError};
use crate::api::container_types::{ContainerInspect, ContainerSummary, ContainerTop};
use crate::api::network_types::NetworkResource;
use crate::api::types::{EventMessage, ImageInspect, ImageSummary};
use crate::api::volume_types::Volume;
use crate::scheduler::labels;
use crate::scheduler::observe::Observed;

/// The API version every path carries.
pub const API_VERSION: &str = "1.41";

/// A stream of decoded items (events, log frames) that ends when the daemon closes it.
pub type ItemStream<T> = Pin<Box<dyn Stream<Item = Result<T, ClientError>> + Send>>;

/// One frame of a container's log (`GET /containers/{id}/logs`, multiplexed unless tty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFrame {
    /// 1 stdout, 2 stderr.
    pub stream: u8,
    pub bytes: bytes::Bytes,
}

/// `GET /containers/{id}/logs` options.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    pub follow: bool,
    pub timestamps: bool,
    /// Docker's `since`/`until` (unix seconds or RFC 3339; passed through).
    pub since: Option<String>,
    pub until: Option<String>,
    /// `all` or a number.
    pub tail: Option<String>,
}

/// The typed API over one daemon connection target.
#[derive(Clone, Debug)]
pub struct EngineApi {
    pub client: Client,
}

impl EngineApi {
    /// The target from `-H`/`BERTH_HOST`/`DOCKER_HOST`/default; starts berth's daemon when the
    /// target is berth's and it does not answer.
    pub async fn connect(host: Option<&str>) -> Result<EngineApi, ClientError> {
        let berth_host = std::env::var("BERTH_HOST").ok().filter(|h| !h.is_empty());
        let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        if host.is_none() && berth_host.is_none() {
            if let Some(docker) = docker_host {
                // Somebody else's daemon: use it as it is, never start one.
                let client = Client::from_host(Some(&docker))?;
                client.ping().await?;
                return Ok(EngineApi { client });
            }
        }
        let client = Client::from_host(host)?;
        client.ensure_daemon().await?;
        Ok(EngineApi { client })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.client.get_json(&versioned(path)).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, ClientError> {
        self.client
            .send_json("POST", &versioned(path), &[], body)
            .await
    }

    async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.client
            .send_json::<Value>("DELETE", &versioned(path), &[], None)
            .await
            .map(drop)
    }

    /// Containers (all states) with every label filter (`key=value`) given.
    pub async fn list_containers(
        &self,
        labels: &[String],
    ) -> Result<Vec<ContainerSummary>, ClientError> {
        let filters = label_filters(labels);
        self.get(&format!("/containers/json?all=1&filters={filters}"))
            .await
    }

    /// A project's containers, networks and volumes (label `com.docker.compose.project`).
    pub async fn observe(&self, project: &str) -> Result<Observed, ClientError> {
        let label = [format!("{}={project}", labels::PROJECT)];
        let (containers, networks, volumes) = tokio::try_join!(
            self.list_containers(&label),
            self.list_networks(&label),
            self.list_volumes(&label)
        )?;
        Ok(Observed::from_lists(project, containers, networks, volumes))
    }

    pub async fn inspect_container(&self, id: &str) -> Result<ContainerInspect, ClientError> {
        self.get(&format!("/containers/{}/json", encode(id))).await
    }

    /// Returns the new container's ID.
    pub async fn create_container(&self, name: &str, body: &Value) -> Result<String, ClientError> {
        let answer: Value = self
            .post(
                &format!("/containers/create?name={}", encode(name)),
                Some(body.clone()),
            )
            .await?;
        Ok(answer["Id"].as_str().unwrap_or_default().to_string())
    }

    pub async fn start_container(&self, id: &str) -> Result<(), ClientError> {
        match self
            .post::<Value>(&format!("/containers/{}/start", encode(id)), None)
            .await
        {
            // 304: already running.
            Err(ClientError::Api { status: 304, .. }) => Ok(()),
            other => other.map(drop),
        }
    }

    /// `timeout`: seconds before SIGKILL (None: the container's own stop timeout).
    pub async fn stop_container(&self, id: &str, timeout: Option<i64>) -> Result<(), ClientError> {
        let query = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        match self
            .post::<Value>(&format!("/containers/{}/stop{query}", encode(id)), None)
            .await
        {
            Err(ClientError::Api { status: 304, .. }) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn restart_container(
        &self,
        id: &str,
        timeout: Option<i64>,
    ) -> Result<(), ClientError> {
        let query = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        self.post::<Value>(&format!("/containers/{}/restart{query}", encode(id)), None)
            .await
            .map(drop)
    }

    pub async fn kill_container(&self, id: &str, signal: Option<&str>) -> Result<(), ClientError> {
        let query = signal
            .map(|s| format!("?signal={}", encode(s)))
            .unwrap_or_default();
        self.post::<Value>(&format!("/containers/{}/kill{query}", encode(id)), None)
            .await
            .map(drop)
    }

    /// `volumes`: remove anonymous volumes too (`v=1`).
    pub async fn remove_container(
        &self,
        id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), ClientError> {
        self.delete(&format!(
            "/containers/{}?force={}&v={}",
            encode(id),
            u8::from(force),
            u8::from(volumes)
        ))
        .await
    }

    pub async fn rename_container(&self, id: &str, name: &str) -> Result<(), ClientError> {
        self.post::<Value>(
            &format!("/containers/{}/rename?name={}", encode(id), encode(name)),
            None,
        )
        .await
        .map(drop)
    }

    pub async fn pause_container(&self, id: &str) -> Result<(), ClientError> {
        self.post::<Value>(&format!("/containers/{}/pause", encode(id)), None)
            .await
            .map(drop)
    }

    pub async fn unpause_container(&self, id: &str) -> Result<(), ClientError> {
        self.post::<Value>(&format!("/containers/{}/unpause", encode(id)), None)
            .await
            .map(drop)
    }

    /// `POST /containers/{id}/wait`: the exit code.
    pub async fn wait_container(&self, id: &str) -> Result<i64, ClientError> {
        let answer: Value = self
            .post(&format!("/containers/{}/wait", encode(id)), None)
            .await?;
        Ok(answer["StatusCode"].as_i64().unwrap_or(-1))
    }

    pub async fn top_container(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<ContainerTop, ClientError> {
        let query = ps_args
            .map(|a| format!("?ps_args={}", encode(a)))
            .unwrap_or_default();
        self.get(&format!("/containers/{}/top{query}", encode(id)))
            .await
    }

    /// Follows or reads a container's log; `tty` says whether the stream is raw.
    pub async fn logs(
        &self,
        id: &str,
        tty: bool,
        query: &LogQuery,
    ) -> Result<ItemStream<LogFrame>, ClientError> {
        let mut path = format!(
            "/containers/{}/logs?stdout=1&stderr=1&follow={}&timestamps={}",
            encode(id),
            u8::from(query.follow),
            u8::from(query.timestamps)
        );
        for (key, value) in [
            ("since", &query.since),
            ("until", &query.until),
            ("tail", &query.tail),
        ] {
            if let Some(v) = value {
                path.push_str(&format!("&{key}={}", encode(v)));
            }
        }
        let resp = self
            .client
            .send_stream("GET", &versioned(&path), &[], None)
            .await?;
        let body = resp.into_body();
        let state = (body, BytesMut::new(), tty);
        Ok(Box::pin(futures_util::stream::unfold(
            state,
            |(mut body, mut buf, tty)| async move {
                loop {
                    if let Some(frame) = next_log_frame(&mut buf, tty) {
                        return Some((Ok(frame), (body, buf, tty)));
                    }
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Some(data) = frame.data_ref() {
                                buf.extend_from_slice(data);
                            }
                        }
                        Some(Err(e)) => {
                            let err = ClientError::Other(format!("reading logs: {e}"));
                            return Some((Err(err), (body, BytesMut::new(), tty)));
                        }
                        None => {
                            if buf.is_empty() {
                                return None;
                            }
                            let rest = buf.split().freeze();
                            return Some((
                                Ok(LogFrame {
                                    stream: 1,
                                    bytes: rest,
                                }),
                                (body, buf, tty),
                            ));
                        }
                    }
                }
            },
        )))
    }

    /// `GET /events` with Docker's `filters` (e.g. `{"label":["com.docker.compose.project=x"],
    /// "type":["container"]}`), from now on (or `since`).
    pub async fn events(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
        since: Option<&str>,
    ) -> Result<ItemStream<EventMessage>, ClientError> {
        let mut path = format!(
            "/events?filters={}",
            encode(&serde_json::to_string(filters).unwrap_or_default())
        );
        if let Some(since) = since {
            path.push_str(&format!("&since={}", encode(since)));
        }
        let resp = self
            .client
            .send_stream("GET", &versioned(&path), &[], None)
            .await?;
        Ok(json_stream(resp.into_body()))
    }

    pub async fn list_networks(
        &self,
        labels: &[String],
    ) -> Result<Vec<NetworkResource>, ClientError> {
        self.get(&format!("/networks?filters={}", label_filters(labels)))
            .await
    }

    /// `None` when it does not exist.
    pub async fn inspect_network(
        &self,
        name: &str,
    ) -> Result<Option<NetworkResource>, ClientError> {
        not_found_is_none(self.get(&format!("/networks/{}", encode(name))).await)
    }

    pub async fn create_network(&self, body: &Value) -> Result<String, ClientError> {
        let answer: Value = self.post("/networks/create", Some(body.clone())).await?;
        Ok(answer["Id"].as_str().unwrap_or_default().to_string())
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), ClientError> {
        self.delete(&format!("/networks/{}", encode(name))).await
    }

    /// `POST /networks/{name}/connect` with `{"Container":..,"EndpointConfig":..}`.
    pub async fn connect_network(
        &self,
        network: &str,
        container: &str,
        endpoint: &Value,
    ) -> Result<(), ClientError> {
        self.post::<Value>(
            &format!("/networks/{}/connect", encode(network)),
            Some(json!({ "Container": container, "EndpointConfig": endpoint })),
        )
        .await
        .map(drop)
    }

    pub async fn list_volumes(&self, labels: &[String]) -> Result<Vec<Volume>, ClientError> {
        let answer: Value = self
            .get(&format!("/volumes?filters={}", label_filters(labels)))
            .await?;
        Ok(serde_json::from_value(answer["Volumes"].clone()).unwrap_or_default())
    }

    /// `None` when it does not exist.
    pub async fn inspect_volume(&self, name: &str) -> Result<Option<Volume>, ClientError> {
        not_found_is_none(self.get(&format!("/volumes/{}", encode(name))).await)
    }

    pub async fn create_volume(&self, body: &Value) -> Result<Volume, ClientError> {
        self.post("/volumes/create", Some(body.clone())).await
    }

    pub async fn remove_volume(&self, name: &str) -> Result<(), ClientError> {
        self.delete(&format!("/volumes/{}", encode(name))).await
    }

    /// `None` when the image is not present.
    pub async fn inspect_image(
        &self,
        reference: &str,
    ) -> Result<Option<ImageInspect>, ClientError> {
        not_found_is_none(
            self.get(&format!("/images/{}/json", encode(reference)))
                .await,
        )
    }

    pub async fn list_images(&self) -> Result<Vec<ImageSummary>, ClientError> {
        self.get("/images/json").await
    }

    pub async fn remove_image(&self, reference: &str, force: bool) -> Result<(), ClientError> {
        self.delete(&format!(
            "/images/{}?force={}",
            encode(reference),
            u8::from(force)
        ))
        .await
    }
}

/// `/x` → `/v1.41/x`.
fn versioned(path: &str) -> String {
    format!("/v{API_VERSION}{path}")
}

/// Percent-encodes a path segment or query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `{"label":[...]}`, encoded for a query string.
fn label_filters(labels: &[String]) -> String {
    encode(&json!({ "label": labels }).to_string())
}

fn not_found_is_none<T>(result: Result<T, ClientError>) -> Result<Option<T>, ClientError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One frame off the front of `buf`: Docker's 8-byte header (stream, 0, 0, 0, size) unless
/// the container has a tty, whose log is raw.
fn next_log_frame(buf: &mut BytesMut, tty: bool) -> Option<LogFrame> {
    if buf.is_empty() {
        return None;
    }
    if tty {
        let bytes = buf.split().freeze();
        return Some(LogFrame { stream: 1, bytes });
    }
    if buf.len() < 8 {
        return None;
    }
    let size = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if buf.len() < 8 + size {
        return None;
    }
    let stream = buf[0];
    buf.advance(8);
    let bytes: Bytes = buf.split_to(size).freeze();
    Some(LogFrame { stream, bytes })
}

/// A body of concatenated JSON values (events, progress) as a stream of `T`.
fn json_stream<T: DeserializeOwned + Send + 'static>(body: hyper::body::Incoming) -> ItemStream<T> {
    let state = (body, Vec::<u8>::new());
    Box::pin(futures_util::stream::unfold(
        state,
        |(mut body, mut buf)| async move {
            loop {
                let mut values = serde_json::Deserializer::from_slice(&buf).into_iter::<T>();
                match values.next() {
                    Some(Ok(value)) => {
                        let used = values.byte_offset();
                        buf.drain(..used);
                        return Some((Ok(value), (body, buf)));
                    }
                    Some(Err(e)) if !e.is_eof() => {
                        let err = ClientError::Other(format!("decoding the daemon's stream: {e}"));
                        return Some((Err(err), (body, Vec::new())));
                    }
                    _ => {}
                }
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            buf.extend_from_slice(data);
                        }
                    }
                    Some(Err(e)) => {
                        let err = ClientError::Other(format!("reading the daemon's stream: {e}"));
                        return Some((Err(err), (body, Vec::new())));
                    }
                    None => return None,
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplexed_log_frames_are_split() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 3]);
        buf.extend_from_slice(b"hi\n");
        buf.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
        buf.extend_from_slice(b"er");
        let first = next_log_frame(&mut buf, false).unwrap();
        assert_eq!((first.stream, &first.bytes[..]), (1, &b"hi\n"[..]));
        assert!(
            next_log_frame(&mut buf, false).is_none(),
            "incomplete frame waits"
        );
        buf.extend_from_slice(b"r\n");
        let second = next_log_frame(&mut buf, false).unwrap();
        assert_eq!((second.stream, &second.bytes[..]), (2, &b"err\n"[..]));
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(versioned("/x"), "/v1.41/x");
    }
}
