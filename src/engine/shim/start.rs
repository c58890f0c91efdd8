//! The shim's start: read `init.json`, detach from the daemon, make the cgroup, the stdio
//! and the socket, start the container, report on the readiness pipe (stdout), then hand
//! over to the event loop.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};

use super::client::ShimState;
use super::protocol::{encode_line, Reply};
use super::serve::{ProcIo, Shim};
use super::sys;
use crate::engine::cgroups::{self, Cgroup, DeviceRules};
use crate::engine::logs::{JsonFileWriter, LogStream};
use crate::engine::runtime::{self, InitSpec, Stdio};

pub const SOCKET: &str = "shim.sock";
pub const PID_FILE: &str = "shim.pid";
pub const EXIT_FILE: &str = "exit.json";

/// `berth __shim <dir>`: returns the process's exit code.
pub fn run(dir: &Path) -> i32 {
    let dir = match std::fs::canonicalize(dir) {
        Ok(d) => d,
        Err(e) => return fail(&format!("container directory {}: {e}", dir.display())),
    };
    let spec = match read_spec(&dir) {
        Ok(spec) => spec,
        Err(text) => return fail(&text),
    };
    // The intermediate process exits at once so the daemon can reap it; the shim itself
    // is re-parented to the nearest subreaper (or init) and survives the daemon.
    match sys::fork() {
        Err(e) => return fail(&format!("starting the shim: {e}")),
        Ok(sys::Forked::Parent) => return 0,
        Ok(sys::Forked::Child) => {}
    }
    // A new session: no controlling terminal, no hangups from the daemon's.
    let _ = nix::unistd::setsid();
    match start(&dir, spec) {
        Ok(shim) => {
            report(&Reply::State(shim.state()));
            sys::stdio_to_null();
            sys::trim_text();
            shim.run();
            0
        }
        Err(text) => fail(&text),
    }
}

fn fail(text: &str) -> i32 {
    report(&Reply::Error(text.to_string()));
    1
}

/// Writes the one readiness line to stdout (the daemon's pipe).
fn report(reply: &Reply) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&encode_line(reply));
    let _ = out.flush();
}

fn read_spec(dir: &Path) -> Result<InitSpec, String> {
    let path = dir.join("init.json");
    let text = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

/// Everything up to a running container; on failure what was made is removed again.
fn start(dir: &Path, spec: InitSpec) -> Result<Shim, String> {
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| format!("becoming a child subreaper: {e}"))?;
    // Relative names from here on keep the socket path under the 108-byte limit.
    std::env::set_current_dir(dir).map_err(|e| format!("entering {}: {e}", dir.display()))?;
    let signals = sys::install_signals().map_err(|e| format!("installing signal handlers: {e}"))?;
    let shim_pid = std::process::id() as i32;
    std::fs::write(PID_FILE, format!("{shim_pid}\n"))
        .map_err(|e| format!("writing {}: {e}", dir.join(PID_FILE).display()))?;
    let cleanup = Cleanup {
        cgroup: None,
        socket: false,
    };
    start_with(dir, spec, signals, shim_pid, cleanup)
}

/// Removes the pid file, the socket and the cgroup unless disarmed.
struct Cleanup {
    cgroup: Option<Cgroup>,
    socket: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(cgroup) = &self.cgroup {
            let _ = cgroup.destroy();
        }
        if self.socket {
            let _ = std::fs::remove_file(SOCKET);
        }
        let _ = std::fs::remove_file(PID_FILE);
    }
}

fn start_with(
    dir: &Path,
    spec: InitSpec,
    signals: OwnedFd,
    shim_pid: i32,
    mut cleanup: Cleanup,
) -> Result<Shim, String> {
    let layout = cgroups::detect().map_err(|e| format!("creating the cgroup: {e}"))?;
    let devices = spec.devices.iter();
    let rules = DeviceRules::for_devices(
        spec.privileged,
        devices.map(|d| (d.path_on_host.as_str(), d.cgroup_permissions.as_str())),
    )
    .map_err(|e| format!("creating the cgroup: {e}"))?;
    let cgroup =
        Cgroup::create_with_devices(&layout, &spec.cgroup.name, &spec.cgroup.resources, &rules)
            .map_err(|e| format!("creating the cgroup: {e}"))?;
    cleanup.cgroup = Some(cgroup);
    let log_path = log_path(dir, &spec);
    let log = JsonFileWriter::open(&log_path, spec.log.max_size, spec.log.max_files)
        .map_err(|e| format!("opening the log {}: {e}", log_path.display()))?;
    let (stdio, io) = prepare_stdio(spec.process.tty, spec.process.stdin)
        .map_err(|e| format!("preparing stdio: {e}"))?;
    let _ = std::fs::remove_file(SOCKET);
    let listener = UnixListener::bind(SOCKET)
        .map_err(|e| format!("binding {}: {e}", dir.join(SOCKET).display()))?;
    cleanup.socket = true;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("binding {}: {e}", dir.join(SOCKET).display()))?;
    let cgroup = cleanup.cgroup.as_ref().ok_or("creating the cgroup")?;
    let init_pid = runtime::spawn_container(&spec, stdio, cgroup).map_err(|e| e.to_string())?;
    let io = io.finish().map_err(|e| {
        let _ = cgroup.kill_all();
        format!("preparing stdio: {e}")
    })?;
    let started_at = now_rfc3339();
    let cgroup = cleanup.cgroup.take().ok_or("creating the cgroup")?;
    cleanup.socket = false;
    std::mem::forget(cleanup);
    Ok(Shim::new(
        dir.to_path_buf(),
        spec,
        cgroup,
        ShimState {
            shim_pid,
            init_pid: init_pid.as_raw(),
            started_at,
            exit: None,
        },
        listener,
        File::from(signals),
        io,
        log,
    ))
}

fn log_path(dir: &Path, spec: &InitSpec) -> PathBuf {
    if spec.log.path.as_os_str().is_empty() {
        dir.join(format!("{}-json.log", spec.id))
    } else {
        dir.join(&spec.log.path)
    }
}

/// The shim's side of a process's stdio until the process has started: with `-t` the pty
/// master arrives on the console socket only once the process opened it in the container.
pub enum PendingIo {
    Ready(ProcIo),
    Console { socket: OwnedFd, stdin: bool },
}

impl PendingIo {
    /// The stdio to serve; call once `spawn_*` has returned successfully.
    pub fn finish(self) -> std::io::Result<ProcIo> {
        let (socket, stdin) = match self {
            PendingIo::Ready(io) => return Ok(io),
            PendingIo::Console { socket, stdin } => (socket, stdin),
        };
        let master = runtime::receive_console(&socket)?;
        fcntl(master.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        sys::set_nonblocking(master.as_raw_fd())?;
        let input = if stdin {
            Some(master.try_clone()?)
        } else {
            None
        };
        let resize = master.try_clone()?;
        Ok(ProcIo::new(
            vec![(LogStream::Stdout, master)],
            input,
            Some(resize),
        ))
    }
}

/// The process's stdio: a console socket (the pty comes from the container), or pipes
/// (stdin from /dev/null unless kept open). The shim's ends are non-blocking and
/// close-on-exec so exec processes do not inherit them.
pub fn prepare_stdio(tty: bool, stdin: bool) -> std::io::Result<(Stdio, PendingIo)> {
    if tty {
        let (ours, theirs) = runtime::console_socket_pair()?;
        return Ok((
            Stdio::Console { socket: theirs },
            PendingIo::Console {
                socket: ours,
                stdin,
            },
        ));
    }
    let (out_r, out_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    sys::set_nonblocking(out_r.as_raw_fd())?;
    sys::set_nonblocking(err_r.as_raw_fd())?;
    let (child_in, input) = if stdin {
        let (in_r, in_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        sys::set_nonblocking(in_w.as_raw_fd())?;
        (in_r, Some(File::from(in_w)))
    } else {
        (OwnedFd::from(File::open("/dev/null")?), None)
    };
    let io = ProcIo::new(
        vec![
            (LogStream::Stdout, File::from(out_r)),
            (LogStream::Stderr, File::from(err_r)),
        ],
        input,
        None,
    );
    let stdio = Stdio::Pipes {
        stdin: child_in,
        stdout: out_w,
        stderr: err_w,
    };
    Ok((stdio, PendingIo::Ready(io)))
}

/// RFC 3339 with nanoseconds, UTC, as Docker writes times.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
