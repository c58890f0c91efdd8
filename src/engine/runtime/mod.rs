//! The runtime: turns an [`InitSpec`] into a running container process, and an [`ExecSpec`]
//! into a process inside a running container.
//!
//! CONTRACT (the runtime helper fills this in; signatures are fixed):
//! - Both functions must be called from a single-threaded process (the shim): they fork.
//! - `spawn_container`: fork; the child unshares the namespaces (joining any with a path),
//!   forks once more so its child is PID 1 of the new PID namespace, reports that PID and
//!   exits. The caller's cgroup join happens through `cgroup.add_process(pid)` done here
//!   before the init is released to run user code. Returns once the user's program has been
//!   exec'd (an error pipe closed by `O_CLOEXEC`), or with the error the init hit, naming
//!   the step ("mounting /proc: ..."). The caller must be a child subreaper
//!   (`PR_SET_CHILD_SUBREAPER`) so that the returned PID, a grandchild, is reparented to it.
//! - `spawn_exec`: the same, but setns into the namespaces of `container_pid`.

mod cgroupfs;
mod confine;
mod console;
mod container;
mod dev;
mod exec;
mod fork;
mod init;
mod masks;
mod mounts;
mod namespaces;
mod process;
mod rootfs;
mod run_cmd;
pub mod spec;

use std::fmt::Display;
use std::os::fd::OwnedFd;

use nix::unistd::Pid;

use crate::engine::cgroups::Cgroup;
pub use console::{console_socket_pair, receive_console};
pub use run_cmd::{main_if_requested, RUN_ARG};
pub use spec::{
    CgroupSpec, ExecSpec, InitSpec, LogSpec, MountSpec, NamespaceKind, NamespaceSpec, ProcessSpec,
    RootfsSpec, ShmSpec,
};

/// The process's standard streams, as the shim prepared them.
#[derive(Debug)]
pub enum Stdio {
    /// `-t`: the runtime's end of a console socket ([`console_socket_pair`]). The process
    /// opens a pty of the container's own devpts, makes the slave its stdin, stdout, stderr
    /// and controlling terminal, and sends the master back on it ([`receive_console`]).
    Console { socket: OwnedFd },
    /// Pipes (or `/dev/null` for stdin when it is not kept open).
    Pipes {
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
}

/// Why a container or exec process could not be started; the message names the step.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {detail}")]
pub struct RuntimeError {
    pub step: String,
    pub detail: String,
}

impl RuntimeError {
    /// An error at `step` (what was being done, "mounting /proc") with `detail` (why).
    pub fn new(step: impl Into<String>, detail: impl Display) -> RuntimeError {
        RuntimeError {
            step: step.into(),
            detail: detail.to_string(),
        }
    }
}

/// Names the step of a failed call: `mount(...).step("mounting /proc")?`.
trait Step<T> {
    fn step(self, step: impl Into<String>) -> Result<T, RuntimeError>;
}

impl<T, E: Display> Step<T> for Result<T, E> {
    fn step(self, step: impl Into<String>) -> Result<T, RuntimeError> {
        self.map_err(|e| RuntimeError::new(step, e))
    }
}

/// Starts the container's init; returns its PID (in the host's PID namespace).
pub fn spawn_container(
    spec: &InitSpec,
    stdio: Stdio,
    cgroup: &Cgroup,
) -> Result<Pid, RuntimeError> {
    container::spawn(spec, stdio, cgroup)
}

/// Starts an exec process in the container whose init is `container_pid`.
pub fn spawn_exec(
    container: &InitSpec,
    container_pid: Pid,
    exec: &ExecSpec,
    stdio: Stdio,
    cgroup: &Cgroup,
) -> Result<Pid, RuntimeError> {
    exec::spawn(container, container_pid, exec, stdio, cgroup)
}

/// Docker's masked paths, in its order.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/sys/devices/system/cpu/cpu0/thermal_throttle",
];

/// Docker's read-only paths, in its order.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
