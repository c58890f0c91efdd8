//! The shim's few raw system calls: the SIGCHLD self-pipe, `poll`, `TIOCSWINSZ`, `fork`,
//! and non-blocking fds.
//!
//! Signals reach the event loop through a self-pipe written by a handler rather than a
//! blocked-mask `signalfd`: a blocked mask and `SIG_IGN` dispositions are inherited across
//! `execve`, handlers are not, so the container's processes start with default signal
//! behaviour whatever the runtime resets.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::libc;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// The write end of the SIGCHLD self-pipe, for the handler (-1 before it is installed).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigchld(_: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local byte. A full
        // pipe (EAGAIN) is fine: one pending byte is enough to wake the loop.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

extern "C" fn on_ignored(_: libc::c_int) {}

/// Installs the SIGCHLD handler and no-op handlers for SIGTERM, SIGINT and SIGHUP (the
/// shim outlives the daemon and any terminal); returns the self-pipe's read end.
pub fn install_signals() -> io::Result<OwnedFd> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
    SIGNAL_PIPE.store(write.as_raw_fd(), Ordering::Relaxed);
    // The write end must live as long as the process; the handler uses it by number.
    std::mem::forget(write);
    let chld = SigAction::new(
        SigHandler::Handler(on_sigchld),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    let quiet = SigAction::new(
        SigHandler::Handler(on_ignored),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: both handlers only call async-signal-safe functions (write) or nothing.
    unsafe {
        sigaction(Signal::SIGCHLD, &chld)?;
        for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
            sigaction(sig, &quiet)?;
        }
    }
    Ok(read)
}

/// Makes `fd` non-blocking.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// poll(2) over `fds`; `timeout_ms < 0` waits forever. EINTR counts as "nothing ready".
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live, exclusively borrowed slice of pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(n as usize)
}

/// Sets a pty's window size (through its master).
pub fn set_winsize(fd: RawFd, height: u16, width: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which is a live local.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Which side of a fork we are on.
pub enum Forked {
    Parent,
    Child,
}

/// fork(2). Only called while the shim is single-threaded (before any thread exists; the
/// shim never starts one).
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the shim process is single-threaded, so the child may run arbitrary code.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { .. } => Ok(Forked::Parent),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Points fds 0, 1 and 2 at /dev/null (after the readiness report).
pub fn stdio_to_null() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for target in 0..3 {
            let _ = nix::unistd::dup2(null.as_raw_fd(), target);
        }
    }
}

/// Drops the page-table entries of the shim's read-only executable mappings (its own text
/// and the shared libraries'). Start-up runs much code the event loop never needs again
/// (spec parsing, the runtime, seccomp compilation); the kernel maps it in 64 KiB
/// fault-around chunks, which would otherwise stay counted in the shim's RSS. The pages
/// stay in the shared page cache and fault back in when touched.
pub fn trim_text() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        // Only private, never-written code: no copy-on-write page can be lost.
        if perms != "r-xp" || !line.contains('/') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is a whole read-only, executable, file-backed private mapping
        // of this process; MADV_DONTNEED only zaps its PTEs and later accesses re-read the
        // unchanged file pages, so no memory content changes under the running code.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}
