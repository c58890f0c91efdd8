//! The last steps before `exec`, inside the finished root: working directory, sysctls,
//! hostname, loopback, rlimits, stdio, user and groups, the `$PATH` lookup and the exec.
//!
//! Capabilities, `no_new_privs` and seccomp are applied around the user switch by
//! `confine::switch_and_confine`, in runc's order.

use std::convert::Infallible;
use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::libc;
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{dup2, execve, setgroups, setresgid, setresuid, setsid, Gid, Uid};

use super::{RuntimeError, Stdio, Step};
use crate::engine::spec::user::ResolvedUser;
use crate::engine::spec::Ulimit;

/// Creates the working directory when missing (Docker does, owned by root, mode 0755).
pub(super) fn make_cwd(cwd: &str) -> Result<(), RuntimeError> {
    if cwd.is_empty() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(cwd)
        .step(format!("creating the working directory {cwd}"))
}

/// Writes each sysctl to `/proc/sys` (`net.ipv4.ip_forward` -> `net/ipv4/ip_forward`).
pub(super) fn write_sysctls<'a>(
    sysctls: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), RuntimeError> {
    for (key, value) in sysctls {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        fs::write(&path, value).step(format!("setting sysctl {key}"))?;
    }
    Ok(())
}

/// Brings `lo` up in a fresh network namespace.
pub(super) fn loopback_up() -> Result<(), RuntimeError> {
    let step = "bringing up the loopback interface";
    // SAFETY: plain socket(2); the result is checked and owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(RuntimeError::new(step, Errno::last()));
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let sock = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: an all-zero `ifreq` is a valid value (name empty, union zero).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags member of `req`, which
    // lives for the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(RuntimeError::new(step, Errno::last()));
    }
    // SAFETY: the flags member is the one SIOCGIFFLAGS just filled in.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(RuntimeError::new(step, Errno::last()));
    }
    Ok(())
}

/// `--ulimit` entries.
pub(super) fn set_rlimits(limits: &[Ulimit]) -> Result<(), RuntimeError> {
    for l in limits {
        let step = || format!("setting rlimit {}", l.name);
        let resource =
            resource_of(&l.name).ok_or_else(|| RuntimeError::new(step(), "unknown ulimit type"))?;
        let as_limit = |v: i64| if v < 0 { libc::RLIM_INFINITY } else { v as u64 };
        setrlimit(resource, as_limit(l.soft), as_limit(l.hard)).step(step())?;
    }
    Ok(())
}

/// Docker's ulimit names.
fn resource_of(name: &str) -> Option<Resource> {
    Some(match name {
        "as" => Resource::RLIMIT_AS,
        "core" => Resource::RLIMIT_CORE,
        "cpu" => Resource::RLIMIT_CPU,
        "data" => Resource::RLIMIT_DATA,
        "fsize" => Resource::RLIMIT_FSIZE,
        "locks" => Resource::RLIMIT_LOCKS,
        "memlock" => Resource::RLIMIT_MEMLOCK,
        "msgqueue" => Resource::RLIMIT_MSGQUEUE,
        "nice" => Resource::RLIMIT_NICE,
        "nofile" => Resource::RLIMIT_NOFILE,
        "nproc" => Resource::RLIMIT_NPROC,
        "rss" => Resource::RLIMIT_RSS,
        "rtprio" => Resource::RLIMIT_RTPRIO,
        "rttime" => Resource::RLIMIT_RTTIME,
        "sigpending" => Resource::RLIMIT_SIGPENDING,
        "stack" => Resource::RLIMIT_STACK,
        _ => return None,
    })
}

/// Makes the process a session leader and installs its stdio on 0, 1 and 2 (the pty's slave
/// also as controlling terminal, and on `/dev/console` when `bind_console`); every other
/// descriptor is marked close-on-exec.
pub(super) fn install_stdio(stdio: Stdio, bind_console: bool) -> Result<(), RuntimeError> {
    let step = "setting up stdio";
    setsid().step(step)?;
    let fds: [OwnedFd; 3] = match stdio {
        Stdio::Console { socket } => {
            let slave = super::console::open_console(socket, bind_console)?;
            // SAFETY: TIOCSCTTY takes an int argument and touches no memory of ours.
            if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
                return Err(RuntimeError::new(step, Errno::last()));
            }
            let a = slave.try_clone().step(step)?;
            let b = slave.try_clone().step(step)?;
            [slave, a, b]
        }
        Stdio::Pipes {
            stdin,
            stdout,
            stderr,
        } => [stdin, stdout, stderr],
    };
    // Move them out of 0..=2 first so that no dup2 below overwrites one still to be used.
    let mut high = Vec::with_capacity(3);
    for fd in &fds {
        // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor we own; the result is owned next.
        let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
        if n < 0 {
            return Err(RuntimeError::new(step, Errno::last()));
        }
        // SAFETY: `n` is a fresh descriptor that nothing else owns.
        high.push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(n) });
    }
    drop(fds);
    for (target, fd) in high.iter().enumerate() {
        dup2(fd.as_raw_fd(), target as i32).step(step)?;
    }
    drop(high);
    // SAFETY: close_range only changes descriptor flags; errors (old kernels) are ignored
    // because every descriptor berth opens is close-on-exec anyway.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    Ok(())
}

/// Unblocks every signal and resets every disposition (the shim ignores SIGPIPE, and an
/// ignored signal stays ignored across exec).
pub(super) fn reset_signals() {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in Signal::iterator() {
        if sig == Signal::SIGKILL || sig == Signal::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no code of ours in a signal context.
        let _ = unsafe { sigaction(sig, &dfl) };
    }
}

/// Switches to the user's uid, gid and groups while keeping the capabilities, so that the
/// confinement applied next decides them (runc's order: `PR_SET_KEEPCAPS`, setgroups,
/// setgid, setuid, then the capability sets).
pub(super) fn switch_user(user: &ResolvedUser) -> Result<(), RuntimeError> {
    let step = "setting the user";
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } < 0 {
        return Err(RuntimeError::new(step, Errno::last()));
    }
    let groups: Vec<Gid> = user
        .additional_gids
        .iter()
        .map(|g| Gid::from_raw(*g))
        .collect();
    setgroups(&groups).step(step)?;
    let gid = Gid::from_raw(user.gid);
    setresgid(gid, gid, gid).step(step)?;
    let uid = Uid::from_raw(user.uid);
    setresuid(uid, uid, uid).step(step)?;
    // SAFETY: as above.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) } < 0 {
        return Err(RuntimeError::new(step, Errno::last()));
    }
    // A non-zero uid lost its effective set; the bounding-set drop needs CAP_SETPCAP in it.
    raise_effective().step(step)
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Makes the effective set equal to the permitted set.
fn raise_effective() -> std::io::Result<()> {
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two `CapData` (version 3) into `data`, which is that size.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    for d in &mut data {
        d.effective = d.permitted;
    }
    // SAFETY: capset reads the header and two `CapData`.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The environment with `HOME` added from passwd when the image and request set none (runc
/// does this).
pub(super) fn with_home(env: &[String], home: &str) -> Vec<String> {
    let mut out = env.to_vec();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        out.push(format!("HOME={home}"));
    }
    out
}

/// Finds the program like Go's `exec.LookPath` with the container's `PATH`, with Docker's
/// error text.
pub(super) fn look_path(args: &[String], env: &[String]) -> Result<PathBuf, RuntimeError> {
    let Some(name) = args.first() else {
        return Err(RuntimeError::new("exec", "no command specified"));
    };
    if name.contains('/') {
        return match fs::metadata(name) {
            Ok(_) => Ok(PathBuf::from(name)),
            Err(e) => Err(RuntimeError::new(
                "exec",
                format!("{name:?}: stat {name}: {}", io_text(&e)),
            )),
        };
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("");
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        if let Ok(meta) = fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(RuntimeError::new(
        "exec",
        format!("{name:?}: executable file not found in $PATH"),
    ))
}

/// An I/O error's text without Rust's " (os error N)" suffix, as Go prints it.
fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => Errno::from_raw(n).desc().to_lowercase(),
        None => e.to_string(),
    }
}

/// The argv and envp as C strings.
pub(super) fn c_strings(items: &[String]) -> Result<Vec<CString>, RuntimeError> {
    items
        .iter()
        .map(|s| CString::new(s.as_bytes()).step("exec"))
        .collect()
}

/// Replaces the process with `program`.
pub(super) fn exec(
    program: &Path,
    argv: &[CString],
    envp: &[CString],
) -> Result<Infallible, RuntimeError> {
    let path = CString::new(program.as_os_str().as_bytes()).step("exec")?;
    execve(&path, argv, envp).map_err(|e| {
        RuntimeError::new(
            "exec",
            format!("{}: {}", program.display(), e.desc().to_lowercase()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_path_reports_dockers_not_found_text() {
        let env = vec!["PATH=/nonexistent-a:/nonexistent-b".to_string()];
        let err = look_path(&["nope".into()], &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: \"nope\": executable file not found in $PATH"
        );
        let env = vec!["PATH=/usr/bin:/bin".to_string()];
        assert!(look_path(&["sh".into()], &env).is_ok());
    }

    #[test]
    fn home_comes_from_passwd_unless_set() {
        assert_eq!(with_home(&[], "/root"), vec!["HOME=/root".to_string()]);
        let env = vec!["HOME=/x".to_string()];
        assert_eq!(with_home(&env, "/root"), env);
    }
}
