//! The daemon's containers: records under `<root>/containers/<id>/`, the lifecycle
//! (create, start, stop, kill, restart, pause, wait, remove, rename), restart policies,
//! re-adoption of running shims after a daemon restart, exec, logs, stats, top, changes and
//! the archive (`cp`) operations.
//!
//! CONTRACT (signatures fixed; the container-manager helper implements them, the API helper
//! calls them from `api::server::containers`). Every method takes a container ID, a unique
//! ID prefix or a name (with or without the leading `/`). Errors map to Docker's status
//! codes through [`ContainerError`].

mod adopt;
mod boot_order;
mod create;
mod entry;
mod exec;
mod fsops;
mod health;
mod inspect;
mod io;
mod list;
mod names;
mod network;
mod network_settings;
mod remove;
mod start;
mod stats;
mod status;
mod stop;
mod store;
mod supervise;
mod volumes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::api::container_types::{
    ContainerInspect, ContainerSummary, ContainerTop, CreateResponse, ExecCreateRequest,
    ExecInspect, FilesystemChange, PathStat, PruneReport, StatsSample,
};
use crate::daemon::events::EventBus;
use crate::daemon::networks::Networks;
use crate::engine::logs::LogEntry;
use crate::engine::shim::Frame;
use crate::engine::spec::CreateRequest;
use crate::image::store::ImageStore;
use crate::volume::Volumes;

use entry::Entry;
use exec::ExecEntry;
use names::NameIndex;

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
    /// `<root>/containers`.
    root: PathBuf,
    images: Arc<ImageStore>,
    events: Arc<EventBus>,
    networks: Arc<Networks>,
    volumes: Arc<Volumes>,
    /// The berth binary the shims are started from.
    exe: PathBuf,
    table: Mutex<Table>,
    /// Set on daemon shutdown: supervisors stop restarting and return.
    shutdown: watch::Sender<bool>,
    /// Supervisor tasks hold this to reach the manager without keeping it alive.
    me: Weak<Containers>,
}

/// The in-memory index, behind one short-held lock (never held across an await).
#[derive(Default)]
struct Table {
    entries: BTreeMap<String, Arc<Entry>>,
    names: NameIndex,
    execs: BTreeMap<String, Arc<ExecEntry>>,
}

impl Containers {
    /// Opens `<root>/containers`, re-adopts running shims and records exits that happened
    /// while the daemon was down.
    pub async fn open(
        root: &std::path::Path,
        images: Arc<ImageStore>,
        events: Arc<EventBus>,
        networks: Arc<Networks>,
        volumes: Arc<Volumes>,
    ) -> anyhow::Result<Arc<Containers>> {
        // The kernel's link to the running binary stays valid when the file is replaced on
        // disk (an upgrade, a rebuild), where `current_exe()` would name a deleted path.
        let exe = PathBuf::from("/proc/self/exe");
        Containers::open_with_exe(root, images, events, networks, volumes, exe).await
    }

    /// [`Containers::open`] with the binary the shims run (tests pass the built `berth`).
    pub async fn open_with_exe(
        root: &Path,
        images: Arc<ImageStore>,
        events: Arc<EventBus>,
        networks: Arc<Networks>,
        volumes: Arc<Volumes>,
        exe: PathBuf,
    ) -> anyhow::Result<Arc<Containers>> {
        let dir = root.join("containers");
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
        let (shutdown, _) = watch::channel(false);
        let containers = Arc::new_cyclic(|me| Containers {
            root: dir,
            images,
            events,
            networks,
            volumes,
            exe,
            table: Mutex::new(Table::default()),
            shutdown,
            me: me.clone(),
        });
        containers.install_usage_check();
        containers.adopt_all().await?;
        Ok(containers)
    }

    pub async fn create(
        &self,
        name: Option<&str>,
        request: CreateRequest,
    ) -> Result<CreateResponse, ContainerError> {
        self.create_container(name, request).await
    }

    pub async fn start(&self, id: &str) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.start_by_user(&entry).await
    }

    /// `signal` as given (`SIGTERM`, `15`, `TERM`); `timeout` in seconds, `None` for the
    /// container's own (`-1` waits forever).
    pub async fn stop(
        &self,
        id: &str,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.stop_container(&entry, signal, timeout).await
    }

    pub async fn restart(
        &self,
        id: &str,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.restart_container(&entry, signal, timeout).await
    }

    pub async fn kill(&self, id: &str, signal: Option<&str>) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.kill_container(&entry, id, signal).await
    }

    pub async fn pause(&self, id: &str) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.pause_container(&entry).await
    }

    pub async fn unpause(&self, id: &str) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.unpause_container(&entry).await
    }

    /// Checks the container exists now (404 before any response is sent), then resolves
    /// when `condition` holds.
    pub async fn wait(
        &self,
        id: &str,
        condition: WaitCondition,
    ) -> Result<oneshot::Receiver<WaitResult>, ContainerError> {
        let entry = self.entry(id)?;
        Ok(entry.wait_for(condition))
    }

    pub async fn remove(&self, id: &str, force: bool, volumes: bool) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.remove_container(&entry, force, volumes).await
    }

    /// `network connect`: records the endpoint in the container; a running container gets
    /// the interface at once (`Networks::endpoint_connect`). Docker's errors: 404 for an
    /// unknown container or network, 409 when already connected, 400 for `host`/`none`.
    /// CONTRACT (the container-network helper implements it in `network.rs`).
    pub async fn connect_network(
        &self,
        container: &str,
        network: &str,
        config: Option<crate::api::container_types::EndpointSettings>,
    ) -> Result<(), ContainerError> {
        self.connect_container(container, network, config).await
    }

    /// `network disconnect`. CONTRACT (the container-network helper implements it).
    pub async fn disconnect_network(
        &self,
        container: &str,
        network: &str,
        force: bool,
    ) -> Result<(), ContainerError> {
        self.disconnect_container(container, network, force).await
    }

    pub async fn rename(&self, id: &str, new_name: &str) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.rename_container(&entry, new_name).await
    }

    pub async fn inspect(&self, id: &str, size: bool) -> Result<ContainerInspect, ContainerError> {
        let entry = self.entry(id)?;
        self.inspect_container(&entry, size).await
    }

    pub async fn list(
        &self,
        options: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, ContainerError> {
        self.list_containers(options).await
    }

    pub async fn attach(
        &self,
        id: &str,
        options: &AttachOptions,
    ) -> Result<IoSession, ContainerError> {
        let entry = self.entry(id)?;
        self.attach_container(&entry, options).await
    }

    pub async fn resize(&self, id: &str, height: u16, width: u16) -> Result<(), ContainerError> {
        let entry = self.entry(id)?;
        self.resize_container(&entry, height, width).await
    }

    pub async fn logs(&self, id: &str, options: &LogsOptions) -> Result<LogStream, ContainerError> {
        let entry = self.entry(id)?;
        self.container_logs(&entry, options).await
    }

    /// `ps_args` as Docker's `ps_args` query (`-ef` by default).
    pub async fn top(
        &self,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<ContainerTop, ContainerError> {
        let entry = self.entry(id)?;
        self.top_container(&entry, ps_args).await
    }

    /// One sample of Docker's stats JSON (`precpu_stats` left for the caller, which keeps
    /// the previous sample when streaming).
    pub async fn stats(&self, id: &str) -> Result<StatsSample, ContainerError> {
        let entry = self.entry(id)?;
        self.sample_stats(&entry).await
    }

    pub async fn changes(&self, id: &str) -> Result<Vec<FilesystemChange>, ContainerError> {
        let entry = self.entry(id)?;
        self.container_changes(&entry).await
    }

    /// `HEAD /containers/{id}/archive`.
    pub async fn archive_stat(&self, id: &str, path: &str) -> Result<PathStat, ContainerError> {
        let entry = self.entry(id)?;
        self.stat_path(&entry, path).await
    }

    /// `GET /containers/{id}/archive`: the stat and a tar stream of `path`.
    pub async fn archive_get(
        &self,
        id: &str,
        path: &str,
    ) -> Result<(PathStat, mpsc::Receiver<std::io::Result<Bytes>>), ContainerError> {
        let entry = self.entry(id)?;
        self.read_archive(&entry, path).await
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
        let entry = self.entry(id)?;
        self.write_archive(&entry, path, no_overwrite_dir_non_dir, copy_uid_gid, body)
            .await
    }

    pub async fn prune(
        &self,
        filters: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<PruneReport, ContainerError> {
        self.prune_containers(filters).await
    }

    pub async fn exec_create(
        &self,
        id: &str,
        request: ExecCreateRequest,
    ) -> Result<String, ContainerError> {
        let entry = self.entry(id)?;
        self.create_exec(&entry, request).await
    }

    /// Starts the exec; with `detach` the session's output is empty and ends at once.
    pub async fn exec_start(
        &self,
        exec_id: &str,
        detach: bool,
    ) -> Result<IoSession, ContainerError> {
        self.start_exec(exec_id, detach).await
    }

    pub async fn exec_resize(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        self.resize_exec(exec_id, height, width).await
    }

    pub async fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect, ContainerError> {
        self.inspect_exec(exec_id)
    }

    /// Stops restart supervisors on daemon shutdown; containers keep running.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    // --- shared helpers of the submodules ---

    fn lock_table(&self) -> MutexGuard<'_, Table> {
        // Every change to the table is a single insert or remove: a panic cannot leave it
        // half updated.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Finds a container by ID, name or unique ID prefix; Docker's 404 text otherwise.
    fn entry(&self, reference: &str) -> Result<Arc<Entry>, ContainerError> {
        let table = self.lock_table();
        match table.names.lookup(reference, table.entries.keys()) {
            Ok(id) => table
                .entries
                .get(&id)
                .cloned()
                .ok_or_else(|| no_such_container(reference)),
            Err(names::LookupError::Ambiguous) => Err(ContainerError::NotFound(format!(
                "Multiple IDs found with provided prefix: {reference}"
            ))),
            Err(names::LookupError::NotFound) => Err(no_such_container(reference)),
        }
    }

    fn all_entries(&self) -> Vec<Arc<Entry>> {
        self.lock_table().entries.values().cloned().collect()
    }

    fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Publishes a container event with Docker's attributes (image, name, labels, extra).
    fn publish(&self, entry: &Entry, action: &str, extra: &[(&str, String)]) {
        let record = entry.snapshot();
        let mut attrs: BTreeMap<String, String> = record.request.config.labels.clone();
        attrs.insert("image".into(), record.image.clone());
        attrs.insert("name".into(), record.name.clone());
        for (k, v) in extra {
            attrs.insert((*k).to_string(), v.clone());
        }
        self.events.publish("container", action, &record.id, attrs);
    }
}

fn no_such_container(reference: &str) -> ContainerError {
    ContainerError::NotFound(format!("No such container: {reference}"))
}

/// Runs blocking file system work off the async threads.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ContainerError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ContainerError::Internal),
        Err(e) => Err(ContainerError::Internal(anyhow::anyhow!("{what}: {e}"))),
    }
}
