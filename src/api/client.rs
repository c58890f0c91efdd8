//! The client every berth command uses to talk to a daemon (berth's or Docker's) over its unix
//! socket, starting berth's daemon when nothing answers.
//!
//! OWNER: helper "daemon". Client side: never touches a namespace or the state root.

use std::path::PathBuf;

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

impl Client {
    /// The socket from `-H unix:///path` when given, else `BERTH_HOST`, else the default.
    pub fn from_host(_host: Option<&str>) -> Result<Client, ClientError> {
        todo!("daemon")
    }

    /// Answers `GET /_ping`, or starts `berth daemon` detached (log in its root) and waits for
    /// it to answer (only for the default or a berth-owned socket).
    pub async fn ensure_daemon(&self) -> Result<(), ClientError> {
        todo!("daemon")
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, _path: &str) -> Result<T, ClientError> {
        todo!("daemon")
    }

    /// `method path` with a JSON body (or none) and decode the JSON answer (`()`-like
    /// answers: use `serde_json::Value`).
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        _method: &str,
        _path: &str,
        _headers: &[(&str, String)],
        _body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        todo!("daemon")
    }

    /// A request whose body is streamed from `body` (tarballs for load/import) and whose
    /// answer is returned unread for streaming (progress lines, tarballs for save). A non-2xx
    /// answer becomes `ClientError::Api`.
    pub async fn send_stream(
        &self,
        _method: &str,
        _path: &str,
        _headers: &[(&str, String)],
        _body: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        todo!("daemon")
    }
}
