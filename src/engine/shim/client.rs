//! The daemon's side of the shim: launch one, talk to it over `<dir>/shim.sock`.
//!
//! CONTRACT (signatures fixed; the shim helper implements them). Async (tokio): only the
//! daemon uses it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::engine::runtime::ExecSpec;

/// How a container (or exec) process ended; the shim writes it to `<dir>/exit.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExitRecord {
    /// The exit code, or 128 + the signal that killed it.
    pub exit_code: i32,
    /// RFC 3339 with nanoseconds, UTC.
    pub finished_at: String,
    /// The cgroup recorded an OOM kill.
    pub oom_killed: bool,
}

/// What the shim reports about its container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimState {
    pub shim_pid: i32,
    /// The container's init in the host's PID namespace.
    pub init_pid: i32,
    /// RFC 3339 with nanoseconds, UTC: when the user's program was exec'd.
    pub started_at: String,
    /// Set once the init has exited.
    pub exit: Option<ExitRecord>,
}

/// One piece of an attach or exec stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Stdout(Bytes),
    Stderr(Bytes),
    /// The process ended (exec streams only; an attach stream just ends).
    Exit(i32),
}

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// The container could not start; the text is the runtime's (it names the step).
    #[error("{0}")]
    Start(String),
    /// Nothing answers on the socket: the shim is gone.
    #[error("the shim of {0} is gone")]
    Gone(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("shim protocol: {0}")]
    Protocol(String),
}

/// A handle on one container's shim (cheap; connects per request).
#[derive(Clone, Debug)]
pub struct ShimClient {
    dir: PathBuf,
}

impl ShimClient {
    pub fn new(dir: &Path) -> ShimClient {
        ShimClient {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts `berth __shim <dir>` (the binary at `exe`) for the `init.json` already in
    /// `dir`; returns once the container's program runs, or with the runtime's error.
    pub async fn launch(exe: &Path, dir: &Path) -> Result<(ShimClient, ShimState), ShimError> {
        let _ = exe;
        Err(ShimError::Gone(dir.display().to_string()))
    }

    pub async fn state(&self) -> Result<ShimState, ShimError> {
        Err(ShimError::Gone(self.dir.display().to_string()))
    }

    /// Sends `signal` to the container's init (the shim forwards it; with the built-in init
    /// the init forwards it on).
    pub async fn kill(&self, signal: i32) -> Result<(), ShimError> {
        let _ = signal;
        Err(self.gone())
    }

    /// Resolves when the container's init has exited: from the socket while the shim
    /// lives, from `exit.json` once it is gone (`Gone` when neither exists).
    pub async fn wait(&self) -> Result<ExitRecord, ShimError> {
        Err(self.gone())
    }

    /// Attaches to the container's streams: frames from the chosen outputs as they come
    /// (no history: logs are for that), and stdin when asked and the container keeps it
    /// open. Dropping the sender closes the container's stdin when it was started with
    /// `StdinOnce`, otherwise just detaches.
    pub async fn attach(
        &self,
        stdin: bool,
        stdout: bool,
        stderr: bool,
    ) -> Result<(mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>), ShimError> {
        let _ = (stdin, stdout, stderr);
        Err(self.gone())
    }

    /// Resizes the container's pty.
    pub async fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        let _ = (height, width);
        Err(self.gone())
    }

    /// Starts an exec process; returns its PID, its output (ending with [`Frame::Exit`])
    /// and its stdin when `spec.stdin`.
    pub async fn exec(
        &self,
        spec: &ExecSpec,
    ) -> Result<(i32, mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>), ShimError> {
        let _ = spec;
        Err(self.gone())
    }

    /// Resizes an exec process's pty.
    pub async fn resize_exec(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ShimError> {
        let _ = (exec_id, height, width);
        Err(self.gone())
    }

    fn gone(&self) -> ShimError {
        ShimError::Gone(self.dir.display().to_string())
    }
}

/// Reads `<dir>/exit.json` when the shim wrote one.
pub fn read_exit(dir: &Path) -> Option<ExitRecord> {
    let text = std::fs::read(dir.join("exit.json")).ok()?;
    serde_json::from_slice(&text).ok()
}
