//! The double fork shared by containers and execs, with its three sync pipes.
//!
//! ```text
//! caller ──fork──> intermediate: join/unshare namespaces ──fork──> grandchild
//!   <── pid pipe ── writes the grandchild's PID, _exits            blocks on the go pipe
//!   reaps the intermediate, adds the PID to the cgroup
//!   ── go pipe ──────────────────────────────────────────────────> sets up, execs
//!   <── error pipe (O_CLOEXEC: EOF = exec'd) ─────────────────────  or "step\0detail"
//! ```
//! The second fork is what puts the grandchild into a new PID namespace (`unshare` and
//! `setns` of a PID namespace only affect children). The caller must be single-threaded,
//! so the children may allocate freely; they never return into the caller's code: they end
//! in `exec` or `_exit`, and a panic is caught and turned into an exit.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, read, write, ForkResult, Pid};

use super::{RuntimeError, Step};
use crate::engine::cgroups::Cgroup;

/// The error pipe's write end, held by whoever may still fail before exec.
pub(super) type ErrorPipe = Option<OwnedFd>;

/// Forks twice (see the module doc). `join` runs in the intermediate child; `run` in the
/// grandchild once it is in the cgroup, and either execs (never returning) or returns the
/// code to exit with (the built-in init) or the error to report.
pub(super) fn spawn_two(
    join: impl FnOnce() -> Result<(), RuntimeError>,
    run: impl FnOnce(&mut ErrorPipe) -> Result<i32, RuntimeError>,
    cgroup: &Cgroup,
) -> Result<Pid, RuntimeError> {
    let (pid_r, pid_w) = pipe2(OFlag::O_CLOEXEC).step("creating the sync pipe")?;
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).step("creating the sync pipe")?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).step("creating the error pipe")?;
    // SAFETY: the caller is single-threaded (the contract of `spawn_container`), so the
    // child is a full copy of a consistent process; it ends in exec or `_exit`.
    match unsafe { fork() }.step("forking the container process")? {
        ForkResult::Child => {
            drop((pid_r, go_w, err_r));
            exit_child(move || intermediate(join, run, pid_w, go_r, err_w))
        }
        ForkResult::Parent { child } => {
            drop((pid_w, go_r, err_w));
            release(child, pid_r, go_w, err_r, cgroup)
        }
    }
}

/// The caller's side: get the PID, reap the intermediate, join the cgroup, release.
fn release(
    child: Pid,
    pid_r: OwnedFd,
    go_w: OwnedFd,
    err_r: OwnedFd,
    cgroup: &Cgroup,
) -> Result<Pid, RuntimeError> {
    let mut buf = [0u8; 4];
    let got = read_full(&pid_r, &mut buf);
    reap(child);
    if got != buf.len() {
        return Err(read_error(&err_r).unwrap_or_else(|| {
            RuntimeError::new("starting the container process", "the runtime child died")
        }));
    }
    let pid = Pid::from_raw(i32::from_le_bytes(buf));
    if let Err(e) = cgroup.add_process(pid.as_raw()) {
        let _ = kill(pid, Signal::SIGKILL);
        reap(pid);
        return Err(RuntimeError::new("joining the cgroup", e));
    }
    let released = write_all(&go_w, &[1]);
    drop(go_w);
    if let Err(e) = released {
        let _ = kill(pid, Signal::SIGKILL);
        reap(pid);
        return Err(RuntimeError::new("releasing the container process", e));
    }
    match read_error(&err_r) {
        None => Ok(pid),
        Some(e) => {
            // The caller is a subreaper, so the failed grandchild is its child now.
            reap(pid);
            Err(e)
        }
    }
}

/// Waits for `pid`, retrying on EINTR; a PID that is not our child is ignored.
fn reap(pid: Pid) {
    while waitpid(pid, None) == Err(Errno::EINTR) {}
}

/// The intermediate child: namespaces, second fork, report the PID.
fn intermediate(
    join: impl FnOnce() -> Result<(), RuntimeError>,
    run: impl FnOnce(&mut ErrorPipe) -> Result<i32, RuntimeError>,
    pid_w: OwnedFd,
    go_r: OwnedFd,
    err_w: OwnedFd,
) -> i32 {
    if let Err(e) = join() {
        report(&err_w, &e);
        return 1;
    }
    // SAFETY: this process is single-threaded (a fork of a single-threaded caller).
    match unsafe { fork() } {
        Err(e) => {
            report(
                &err_w,
                &RuntimeError::new("forking into the PID namespace", e),
            );
            1
        }
        Ok(ForkResult::Child) => {
            drop(pid_w);
            grandchild(run, go_r, err_w)
        }
        Ok(ForkResult::Parent { child }) => {
            match write_all(&pid_w, &child.as_raw().to_le_bytes()) {
                Ok(()) => 0,
                Err(_) => {
                    let _ = kill(child, Signal::SIGKILL);
                    1
                }
            }
        }
    }
}

/// The grandchild: wait to be released, then run.
fn grandchild(
    run: impl FnOnce(&mut ErrorPipe) -> Result<i32, RuntimeError>,
    go_r: OwnedFd,
    err_w: OwnedFd,
) -> i32 {
    let mut go = [0u8; 1];
    if read_full(&go_r, &mut go) != 1 {
        // The caller gave up on us (cgroup join failed, or it died).
        return 1;
    }
    drop(go_r);
    let mut err = Some(err_w);
    match run(&mut err) {
        Ok(code) => code,
        Err(e) => {
            if let Some(fd) = &err {
                report(fd, &e);
            }
            1
        }
    }
}

/// Runs `body` in a forked child and `_exit`s with its code, never unwinding into the
/// caller's frames.
pub(super) fn exit_child(body: impl FnOnce() -> i32) -> ! {
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(1);
    // SAFETY: `_exit` ends the process without running the parent's atexit handlers or
    // flushing its stdio buffers, which belong to the parent.
    unsafe { nix::libc::_exit(code) }
}

/// Sends an error over the error pipe as `step\0detail`.
pub(super) fn report(fd: &OwnedFd, e: &RuntimeError) {
    let mut msg = e.step.clone().into_bytes();
    msg.push(0);
    msg.extend_from_slice(e.detail.as_bytes());
    let _ = write_all(fd, &msg);
}

/// Reads the error pipe to EOF; `None` when nothing was sent (exec succeeded).
fn read_error(fd: &OwnedFd) -> Option<RuntimeError> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if all.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&all);
    Some(match text.split_once('\0') {
        Some((step, detail)) => RuntimeError::new(step, detail),
        None => RuntimeError::new("starting the container process", text),
    })
}

/// Reads until `buf` is full or EOF; returns how much was read.
fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match read(fd.as_raw_fd(), &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    got
}

/// Writes all of `data`, retrying on EINTR.
pub(super) fn write_all(fd: &OwnedFd, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        match write(fd.as_fd(), data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
