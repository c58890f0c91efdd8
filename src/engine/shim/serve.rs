//! The shim's event loop: one `poll` over the SIGCHLD self-pipe, the container's output
//! (pipes or the pty master), its stdin, the listening socket, the clients and the exec
//! processes' fds. Output goes to the json-file log and to every attached client; clients
//! are written without blocking through bounded buffers. When the init exits the shim
//! drains the output, records `exit.json`, removes its socket, pid file and cgroup, answers
//! the waiters and exits. The run's first output is also kept in memory for the first
//! attach that asks for a replay (the daemon's attach made before the start), so that
//! attach sees everything the program printed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::client::{ExitRecord, ShimState};
use super::protocol::{self as proto, Reply, Request};
use super::start::{now_rfc3339, prepare_stdio, EXIT_FILE, PID_FILE, SOCKET};
use super::sys;
use crate::engine::cgroups::Cgroup;
use crate::engine::logs::{JsonFileWriter, LogStream, Splitter};
use crate::engine::runtime::{self, ExecSpec, InitSpec};

/// How long output may keep coming after a process exited (other holders of its pipes).
const DRAIN: Duration = Duration::from_secs(2);
/// How long an exec's output may keep coming after it exited.
const EXEC_DRAIN: Duration = Duration::from_millis(500);
/// How long the shim waits for its last answers to be read before exiting.
const LINGER: Duration = Duration::from_secs(2);
/// Bytes buffered for a process's stdin before the shim stops reading its clients.
const MAX_STDIN_BUFFER: usize = 1 << 20;

/// One process's stdio as the shim holds it.
#[derive(Debug)]
pub struct ProcIo {
    /// Output fds; `None` once at end of file.
    outputs: Vec<(LogStream, Option<File>)>,
    stdin: Option<File>,
    stdin_buf: Vec<u8>,
    stdin_close: bool,
    /// The pty master, for resizes.
    pty: Option<File>,
}

impl ProcIo {
    pub fn new(outputs: Vec<(LogStream, File)>, stdin: Option<File>, pty: Option<File>) -> Self {
        ProcIo {
            outputs: outputs.into_iter().map(|(s, f)| (s, Some(f))).collect(),
            stdin,
            stdin_buf: Vec::new(),
            stdin_close: false,
            pty,
        }
    }

    fn outputs_done(&self) -> bool {
        self.outputs.iter().all(|(_, f)| f.is_none())
    }

    fn feed_stdin(&mut self, data: &[u8]) {
        if self.stdin.is_some() && !self.stdin_close {
            self.stdin_buf.extend_from_slice(data);
        }
    }

    fn stdin_full(&self) -> bool {
        self.stdin_buf.len() >= MAX_STDIN_BUFFER
    }

    /// Writes what it can of the pending stdin; closes it when asked and drained.
    fn flush_stdin(&mut self) {
        while let (Some(file), false) = (&mut self.stdin, self.stdin_buf.is_empty()) {
            match file.write(&self.stdin_buf) {
                Ok(n) => {
                    self.stdin_buf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    // The reader is gone (EPIPE): nothing more can be delivered.
                    self.stdin = None;
                    self.stdin_buf.clear();
                }
            }
        }
        if self.stdin_close && self.stdin_buf.is_empty() {
            self.stdin = None;
        }
    }

    fn resize(&self, height: u16, width: u16) -> Result<(), String> {
        match &self.pty {
            Some(pty) => sys::set_winsize(pty.as_raw_fd(), height, width)
                .map_err(|e| format!("resizing the tty: {e}")),
            None => Err("the process has no tty".into()),
        }
    }
}

#[derive(Debug)]
enum Role {
    /// Reading the request line.
    Request,
    /// Answered; closes once the answer is flushed.
    Done,
    Waiter,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
    Exec {
        pid: i32,
    },
}

#[derive(Debug)]
struct Client {
    stream: UnixStream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    role: Role,
    close_after_flush: bool,
    /// The client half-closed its side: only output flows now.
    read_closed: bool,
    dead: bool,
}

impl Client {
    fn pending(&self) -> usize {
        self.out.len() - self.out_pos
    }

    fn send(&mut self, bytes: &[u8]) {
        if self.dead {
            return;
        }
        self.out.extend_from_slice(bytes);
        self.check_backlog();
    }

    fn send_frame(&mut self, kind: u8, payload: &[u8]) {
        if self.dead {
            return;
        }
        proto::encode_frame(kind, payload, &mut self.out);
        self.check_backlog();
    }

    /// A client too far behind is dropped rather than slowing everyone down.
    fn check_backlog(&mut self) {
        if self.pending() > proto::MAX_CLIENT_BUFFER {
            self.dead = true;
        }
    }

    fn reply(&mut self, reply: &Reply) {
        self.send(&proto::encode_line(reply));
        self.close_after_flush = true;
        self.role = Role::Done;
    }

    fn flush(&mut self) {
        while !self.dead && self.pending() > 0 {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => self.dead = true,
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.dead = true,
            }
        }
        if self.pending() == 0 {
            self.out.clear();
            self.out_pos = 0;
            if self.close_after_flush {
                self.dead = true;
            }
        } else if self.out_pos > (1 << 16) {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }
}

#[derive(Debug)]
struct Exec {
    id: String,
    client: u64,
    io: ProcIo,
    exit_code: Option<i32>,
    reaped_at: Option<Instant>,
}

/// The run's output so far, for the first replaying attach; dropped once taken, once older
/// than [`proto::REPLAY_KEEP`] or once larger than [`proto::REPLAY_CAP`].
#[derive(Debug)]
struct Replay {
    chunks: Vec<(LogStream, Vec<u8>)>,
    size: usize,
    since: Instant,
}

#[derive(Clone, Copy, Debug)]
enum Owner {
    Container,
    Exec(i32),
}

#[derive(Clone, Copy, Debug)]
enum Tag {
    Signals,
    Listener,
    Output(Owner, usize),
    Stdin(Owner),
    Client(u64),
}

/// The running shim.
pub struct Shim {
    dir: PathBuf,
    spec: InitSpec,
    cgroup: Cgroup,
    state: ShimState,
    listener: UnixListener,
    signals: File,
    container: ProcIo,
    splitters: [Splitter; 2],
    log: JsonFileWriter,
    clients: BTreeMap<u64, Client>,
    next_client: u64,
    execs: BTreeMap<i32, Exec>,
    /// The init's exit, recorded when reaped, published once the output is drained.
    reaped: Option<(ExitRecord, Instant)>,
    /// Set once `exit.json` is written: the shim is winding down.
    closing_since: Option<Instant>,
    replay: Option<Replay>,
    buf: Vec<u8>,
}

impl Shim {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dir: PathBuf,
        spec: InitSpec,
        cgroup: Cgroup,
        state: ShimState,
        listener: UnixListener,
        signals: File,
        container: ProcIo,
        log: JsonFileWriter,
    ) -> Shim {
        Shim {
            dir,
            spec,
            cgroup,
            state,
            listener,
            signals,
            container,
            splitters: [Splitter::new(), Splitter::new()],
            log,
            clients: BTreeMap::new(),
            next_client: 0,
            execs: BTreeMap::new(),
            reaped: None,
            closing_since: None,
            // Nothing was read from the output yet: this holds the run from its start.
            replay: Some(Replay {
                chunks: Vec::new(),
                size: 0,
                since: Instant::now(),
            }),
            buf: vec![0; 32 * 1024],
        }
    }

    pub fn state(&self) -> ShimState {
        self.state.clone()
    }

    /// Serves until the container has exited and its waiters were answered.
    pub fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut tags: Vec<Tag> = Vec::new();
        loop {
            self.collect(&mut fds, &mut tags);
            // Draining and winding down have deadlines; otherwise only events wake us.
            let deadline = self.reaped.is_some()
                || self.closing_since.is_some()
                || self.execs.values().any(|e| e.reaped_at.is_some());
            let timeout = if deadline { 50 } else { self.replay_timeout() };
            if sys::poll(&mut fds, timeout).is_err() {
                // Nothing sensible is left to do if poll itself fails; record what we can.
                std::thread::sleep(Duration::from_millis(50));
            }
            for (pfd, tag) in fds.iter().zip(tags.iter()) {
                if pfd.revents != 0 {
                    self.handle(*tag, pfd.revents);
                }
            }
            self.flush_all();
            self.finish_execs();
            if self
                .replay
                .as_ref()
                .is_some_and(|r| r.since.elapsed() >= proto::REPLAY_KEEP)
            {
                self.replay = None;
            }
            if let Some((_, at)) = &self.reaped {
                if self.closing_since.is_none()
                    && (self.container.outputs_done() || at.elapsed() > DRAIN)
                {
                    self.finalize();
                }
            }
            if let Some(since) = self.closing_since {
                let idle = self.clients.is_empty() && self.execs.is_empty();
                if idle || since.elapsed() > LINGER {
                    return;
                }
            }
        }
    }

    /// Milliseconds until the replay buffer expires (-1: none is kept).
    fn replay_timeout(&self) -> libc::c_int {
        match &self.replay {
            Some(r) => {
                let left = proto::REPLAY_KEEP.saturating_sub(r.since.elapsed());
                // Rounded up so the expiry check after the wake-up sees it due.
                libc::c_int::try_from(left.as_millis() + 1).unwrap_or(libc::c_int::MAX)
            }
            None => -1,
        }
    }

    fn collect(&self, fds: &mut Vec<libc::pollfd>, tags: &mut Vec<Tag>) {
        fds.clear();
        tags.clear();
        let mut add = |fd: RawFd, events: libc::c_short, tag: Tag| {
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            tags.push(tag);
        };
        add(self.signals.as_raw_fd(), libc::POLLIN, Tag::Signals);
        if self.closing_since.is_none() {
            add(self.listener.as_raw_fd(), libc::POLLIN, Tag::Listener);
        }
        let procs = std::iter::once((Owner::Container, &self.container))
            .chain(self.execs.iter().map(|(pid, e)| (Owner::Exec(*pid), &e.io)));
        for (owner, io) in procs {
            for (i, (_, file)) in io.outputs.iter().enumerate() {
                if let Some(file) = file {
                    add(file.as_raw_fd(), libc::POLLIN, Tag::Output(owner, i));
                }
            }
            if let (Some(file), false) = (&io.stdin, io.stdin_buf.is_empty()) {
                add(file.as_raw_fd(), libc::POLLOUT, Tag::Stdin(owner));
            }
        }
        for (id, client) in &self.clients {
            let mut events = 0;
            let target = match client.role {
                Role::Attach { stdin: true, .. } => Some(&self.container),
                Role::Exec { pid } => self.execs.get(&pid).map(|e| &e.io),
                _ => None,
            };
            // A full stdin buffer holds the client back instead of growing without bound.
            if !client.read_closed && !target.is_some_and(ProcIo::stdin_full) {
                events |= libc::POLLIN;
            }
            if client.pending() > 0 {
                events |= libc::POLLOUT;
            }
            add(client.stream.as_raw_fd(), events, Tag::Client(*id));
        }
    }

    fn handle(&mut self, tag: Tag, revents: libc::c_short) {
        match tag {
            Tag::Signals => {
                while let Ok(n) = self.signals.read(&mut self.buf) {
                    if n == 0 {
                        break;
                    }
                }
                self.reap();
            }
            Tag::Listener => self.accept(),
            Tag::Output(owner, index) => self.read_output(owner, index),
            Tag::Stdin(owner) => match owner {
                Owner::Container => self.container.flush_stdin(),
                Owner::Exec(pid) => {
                    if let Some(exec) = self.execs.get_mut(&pid) {
                        exec.io.flush_stdin();
                    }
                }
            },
            Tag::Client(id) => {
                let hangup = revents & (libc::POLLHUP | libc::POLLERR) != 0;
                if revents & libc::POLLIN != 0 || hangup {
                    self.read_client(id, hangup);
                }
            }
        }
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    self.next_client += 1;
                    self.clients.insert(
                        self.next_client,
                        Client {
                            stream,
                            inbuf: Vec::new(),
                            out: Vec::new(),
                            out_pos: 0,
                            role: Role::Request,
                            close_after_flush: false,
                            read_closed: false,
                            dead: false,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn read_output(&mut self, owner: Owner, index: usize) {
        let io = match owner {
            Owner::Container => &mut self.container,
            Owner::Exec(pid) => match self.execs.get_mut(&pid) {
                Some(exec) => &mut exec.io,
                None => return,
            },
        };
        let Some((stream, Some(file))) = io.outputs.get_mut(index) else {
            return;
        };
        let stream = *stream;
        let n = match file.read(&mut self.buf) {
            Ok(n) => n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                return
            }
            // EIO from a pty master whose slave side is all closed is its end of file.
            Err(_) => 0,
        };
        if n == 0 {
            io.outputs[index].1 = None;
        }
        let kind = match stream {
            LogStream::Stdout => proto::FRAME_STDOUT,
            LogStream::Stderr => proto::FRAME_STDERR,
        };
        match owner {
            Owner::Container => self.container_output(stream, kind, n),
            Owner::Exec(pid) => {
                if n > 0 {
                    let client = self.execs.get(&pid).map(|e| e.client);
                    if let Some(client) = client.and_then(|c| self.clients.get_mut(&c)) {
                        client.send_frame(kind, &self.buf[..n]);
                    }
                }
            }
        }
    }

    /// `n` bytes of the container's output in `self.buf` (0: end of that stream).
    fn container_output(&mut self, stream: LogStream, kind: u8, n: usize) {
        let now = chrono::Utc::now();
        let splitter = &mut self.splitters[(stream == LogStream::Stderr) as usize];
        let records = if n == 0 {
            splitter.finish(now).into_iter().collect()
        } else {
            splitter.push(&self.buf[..n], now)
        };
        for record in records {
            // A full disk must not stop the container: the record is lost, output flows.
            let _ = self.log.write(stream, &record.line, record.time);
        }
        if n == 0 {
            return;
        }
        if let Some(replay) = &mut self.replay {
            replay.size += n;
            if replay.size > proto::REPLAY_CAP {
                // Past the cap the log is the only complete record.
                self.replay = None;
            } else {
                replay.chunks.push((stream, self.buf[..n].to_vec()));
            }
        }
        for client in self.clients.values_mut() {
            if let Role::Attach { stdout, stderr, .. } = client.role {
                let wanted = match stream {
                    LogStream::Stdout => stdout,
                    LogStream::Stderr => stderr,
                };
                if wanted {
                    client.send_frame(kind, &self.buf[..n]);
                }
            }
        }
    }

    fn read_client(&mut self, id: u64, hangup: bool) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        if client.read_closed {
            // Only a full hangup is reported for a half-closed client.
            client.dead = hangup;
            return;
        }
        match client.stream.read(&mut self.buf) {
            Ok(0) => {
                // A half-close after stdin ended keeps the output flowing; a hangup is a
                // detach (the process keeps running either way).
                let streaming = matches!(client.role, Role::Attach { .. } | Role::Exec { .. });
                if streaming && !hangup {
                    client.read_closed = true;
                } else {
                    client.dead = true;
                }
                return;
            }
            Ok(n) => client.inbuf.extend_from_slice(&self.buf[..n]),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                return
            }
            Err(_) => {
                client.dead = true;
                return;
            }
        }
        if matches!(client.role, Role::Request) {
            let Some(nl) = client.inbuf.iter().position(|&b| b == b'\n') else {
                if client.inbuf.len() > proto::MAX_REQUEST {
                    client.reply(&Reply::Error("request too long".into()));
                }
                return;
            };
            let line: Vec<u8> = client.inbuf.drain(..=nl).collect();
            match serde_json::from_slice::<Request>(&line) {
                Ok(request) => self.serve(id, request),
                Err(e) => client.reply(&Reply::Error(format!("bad request: {e}"))),
            }
        }
        self.take_frames(id);
    }

    /// Applies the stdin frames an attach or exec client sent.
    fn take_frames(&mut self, id: u64) {
        let Some(client) = self.clients.get_mut(&id) else {
            return;
        };
        let target = match client.role {
            Role::Attach { stdin: true, .. } => &mut self.container,
            Role::Exec { pid } => match self.execs.get_mut(&pid) {
                Some(exec) => &mut exec.io,
                None => {
                    client.inbuf.clear();
                    return;
                }
            },
            Role::Request => return,
            _ => {
                client.inbuf.clear();
                return;
            }
        };
        let mut used = 0;
        loop {
            match proto::decode_frame(&client.inbuf[used..]) {
                Ok(Some(frame)) => {
                    let payload = &client.inbuf[used + frame.start..used + frame.end];
                    match frame.kind {
                        proto::FRAME_STDIN => target.feed_stdin(payload),
                        proto::FRAME_STDIN_CLOSE => target.stdin_close = true,
                        _ => {}
                    }
                    used += frame.end;
                }
                Ok(None) => break,
                Err(_) => {
                    client.dead = true;
                    break;
                }
            }
        }
        client.inbuf.drain(..used);
        target.flush_stdin();
    }

    fn serve(&mut self, id: u64, request: Request) {
        let exited = self.state.exit.is_some() || self.reaped.is_some();
        let reply = match request {
            Request::State => Reply::State(self.state()),
            Request::Kill { signal } => self.kill(signal, exited),
            Request::Wait => match &self.state.exit {
                Some(exit) => Reply::Exit(exit.clone()),
                None => {
                    if let Some(client) = self.clients.get_mut(&id) {
                        client.role = Role::Waiter;
                    }
                    return;
                }
            },
            Request::Attach {
                stdin,
                stdout,
                stderr,
                replay,
            } => {
                // Taken before anyone else can: the first replaying attach gets it.
                let history = if replay { self.replay.take() } else { None };
                if let Some(client) = self.clients.get_mut(&id) {
                    client.role = Role::Attach {
                        stdin: stdin && self.container.stdin.is_some(),
                        stdout,
                        stderr,
                    };
                    client.send(&proto::encode_line(&Reply::Ok));
                    // The history goes out in this same turn of the loop, so the live output
                    // that follows continues it exactly.
                    for (stream, bytes) in history.iter().flat_map(|h| &h.chunks) {
                        let (kind, wanted) = match stream {
                            LogStream::Stdout => (proto::FRAME_STDOUT, stdout),
                            LogStream::Stderr => (proto::FRAME_STDERR, stderr),
                        };
                        if wanted {
                            client.send_frame(kind, bytes);
                        }
                    }
                    // Reaped but not yet drained: `finalize` closes it after the rest.
                    if self.state.exit.is_some() {
                        client.close_after_flush = true;
                    }
                }
                return;
            }
            Request::Resize { height, width } => match self.container.resize(height, width) {
                Ok(()) => Reply::Ok,
                Err(e) => Reply::Error(e),
            },
            Request::Exec { spec } if !exited => match self.exec(id, &spec) {
                Ok(()) => return,
                Err(e) => Reply::Error(e),
            },
            Request::Exec { .. } => Reply::Error(self.not_running()),
            Request::ResizeExec { id, height, width } => {
                match self.execs.values().find(|e| e.id == id) {
                    Some(exec) => match exec.io.resize(height, width) {
                        Ok(()) => Reply::Ok,
                        Err(e) => Reply::Error(e),
                    },
                    None => Reply::Error(format!("No such exec instance: {id}")),
                }
            }
        };
        if let Some(client) = self.clients.get_mut(&id) {
            client.reply(&reply);
        }
    }

    fn not_running(&self) -> String {
        format!("Container {} is not running", self.spec.id)
    }

    fn kill(&self, signal: i32, exited: bool) -> Reply {
        if exited {
            return Reply::Error(self.not_running());
        }
        let sig = match Signal::try_from(signal) {
            Ok(sig) => sig,
            Err(_) => return Reply::Error(format!("Invalid signal: {signal}")),
        };
        match kill(Pid::from_raw(self.state.init_pid), sig) {
            Ok(()) => Reply::Ok,
            Err(e) => Reply::Error(format!("Cannot kill container: {}: {e}", self.spec.id)),
        }
    }

    fn exec(&mut self, id: u64, spec: &ExecSpec) -> Result<(), String> {
        let (stdio, io) =
            prepare_stdio(spec.tty, spec.stdin).map_err(|e| format!("preparing stdio: {e}"))?;
        let pid = runtime::spawn_exec(
            &self.spec,
            Pid::from_raw(self.state.init_pid),
            spec,
            stdio,
            &self.cgroup,
        )
        .map_err(|e| e.to_string())?
        .as_raw();
        let io = io.finish().map_err(|e| {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            format!("preparing stdio: {e}")
        })?;
        self.execs.insert(
            pid,
            Exec {
                id: spec.id.clone(),
                client: id,
                io,
                exit_code: None,
                reaped_at: None,
            },
        );
        if let Some(client) = self.clients.get_mut(&id) {
            client.role = Role::Exec { pid };
            client.send(&proto::encode_line(&Reply::Pid(pid)));
            // Frames the client sent right behind its request.
            self.take_frames(id);
        }
        // Starting the exec ran the runtime's code again; it need not stay resident.
        sys::trim_text();
        Ok(())
    }

    fn reap(&mut self) {
        loop {
            let (pid, code) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid.as_raw(), code),
                Ok(WaitStatus::Signaled(pid, sig, _)) => (pid.as_raw(), 128 + sig as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(_) => continue,
            };
            if pid == self.state.init_pid && self.reaped.is_none() {
                let record = ExitRecord {
                    exit_code: code,
                    finished_at: now_rfc3339(),
                    oom_killed: self.cgroup.oom_killed().unwrap_or(false),
                };
                self.reaped = Some((record, Instant::now()));
                // With a private PID namespace the kernel already killed the rest; with
                // `--pid host` this does, so nothing keeps the output open.
                let _ = self.cgroup.kill_all();
            } else if let Some(exec) = self.execs.get_mut(&pid) {
                exec.exit_code = Some(code);
                exec.reaped_at = Some(Instant::now());
            }
        }
    }

    /// Sends each exited exec's `Exit` frame once its output is drained.
    fn finish_execs(&mut self) {
        let done: Vec<i32> = self
            .execs
            .iter()
            .filter(|(_, e)| {
                e.reaped_at
                    .is_some_and(|at| e.io.outputs_done() || at.elapsed() > EXEC_DRAIN)
            })
            .map(|(pid, _)| *pid)
            .collect();
        for pid in done {
            let Some(exec) = self.execs.remove(&pid) else {
                continue;
            };
            if let Some(client) = self.clients.get_mut(&exec.client) {
                let code = exec.exit_code.unwrap_or(-1);
                client.send_frame(proto::FRAME_EXIT, &code.to_be_bytes());
                client.close_after_flush = true;
                client.flush();
            }
        }
    }

    fn flush_all(&mut self) {
        for client in self.clients.values_mut() {
            client.flush();
        }
        self.clients.retain(|_, c| !c.dead);
    }

    /// The init exited and its output is drained: publish the exit and wind down. The
    /// socket, pid file and cgroup go before anyone is told, so a restart the daemon starts
    /// on that news never races with this shim's cleanup.
    fn finalize(&mut self) {
        let Some((record, _)) = self.reaped.take() else {
            return;
        };
        for (i, stream) in [LogStream::Stdout, LogStream::Stderr]
            .into_iter()
            .enumerate()
        {
            if let Some(last) = self.splitters[i].finish(chrono::Utc::now()) {
                let _ = self.log.write(stream, &last.line, last.time);
            }
        }
        let _ = write_exit(&self.dir, &record);
        let _ = std::fs::remove_file(self.dir.join(SOCKET));
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
        let _ = self.cgroup.destroy();
        self.state.exit = Some(record.clone());
        self.closing_since = Some(Instant::now());
        self.container.stdin = None;
        for client in self.clients.values_mut() {
            match client.role {
                Role::Waiter => client.reply(&Reply::Exit(record.clone())),
                Role::Attach { .. } => client.close_after_flush = true,
                _ => {}
            }
            client.flush();
        }
        self.clients.retain(|_, c| !c.dead);
    }
}

/// Writes `exit.json` atomically and durably (temp file, fsync, rename, fsync the dir).
fn write_exit(dir: &std::path::Path, record: &ExitRecord) -> io::Result<()> {
    let tmp = dir.join(".exit.json.tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(&proto::encode_line(record))?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(EXIT_FILE))?;
    File::open(dir)?.sync_all()
}
