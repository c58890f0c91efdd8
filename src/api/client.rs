//! The client every berth command uses to talk to a daemon (berth's or Docker's) over its unix
//! socket, starting berth's daemon when nothing answers.
//!
//! Client side: never touches a namespace or the state root (beyond
//! creating it for the log of a daemon it starts). Every request goes to `/v1.43<path>`, so
//! the same client works against Docker's daemon, which serves older versions too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use tokio::io::AsyncReadExt;

use super::types::{ErrorResponse, API_VERSION};
use crate::daemon::{DEFAULT_ROOT, DEFAULT_SOCKET};
use crate::image::registry::AuthConfig;

/// How long `ensure_daemon` waits for a daemon it started to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to keep asking after the daemon we started exited (another may be starting).
const EXITED_GRACE: Duration = Duration::from_secs(2);

/// An error from the daemon (`status`, Docker's `{"message"}`) or from reaching it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Displayed as the docker CLI does.
    #[error("Error response from daemon: {message}")]
    Api { status: u16, message: String },
    #[error("Cannot connect to the berth daemon at unix://{socket}. Is the berth daemon running?")]
    Unreachable { socket: PathBuf },
    #[error("{0}")]
    Other(String),
}

/// A connection target; cheap to clone. Each request opens its own connection.
#[derive(Clone, Debug)]
pub struct Client {
    pub socket: PathBuf,
}

/// The body every request carries.
type RequestBody = UnsyncBoxBody<Bytes, std::io::Error>;

impl Client {
    /// The socket from `-H unix:///path` when given, else `BERTH_HOST`, else the default.
    pub fn from_host(host: Option<&str>) -> Result<Client, ClientError> {
        let from_env = std::env::var("BERTH_HOST").ok().filter(|h| !h.is_empty());
        match host.map(str::to_owned).or(from_env) {
            Some(h) => Ok(Client {
                socket: parse_host(&h)?,
            }),
            None => Ok(Client {
                socket: PathBuf::from(DEFAULT_SOCKET),
            }),
        }
    }

    /// `GET /_ping`: whether a daemon answers on the socket.
    pub async fn ping(&self) -> Result<(), ClientError> {
        let resp = self.send_stream("GET", "/_ping", &[], None).await?;
        drop(resp);
        Ok(())
    }

    /// Answers `GET /_ping`, or starts `berth daemon` detached (log in its root) and waits for
    /// it to answer (only for the default or a berth-owned socket).
    pub async fn ensure_daemon(&self) -> Result<(), ClientError> {
        match self.ping().await {
            Err(ClientError::Unreachable { .. }) => {}
            other => return other,
        }
        let root = std::env::var_os("BERTH_ROOT").map(PathBuf::from);
        let is_default_socket = self.socket == Path::new(DEFAULT_SOCKET);
        if root.is_none() && !is_default_socket {
            // Somebody else's socket (maybe Docker's): not ours to start.
            return Err(ClientError::Unreachable {
                socket: self.socket.clone(),
            });
        }
        let root = root.unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT));
        let mut child = spawn_daemon(&root, &self.socket)?;
        self.wait_for_daemon(&root, &mut child).await
    }

    /// Polls `/_ping` until the daemon we started answers. A daemon that exits first (lock
    /// held, bad config) is reported with the end of its log, after a short grace: when two
    /// commands start a daemon at once, the loser exits on the lock while the winner comes up.
    async fn wait_for_daemon(
        &self,
        root: &Path,
        child: &mut std::process::Child,
    ) -> Result<(), ClientError> {
        let log = root.join("daemon.log");
        let mut deadline = tokio::time::Instant::now() + START_TIMEOUT;
        let mut exited = None;
        loop {
            if self.ping().await.is_ok() {
                return Ok(());
            }
            if exited.is_none() {
                if let Ok(Some(status)) = child.try_wait() {
                    exited = Some(status);
                    deadline = deadline.min(tokio::time::Instant::now() + EXITED_GRACE);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::Other(match exited {
                    Some(status) => format!(
                        "berth daemon exited ({status}) before answering; see {}: {}",
                        log.display(),
                        log_tail(&log)
                    ),
                    None => format!(
                        "berth daemon did not answer on unix://{} within {}s; see {}",
                        self.socket.display(),
                        START_TIMEOUT.as_secs(),
                        log.display()
                    ),
                }));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, ClientError> {
        self.send_json("GET", path, &[], None).await
    }

    /// `method path` with a JSON body (or none) and decode the JSON answer (`()`-like
    /// answers: use `serde_json::Value`).
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let body = match body {
            Some(v) => {
                let bytes = serde_json::to_vec(&v)
                    .map_err(|e| ClientError::Other(format!("encoding request: {e}")))?;
                Full::new(Bytes::from(bytes))
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }
            None => empty_body(),
        };
        let resp = self.request(method, path, headers, body, true).await?;
        let bytes = read_body(resp).await?;
        // `204 No Content` and empty `200`s decode as JSON `null`.
        let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(text)
            .map_err(|e| ClientError::Other(format!("decoding the answer to {method} {path}: {e}")))
    }

    /// A request whose body is streamed from `body` (tarballs for load/import) and whose
    /// answer is returned unread for streaming (progress lines, tarballs for save). A non-2xx
    /// answer becomes `ClientError::Api`.
    pub async fn send_stream(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let has_body = body.is_some();
        let body = match body {
            Some(reader) => stream_body(reader),
            None => empty_body(),
        };
        self.request(method, path, headers, body, !has_body).await
    }

    /// Sends one request on a fresh connection; the connection lives as long as the answer's
    /// body is read.
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: RequestBody,
        fixed_length: bool,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|_| ClientError::Unreachable {
                socket: self.socket.clone(),
            })?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| ClientError::Other(format!("connecting to the daemon: {e}")))?;
        tokio::spawn(async move {
            // Ends when the answer is read or dropped; its error is the request's to report.
            let _ = conn.await;
        });
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(versioned_path(path))
            .header(hyper::header::HOST, "localhost")
            .header(
                hyper::header::USER_AGENT,
                concat!("berth/", env!("CARGO_PKG_VERSION")),
            );
        if !fixed_length {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/x-tar");
        } else if method != "GET" && method != "HEAD" {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        let req = builder
            .body(body)
            .map_err(|e| ClientError::Other(format!("building request {method} {path}: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| ClientError::Other(format!("{method} {path}: {e}")))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(api_error(resp).await)
    }
}

/// A hijacked connection: the raw byte stream both ways after `101 Switching Protocols`
/// (attach, exec start). Shutting down its write half tells the daemon stdin ended.
pub type Hijacked = hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>;

impl Client {
    /// `method path` with a JSON body (or none), asking the daemon to take the connection
    /// over (`Connection: Upgrade`, `Upgrade: tcp`) as the docker CLI does for attach and
    /// exec start; returns the status, the headers and the raw stream. A non-2xx answer
    /// becomes `ClientError::Api`; a 2xx other than 101 is an error too (no stream).
    pub async fn hijack(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(hyper::StatusCode, hyper::HeaderMap, Hijacked), ClientError> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|_| ClientError::Unreachable {
                socket: self.socket.clone(),
            })?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| ClientError::Other(format!("connecting to the daemon: {e}")))?;
        tokio::spawn(async move {
            // Hands the connection to the upgrade once the 101 is read.
            let _ = conn.with_upgrades().await;
        });
        let body = match body {
            Some(v) => {
                let bytes = serde_json::to_vec(&v)
                    .map_err(|e| ClientError::Other(format!("encoding request: {e}")))?;
                Full::new(Bytes::from(bytes))
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }
            None => empty_body(),
        };
        let req = hyper::Request::builder()
            .method(method)
            .uri(versioned_path(path))
            .header(hyper::header::HOST, "localhost")
            .header(
                hyper::header::USER_AGENT,
                concat!("berth/", env!("CARGO_PKG_VERSION")),
            )
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::CONNECTION, "Upgrade")
            .header(hyper::header::UPGRADE, "tcp")
            .body(body)
            .map_err(|e| ClientError::Other(format!("building request {method} {path}: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| ClientError::Other(format!("{method} {path}: {e}")))?;
        let status = resp.status();
        if !status.is_success() && status != hyper::StatusCode::SWITCHING_PROTOCOLS {
            return Err(api_error(resp).await);
        }
        if status != hyper::StatusCode::SWITCHING_PROTOCOLS {
            return Err(ClientError::Other(format!(
                "{method} {path}: the daemon answered {status} instead of upgrading the connection"
            )));
        }
        let headers = resp.headers().clone();
        let upgraded = hyper::upgrade::on(resp)
            .await
            .map_err(|e| ClientError::Other(format!("{method} {path}: upgrading: {e}")))?;
        Ok((status, headers, hyper_util::rt::TokioIo::new(upgraded)))
    }
}

/// The `X-Registry-Auth` header for `auth`: base64url of its JSON, as the docker CLI sends it.
pub fn registry_auth_header(auth: &AuthConfig) -> (&'static str, String) {
    use base64::Engine;
    let json = serde_json::to_vec(auth).unwrap_or_default();
    (
        "X-Registry-Auth",
        base64::engine::general_purpose::URL_SAFE.encode(json),
    )
}

/// Reads a whole answer body.
pub async fn read_body(resp: hyper::Response<hyper::body::Incoming>) -> Result<Bytes, ClientError> {
    resp.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ClientError::Other(format!("reading the daemon's answer: {e}")))
}

/// `unix:///path` -> `/path`; other schemes are not served by berth.
fn parse_host(host: &str) -> Result<PathBuf, ClientError> {
    match host.strip_prefix("unix://") {
        Some(path) if path.starts_with('/') => Ok(PathBuf::from(path)),
        Some(_) => Err(ClientError::Other(format!(
            "invalid host {host:?}: the socket path must be absolute"
        ))),
        None => Err(ClientError::Other(format!(
            "invalid host {host:?}: berth speaks only unix://PATH"
        ))),
    }
}

/// The API version unversioned paths get, when pinned below the default.
static PINNED_VERSION: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Makes every request of this process use API `version` (the compose verbs pin 1.41 so
/// that Debian's dockerd 20.10 answers them too). The first pin wins.
pub fn pin_api_version(version: &'static str) {
    let _ = PINNED_VERSION.set(version);
}

/// `/images/json` -> `/v1.43/images/json`; an already versioned path is left alone.
fn versioned_path(path: &str) -> String {
    if path.starts_with("/v1.") || path.starts_with("/v2.") {
        return path.to_owned();
    }
    let version = PINNED_VERSION.get().copied().unwrap_or(API_VERSION);
    format!("/v{version}{path}")
}

fn empty_body() -> RequestBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A chunked body read from `reader` as it is sent.
fn stream_body(reader: Box<dyn tokio::io::AsyncRead + Send + Unpin>) -> RequestBody {
    let chunks = futures_util::stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        let mut buf = BytesMut::with_capacity(64 * 1024);
        match reader.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(Frame::data(buf.freeze())), Some(reader))),
            // Report the error once, then end the stream.
            Err(e) => Some((Err(e), None)),
        }
    });
    BodyExt::boxed_unsync(StreamBody::new(chunks))
}

/// Turns a non-2xx answer into `ClientError::Api`, with Docker's `message` when it has one.
async fn api_error(resp: hyper::Response<hyper::body::Incoming>) -> ClientError {
    let status = resp.status().as_u16();
    let message = match read_body(resp).await {
        Ok(bytes) => match serde_json::from_slice::<ErrorResponse>(&bytes) {
            Ok(e) if !e.message.is_empty() => e.message,
            _ => String::from_utf8_lossy(&bytes).trim().to_owned(),
        },
        Err(e) => e.to_string(),
    };
    ClientError::Api { status, message }
}

/// Starts `berth daemon` in its own process group, detached from our terminal, its output in
/// `<root>/daemon.log`.
fn spawn_daemon(root: &Path, socket: &Path) -> Result<std::process::Child, ClientError> {
    use std::os::unix::fs::DirBuilderExt;
    use std::os::unix::process::CommandExt;

    let fail = |what: &str, e: std::io::Error| {
        ClientError::Other(format!("starting the berth daemon: {what}: {e}"))
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|e| fail(&format!("creating {}", root.display()), e))?;
    let log_path = root.join("daemon.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| fail(&format!("opening {}", log_path.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| fail(&format!("opening {}", log_path.display()), e))?;
    let exe = std::env::current_exe().map_err(|e| fail("finding the berth binary", e))?;
    std::process::Command::new(exe)
        .arg("daemon")
        .arg("--root")
        .arg(root)
        .arg("--host")
        .arg(format!("unix://{}", socket.display()))
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own process group: a Ctrl-C at our terminal must not stop it.
        .process_group(0)
        .spawn()
        .map_err(|e| fail("spawning", e))
}

/// The last few lines of the daemon's log, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_must_be_an_absolute_unix_path() {
        assert_eq!(
            parse_host("unix:///run/x.sock").expect("parses"),
            PathBuf::from("/run/x.sock")
        );
        assert!(parse_host("tcp://127.0.0.1:2375").is_err());
        assert!(parse_host("unix://rel.sock").is_err());
    }

    #[test]
    fn explicit_host_wins() {
        let c = Client::from_host(Some("unix:///tmp/a.sock")).expect("parses");
        assert_eq!(c.socket, PathBuf::from("/tmp/a.sock"));
    }

    #[test]
    fn paths_get_the_api_version() {
        assert_eq!(versioned_path("/images/json"), "/v1.43/images/json");
        assert_eq!(versioned_path("/v1.41/info"), "/v1.41/info");
    }

    #[test]
    fn auth_header_is_base64url_json() {
        use base64::Engine;
        let (name, value) = registry_auth_header(&AuthConfig {
            username: "u".into(),
            password: "p?>".into(),
            ..Default::default()
        });
        assert_eq!(name, "X-Registry-Auth");
        let json = base64::engine::general_purpose::URL_SAFE
            .decode(value)
            .expect("base64url");
        let back: AuthConfig = serde_json::from_slice(&json).expect("json");
        assert_eq!(back.password, "p?>");
    }

    #[tokio::test]
    async fn missing_socket_is_unreachable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = Client {
            socket: dir.path().join("none.sock"),
        };
        assert!(matches!(
            c.ping().await,
            Err(ClientError::Unreachable { .. })
        ));
    }
}
