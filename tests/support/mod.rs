//! Fixtures shared by the integration tests: a real registry (`registry`), OCI image layouts
//! built on disk (`images`), and berth's daemon with its CLI (`daemon`).
//!
//! Each test file that wants them says `mod support;`. Everything here starts real processes
//! on loopback, in its own temporary directories, and cleans up in `Drop` (by PID, never by
//! name). Nothing here decides what a test asserts.

// Each test file uses a different part of the fixtures; the rest is not dead code.
#![allow(dead_code)]

pub mod compose;
pub mod daemon;
pub mod dockerd;
pub mod images;
pub mod proxy;
pub mod registry;
pub mod token;

use std::process::Output;

/// Whether `tool` is on `PATH`; when it is not, says so loudly on stderr, because a skipped
/// test must never look like a passing one. scripts/test installs every tool, so in CI this
/// never skips.
pub fn require_tool(tool: &str, test: &str) -> bool {
    if which(tool).is_some() {
        return true;
    }
    eprintln!("SKIPPED (LOUD): {test}: `{tool}` is not installed (scripts/test installs it)");
    false
}

/// Whether the tests run as root; when not, says so loudly.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("SKIPPED (LOUD): {test}: needs root (CI runs the tests as root)");
    false
}

/// The full path of `tool` on `PATH`.
pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// stdout of a command that must have succeeded; panics with its stderr otherwise.
pub fn stdout_ok(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a command that must have failed with exit code `code`.
pub fn stderr_failed(what: &str, out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit {code}, got {}:\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A free TCP port on 127.0.0.1 (the kernel picks it; the listener is closed before use, so a
/// tiny race remains, which unique per-test registries make harmless in practice).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Waits until `ready` says yes or `timeout` passes; true when ready.
pub fn wait_until(timeout: std::time::Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

/// Kills a child we started: SIGTERM, a grace period, then SIGKILL; always reaps it.
pub fn stop_child(child: &mut std::process::Child, grace: std::time::Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let exited = wait_until(grace, || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// SIGKILLs a child we started and reaps it.
pub fn kill9_child(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Every path below `dir` (not following symlinks), `dir` itself excluded; sorted.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Bytes in regular files below `dir`.
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    walk(dir)
        .iter()
        .filter_map(|p| std::fs::symlink_metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
