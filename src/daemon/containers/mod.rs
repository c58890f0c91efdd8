//! The daemon's containers: records under `<root>/containers/<id>/`, the lifecycle
//! (create, start, stop, kill, restart, pause, wait, remove, rename), restart policies,
//! re-adoption of running shims after a daemon restart, exec, logs, stats, top, changes and
//! the archive (`cp`) operations.
//!
//! CONTRACT (signatures fixed; the container-manager helper implements them, the API helper
//! calls them from `api::server::containers`). Every method takes a container ID, a unique
//! ID prefix or a name (with or without the leading `/`). Errors map to Docker's status
//! codes through [`ContainerError`].

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::api::container_types::{
    ContainerInspect, ContainerSummary, ContainerTop, CreateResponse, ExecCreateRequest,
    ExecInspect, FilesystemChange, PathStat, PruneReport, StatsSample,
};
use crate::daemon::events::EventBus;
use crate::engine::logs::LogEntry;
use crate::engine::shim::Frame;
use crate::engine::spec::CreateRequest;
use crate::image::store::ImageStore;

/// Why a container operation failed; `api::server` maps the variants to status codes.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// 404: "No such container: x", "No such exec instance: x".
    #[error("{0}")]
    NotFound(String),
    /// 409: name in use, container running (rm without force), paused, not running.
    #[error("{0}")]
    Conflict(String),
    /// 304: already started / already stopped.
    #[error("container already in that state")]
    NotModified,
    /// 400: bad parameters (the create request's errors are `engine::spec` texts).
    #[error("{0}")]
    Invalid(String),
    /// 500: everything else, with context naming the container and the step.
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

/// `GET /containers/json` options.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub all: bool,
    /// 0 means no limit.
    pub limit: usize,
    pub size: bool,
    /// Docker's filters: `id`, `name`, `label`, `status`, `exited`, `ancestor`, `before`,
    /// `since`, `health`, `network`, `volume`, `is-task`.
    pub filters: std::collections::BTreeMap<String, Vec<String>>,
}

/// `wait`'s `condition`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WaitCondition {
    #[default]
    NotRunning,
    NextExit,
    Removed,
}

/// What `wait` answers once the condition holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitResult {
    pub status_code: i64,
    /// `Error.Message` when waiting itself failed.
    pub error: Option<String>,
}

/// `attach` options (the API's query parameters).
#[derive(Clone, Debug, Default)]
pub struct AttachOptions {
    pub stream: bool,
    pub logs: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub detach_keys: Option<String>,
}

/// A live stream to or from a container or exec process. Closing `input` (dropping the
/// sender) is end of stdin; `output` ends when the process's streams close, an exec stream
/// with a final [`Frame::Exit`].
#[derive(Debug)]
pub struct IoSession {
    /// The process has a tty: frames are raw (all [`Frame::Stdout`]), not multiplexed.
    pub tty: bool,
    pub output: mpsc::Receiver<Frame>,
    pub input: Option<mpsc::Sender<Bytes>>,
}

/// `logs` options.
#[derive(Clone, Debug, Default)]
pub struct LogsOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds with fraction; 0 means from the start.
    pub since: f64,
    /// 0 means no end.
    pub until: f64,
    pub timestamps: bool,
    /// `None` means all lines.
    pub tail: Option<usize>,
}

/// The container's logs: entries in order; the channel ends when done (or, with `follow`,
/// when the container stops and the log is drained).
#[derive(Debug)]
pub struct LogStream {
    pub tty: bool,
    pub entries: mpsc::Receiver<LogEntry>,
}

/// Everything the daemon knows about containers.
pub struct Containers {
    _images: Arc<ImageStore>,
    _events: Arc<EventBus>,
}

impl Containers {
    /// Opens `<root>/containers`, re-adopts running shims and records exits that happened
    /// while the daemon was down.
    pub async fn open(
        root: &std::path::Path,
        images: Arc<ImageStore>,
        events: Arc<EventBus>,
    ) -> anyhow::Result<Arc<Containers>> {
        let _ = root;
        Ok(Arc::new(Containers {
            _images: images,
            _events: events,
        }))
    }

    pub async fn create(
        &self,
        name: Option<&str>,
        request: CreateRequest,
    ) -> Result<CreateResponse, ContainerError> {
        let _ = (name, request);
        Err(not_yet())
    }

    pub async fn start(&self, id: &str) -> Result<(), ContainerError> {
        let _ = id;
        Err(not_yet())
    }

    /// `signal` as given (`SIGTERM`, `15`, `TERM`); `timeout` in seconds, `None` for the
    /// container's own (`-1` waits forever).
    pub async fn stop(
        &self,
        id: &str,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let _ = (id, signal, timeout);
        Err(not_yet())
    }

    pub async fn restart(
        &self,
        id: &str,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let _ = (id, signal, timeout);
        Err(not_yet())
    }

    pub async fn kill(&self, id: &str, signal: Option<&str>) -> Result<(), ContainerError> {
        let _ = (id, signal);
        Err(not_yet())
    }

    pub async fn pause(&self, id: &str) -> Result<(), ContainerError> {
        let _ = id;
        Err(not_yet())
    }

    pub async fn unpause(&self, id: &str) -> Result<(), ContainerError> {
        let _ = id;
        Err(not_yet())
    }

    /// Checks the container exists now (404 before any response is sent), then resolves
    /// when `condition` holds.
    pub async fn wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResult>, ContainerError> {
        let _ = (id, condition);
        Err(not_yet())
    }

    pub async fn remove(&self, id: &str, force: bool, volumes: bool) -> Result<(), ContainerError> {
        let _ = (id, force, volumes);
        Err(not_yet())
    }

    pub async fn rename(&self, id: &str, new_name: &str) -> Result<(), ContainerError> {
        let _ = (id, new_name);
        Err(not_yet())
    }

    pub async fn inspect(&self, id: &str, size: bool) -> Result<ContainerInspect, ContainerError> {
        let _ = (id, size);
        Err(not_yet())
    }

    pub async fn list(
        &self,
        options: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, ContainerError> {
        let _ = options;
        Err(not_yet())
    }

    pub async fn attach(
        &self,
        id: &str,
        options: &AttachOptions,
    ) -> Result<IoSession, ContainerError> {
        let _ = (id, options);
        Err(not_yet())
    }

    pub async fn resize(&self, id: &str, height: u16, width: u16) -> Result<(), ContainerError> {
        let _ = (id, height, width);
        Err(not_yet())
    }

    pub async fn logs(&self, id: &str, options: &LogsOptions) -> Result<LogStream, ContainerError> {
        let _ = (id, options);
        Err(not_yet())
    }

    /// `ps_args` as Docker's `ps_args` query (`-ef` by default).
    pub async fn top(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<ContainerTop, ContainerError> {
        let _ = (id, ps_args);
        Err(not_yet())
    }

    /// One sample of Docker's stats JSON (`precpu_stats` left for the caller, which keeps
    /// the previous sample when streaming).
    pub async fn stats(&self, id: &str) -> Result<StatsSample, ContainerError> {
        let _ = id;
        Err(not_yet())
    }

    pub async fn changes(&self, id: &str) -> Result<Vec<FilesystemChange>, ContainerError> {
        let _ = id;
        Err(not_yet())
    }

    /// `HEAD /containers/{id}/archive`.
    pub async fn archive_stat(&self, id: &str, path: &str) -> Result<PathStat, ContainerError> {
        let _ = (id, path);
        Err(not_yet())
    }

    /// `GET /containers/{id}/archive`: the stat and a tar stream of `path`.
    pub async fn archive_get(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(PathStat, mpsc::Receiver<std::io::Result<Bytes>>), ContainerError> {
        let _ = (id, path);
        Err(not_yet())
    }

    /// `PUT /containers/{id}/archive`: extracts the tar from `body` into directory `path`.
    pub async fn archive_put(
        &self,
        id: &str,
        path: &str,
        no_overwrite_dir_non_dir: bool,
        copy_uid_gid: bool,
        body: mpsc::Receiver<Bytes>,
    ) -> Result<(), ContainerError> {
        let _ = (id, path, no_overwrite_dir_non_dir, copy_uid_gid, body);
        Err(not_yet())
    }

    pub async fn prune(
        &self,
        filters: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<PruneReport, ContainerError> {
        let _ = filters;
        Err(not_yet())
    }

    pub async fn exec_create(
        &self,
        id: &str,
        request: ExecCreateRequest,
    ) -> Result<String, ContainerError> {
        let _ = (id, request);
        Err(not_yet())
    }

    /// Starts the exec; with `detach` the session's output is empty and ends at once.
    pub async fn exec_start(
        &self,
        exec_id: &str,
        detach: bool,
    ) -> Result<IoSession, ContainerError> {
        let _ = (exec_id, detach);
        Err(not_yet())
    }

    pub async fn exec_resize(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        let _ = (exec_id, height, width);
        Err(not_yet())
    }

    pub async fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect, ContainerError> {
        let _ = exec_id;
        Err(not_yet())
    }

    /// Stops restart supervisors on daemon shutdown; containers keep running.
    pub fn shutdown(&self) {}
}

fn not_yet() -> ContainerError {
    ContainerError::Internal(anyhow::anyhow!("not implemented yet"))
}
