//! The built-in init for `--init` (Docker ships tini as `docker-init`): PID 1 forks the
//! user's program, forwards every catchable signal to it, reaps every zombie and exits with
//! the program's status (128 + signal when it was killed), as tini does.
//!
//! PID 1 runs berth's own code, already confined exactly like the program (user,
//! capabilities, seccomp), so it holds nothing the program does not.

use std::ffi::CString;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use super::fork::{exit_child, report, ErrorPipe};
use super::process::{exec, reset_signals};
use super::{RuntimeError, Step};

/// Runs as PID 1: forks and execs `program`, then forwards and reaps until it exits.
pub(super) fn run(
    program: &Path,
    argv: &[CString],
    envp: &[CString],
    err: &mut ErrorPipe,
) -> Result<i32, RuntimeError> {
    // Blocked signals stay pending for `sigwait`, and the kernel does not drop them for a
    // namespace's PID 1 the way it drops unhandled ones.
    let all = SigSet::all();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&all), None)
        .step("starting the init")?;
    // SAFETY: this process is single-threaded; the child ends in exec or `_exit`.
    let child = match unsafe { fork() }.step("starting the init")? {
        ForkResult::Child => exit_child(|| {
            reset_signals();
            match exec(program, argv, envp) {
                Ok(never) => match never {},
                Err(e) => {
                    if let Some(fd) = err {
                        report(fd, &e);
                    }
                    1
                }
            }
        }),
        ForkResult::Parent { child } => child,
    };
    // The program holds the error pipe now; its exec closes it.
    *err = None;
    Ok(supervise(child, &all))
}

/// Forwards signals to `child` and reaps zombies until `child` exits; returns its code.
fn supervise(child: Pid, all: &SigSet) -> i32 {
    loop {
        let sig = match all.wait() {
            Ok(sig) => sig,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => return code,
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => return 128 + sig as i32,
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
    }
}
