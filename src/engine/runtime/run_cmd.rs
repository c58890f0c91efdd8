//! `berth __run <dir>`: runs the container described by `<dir>/init.json` in the
//! foreground, without daemon or shim (tests, and the benchmark's raw floor like
//! `crun run`). Creates the cgroup, becomes a subreaper, starts the container with this
//! process's stdio, forwards SIGINT/SIGTERM/SIGHUP to it, waits, removes the cgroup and
//! exits with the container's status (128 + signal when killed). Start errors exit like
//! Docker's CLI: 127 for a program not found, 126 for one that cannot run, 125 otherwise.
//!
//! With `process.tty` the container gets a pty whose output is copied to stdout (stdin is
//! not forwarded).
//!
//! With a `<dir>/exec.json` ([`super::ExecSpec`]) it also runs that exec in the container
//! once started, waits for it, kills the container and exits with the exec's status (how
//! the tests reach `spawn_exec` without a shim).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{dup, Pid};

use super::spec::{ExecSpec, InitSpec};
use super::{
    console_socket_pair, receive_console, spawn_container, spawn_exec, RuntimeError, Stdio, Step,
};
use crate::engine::cgroups::{self, Cgroup, DeviceRules};

/// The hidden argv[1] that selects this mode.
pub const RUN_ARG: &str = "__run";

/// The container's init, for the signal handler.
static INIT_PID: AtomicI32 = AtomicI32::new(0);

/// Runs `berth __run <dir>` when `args[1]` is [`RUN_ARG`]; `None` otherwise.
pub fn main_if_requested(args: &[OsString]) -> Option<i32> {
    if args.get(1).map(OsString::as_os_str) != Some(OsStr::new(RUN_ARG)) {
        return None;
    }
    let Some(dir) = args.get(2) else {
        eprintln!("usage: berth {RUN_ARG} <container-dir>");
        return Some(125);
    };
    Some(match run(Path::new(dir)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth: {e}");
            exit_code_for(&e)
        }
    })
}

/// Docker's exit codes for a container that could not start.
fn exit_code_for(e: &RuntimeError) -> i32 {
    if e.step == "exec" {
        if e.detail.contains("not found") || e.detail.contains("no such file") {
            return 127;
        }
        if e.detail.contains("permission denied") {
            return 126;
        }
    }
    125
}

/// Kills what is left and removes the cgroup, whatever happened.
struct CgroupGuard(Cgroup);

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        let _ = self.0.kill_all();
        let _ = self.0.destroy();
    }
}

fn run(dir: &Path) -> Result<i32, RuntimeError> {
    let path = dir.join("init.json");
    let text = std::fs::read_to_string(&path).step(format!("reading {}", path.display()))?;
    let spec: InitSpec = serde_json::from_str(&text).step(format!("reading {}", path.display()))?;
    let layout = cgroups::detect().step("detecting cgroups")?;
    let name = if spec.cgroup.name.is_empty() {
        format!("berth/run-{}", std::process::id())
    } else {
        spec.cgroup.name.clone()
    };
    let devices = spec.devices.iter();
    let rules = DeviceRules::for_devices(
        spec.privileged,
        devices.map(|d| (d.path_on_host.as_str(), d.cgroup_permissions.as_str())),
    )
    .step("creating the cgroup")?;
    let cgroup = CgroupGuard(
        Cgroup::create_with_devices(&layout, &name, &spec.cgroup.resources, &rules)
            .step("creating the cgroup")?,
    );
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        return Err(RuntimeError::new("becoming a subreaper", Errno::last()));
    }
    let (stdio, console) = if spec.process.tty {
        let (ours, theirs) = console_socket_pair().step("creating the console socket")?;
        (Stdio::Console { socket: theirs }, Some(ours))
    } else {
        let stdio = Stdio::Pipes {
            stdin: dup_std(std::io::stdin().as_fd())?,
            stdout: dup_std(std::io::stdout().as_fd())?,
            stderr: dup_std(std::io::stderr().as_fd())?,
        };
        (stdio, None)
    };
    let pid = spawn_container(&spec, stdio, &cgroup.0)?;
    INIT_PID.store(pid.as_raw(), Ordering::SeqCst);
    forward_signals();
    let exec_path = dir.join("exec.json");
    if let Some(socket) = console {
        // `-t`: the pty's output goes to our stdout (no exec in this mode: the copying
        // thread would make the next fork unsafe).
        let master = receive_console(&socket).step("receiving the console")?;
        let copier = std::thread::spawn(move || copy_console(master));
        let code = wait_for(pid);
        let _ = copier.join();
        return Ok(code);
    }
    if !exec_path.exists() {
        return Ok(wait_for(pid));
    }
    let exec = std::fs::read_to_string(&exec_path)
        .step(format!("reading {}", exec_path.display()))
        .and_then(|t| {
            serde_json::from_str::<ExecSpec>(&t).step(format!("reading {}", exec_path.display()))
        });
    let started = exec.and_then(|exec| {
        let stdio = Stdio::Pipes {
            stdin: dup_std(std::io::stdin().as_fd())?,
            stdout: dup_std(std::io::stdout().as_fd())?,
            stderr: dup_std(std::io::stderr().as_fd())?,
        };
        spawn_exec(&spec, pid, &exec, stdio, &cgroup.0)
    });
    let code = started.map(wait_for);
    let _ = kill(pid, Signal::SIGKILL);
    wait_for(pid);
    code
}

/// Copies the pty's output to stdout until the last slave closes (EIO).
fn copy_console(mut master: std::fs::File) {
    let mut out = std::io::stdout().lock();
    let _ = std::io::copy(&mut master, &mut out);
    let _ = out.flush();
}

fn dup_std(fd: std::os::fd::BorrowedFd<'_>) -> Result<OwnedFd, RuntimeError> {
    let n = dup(std::os::fd::AsRawFd::as_raw_fd(&fd)).step("duplicating stdio")?;
    // SAFETY: `n` is a fresh descriptor that nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(n) })
}

extern "C" fn forward(sig: libc::c_int) {
    let pid = INIT_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

fn forward_signals() {
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        // SAFETY: the handler only loads an atomic and calls kill(2).
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// Reaps children (orphans reparented to us included) until the init exits.
fn wait_for(init: Pid) -> i32 {
    loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == init => return code,
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == init => return 128 + sig as i32,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return 125,
        }
    }
}
