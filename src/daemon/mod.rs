//! `berth daemon`: owns the state root, serves the Docker Engine API on a unix socket.
//!
//! Layout of the root: `lock` (flock held while running),
//! `daemon.log` (when started detached), `daemon.json` (optional config), `engine-id`,
//! `image/` (the image store). Containers, networks and volumes get their own directories in
//! later steps. Start-up order matters: the lock first (it makes every later step safe
//! against a second daemon), then the config, the store (which recovers from a crash), and
//! the socket last, so a client that can connect finds a daemon ready to answer.

pub mod atomic;
pub mod config;
pub mod containers;
pub mod events;
pub mod lock;
pub mod logging;
pub mod networks;
pub mod socket;
pub mod state;

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::image::registry::RegistryConfig;
use crate::image::store::ImageStore;
use state::{Daemon, DaemonParts};

/// Default state root.
pub const DEFAULT_ROOT: &str = "/var/lib/berth";
/// Default socket.
pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

/// How the daemon was asked to run.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    pub root: PathBuf,
    pub socket: PathBuf,
    pub debug: bool,
    pub registry: RegistryConfig,
}

/// Runs the daemon in the foreground until SIGTERM/SIGINT (builds its own tokio runtime).
pub fn run(config: DaemonConfig) -> anyhow::Result<()> {
    // The file may ask for debug logs, so read it before logging starts; reading it again
    // under the lock below is cheap and sees the same file.
    let file_debug = config::read(&config.root).map(|c| c.debug).unwrap_or(false);
    logging::init(config.debug || file_debug);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("berth-daemon")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_until_signal(config))
}

async fn serve_until_signal(config: DaemonConfig) -> anyhow::Result<()> {
    let root = &config.root;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .with_context(|| format!("creating the state root {}", root.display()))?;
    let _lock = lock::acquire(root)?;
    let file = config::read(root)?;
    let images = open_store(root.join("image")).await?;
    let id = state::ensure_engine_id(root)
        .with_context(|| format!("reading {}", root.join("engine-id").display()))?;
    let events = Arc::new(events::EventBus::new());
    let networks = networks::Networks::open(root, &file, events.clone())
        .await
        .context("opening the networks")?;
    let volumes = crate::volume::Volumes::open(root)
        .await
        .context("opening the volumes")?;
    volumes.attach_events(events.clone());
    let containers = containers::Containers::open(
        root,
        images.clone(),
        events.clone(),
        networks.clone(),
        volumes.clone(),
    )
    .await
    .context("opening the containers")?;
    let daemon = Arc::new(Daemon::new(DaemonParts {
        root: root.clone(),
        socket: config.socket.clone(),
        debug: config.debug || file.debug,
        id,
        images,
        registry_config: file.merge_registry(&config.registry),
        events,
        containers,
        networks,
        volumes,
    }));
    let listener = socket::bind(&config.socket)?;
    tracing::info!(
        root = %root.display(),
        socket = %config.socket.display(),
        version = env!("CARGO_PKG_VERSION"),
        "berth daemon started"
    );
    crate::api::server::serve(listener, daemon.clone(), shutdown_signal()?).await;
    // Supervisors stop; the containers keep running for the next daemon to adopt.
    daemon.containers.shutdown();
    // Bridges no running container uses go; the next start makes them again.
    daemon.networks.shutdown().await;
    socket::remove(&config.socket);
    tracing::info!("berth daemon stopped");
    Ok(())
}

/// Opens the image store off the runtime's threads (it may recover a crashed daemon's leftovers).
async fn open_store(path: PathBuf) -> anyhow::Result<Arc<ImageStore>> {
    let shown = path.display().to_string();
    let store = tokio::task::spawn_blocking(move || ImageStore::open(&path))
        .await
        .context("opening the image store")?
        .with_context(|| format!("opening the image store {shown}"))?;
    Ok(Arc::new(store))
}

/// Resolves on the first SIGTERM or SIGINT.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    // A daemon the CLI started shares its terminal's session: a hangup must not kill it.
    let hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    Ok(async move {
        let _ignored_while_alive = hup;
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
    })
}
