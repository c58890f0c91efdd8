//! The daemon's side of the shim: launch one, talk to it over `<dir>/shim.sock`.
//!
//! CONTRACT (signatures fixed; the shim helper implements them). Async (tokio): only the
//! daemon uses it.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::process::Command;
use tokio::sync::mpsc;

use super::protocol::{
    encode_frame, encode_line, Reply, Request, FRAME_EXIT, FRAME_HEADER, FRAME_STDERR, FRAME_STDIN,
    FRAME_STDIN_CLOSE, FRAME_STDOUT, MAX_FRAME,
};
use super::start::SOCKET;
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
        // stdout is the readiness pipe: the shim writes one line there, then lets it go.
        let mut child = Command::new(exe)
            .arg(super::SHIM_ARG)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ShimError::Protocol("no readiness pipe".into()))?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line).await;
        // The first shim process exits right after forking the real one: reap it.
        let _ = child.wait().await;
        read?;
        if line.is_empty() {
            return Err(ShimError::Start(
                "the shim exited without reporting the container's start".into(),
            ));
        }
        match serde_json::from_str::<Reply>(&line) {
            Ok(Reply::State(state)) => Ok((ShimClient::new(dir), state)),
            Ok(Reply::Error(text)) => Err(ShimError::Start(text)),
            Ok(other) => Err(ShimError::Protocol(format!("unexpected report {other:?}"))),
            Err(e) => Err(ShimError::Protocol(format!("bad report {line:?}: {e}"))),
        }
    }

    pub async fn state(&self) -> Result<ShimState, ShimError> {
        match self.call(&Request::State).await? {
            Reply::State(state) => Ok(state),
            other => Err(unexpected(other)),
        }
    }

    /// Sends `signal` to the container's init (the shim forwards it; with the built-in init
    /// the init forwards it on).
    pub async fn kill(&self, signal: i32) -> Result<(), ShimError> {
        self.call_ok(&Request::Kill { signal }).await
    }

    /// Resolves when the container's init has exited: from the socket while the shim
    /// lives, from `exit.json` once it is gone (`Gone` when neither exists).
    pub async fn wait(&self) -> Result<ExitRecord, ShimError> {
        let answer = match self.connect().await {
            Ok(stream) => self.request(stream, &Request::Wait).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok((Reply::Exit(exit), _)) => Ok(exit),
            Ok((other, _)) => Err(unexpected(other)),
            // The shim went away (exited or killed) before answering: its record, if any.
            Err(ShimError::Gone(_) | ShimError::Io(_)) => {
                read_exit(&self.dir).ok_or_else(|| self.gone())
            }
            Err(e) => Err(e),
        }
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
        self.attach_with(stdin, stdout, stderr, false).await
    }

    /// Like [`attach`](Self::attach), but the stream starts with everything the current
    /// run printed so far, then continues live without a gap. For the first attach after a
    /// start only (the shim keeps that output for one such attach, at most 10 s and 1 MiB).
    /// `Gone` when the run is already over and its shim left: the log then holds it all.
    pub async fn attach_from_start(
        &self,
        stdin: bool,
        stdout: bool,
        stderr: bool,
    ) -> Result<(mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>), ShimError> {
        self.attach_with(stdin, stdout, stderr, true).await
    }

    async fn attach_with(
        &self,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        replay: bool,
    ) -> Result<(mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>), ShimError> {
        let stream = self.connect().await?;
        let request = Request::Attach {
            stdin,
            stdout,
            stderr,
            replay,
        };
        match self.request(stream, &request).await? {
            (Reply::Ok, reader) => Ok(relay(reader, stdin)),
            (other, _) => Err(unexpected(other)),
        }
    }

    /// Resizes the container's pty.
    pub async fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        self.call_ok(&Request::Resize { height, width }).await
    }

    /// Starts an exec process; returns its PID, its output (ending with [`Frame::Exit`])
    /// and its stdin when `spec.stdin`.
    pub async fn exec(
        &self,
        spec: &ExecSpec,
    ) -> Result<(i32, mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>), ShimError> {
        let stream = self.connect().await?;
        let request = Request::Exec { spec: spec.clone() };
        match self.request(stream, &request).await? {
            (Reply::Pid(pid), reader) => {
                let (frames, stdin) = relay(reader, spec.stdin);
                Ok((pid, frames, stdin))
            }
            (Reply::Error(text), _) => Err(ShimError::Start(text)),
            (other, _) => Err(unexpected(other)),
        }
    }

    /// Resizes an exec process's pty.
    pub async fn resize_exec(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ShimError> {
        let request = Request::ResizeExec {
            id: exec_id.to_string(),
            height,
            width,
        };
        self.call_ok(&request).await
    }

    fn gone(&self) -> ShimError {
        ShimError::Gone(self.dir.display().to_string())
    }

    /// Connects to `<dir>/shim.sock`, through `/proc/self/fd` when the path is too long
    /// for a socket address.
    async fn connect(&self) -> Result<UnixStream, ShimError> {
        let path = self.dir.join(SOCKET);
        let result = if path.as_os_str().len() < 100 {
            UnixStream::connect(&path).await
        } else {
            match std::fs::File::open(&self.dir) {
                Ok(dir) => {
                    let short = format!("/proc/self/fd/{}/{SOCKET}", dir.as_raw_fd());
                    UnixStream::connect(short).await
                }
                Err(e) => Err(e),
            }
        };
        result.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => self.gone(),
            _ => ShimError::Io(e),
        })
    }

    /// Sends `request` and reads the one-line reply; the reader continues with any frames.
    async fn request(
        &self,
        stream: UnixStream,
        request: &Request,
    ) -> Result<(Reply, Conn), ShimError> {
        let (read, mut write) = stream.into_split();
        write.write_all(&encode_line(request)).await?;
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(self.gone());
        }
        let reply = serde_json::from_str::<Reply>(&line)
            .map_err(|e| ShimError::Protocol(format!("bad reply {line:?}: {e}")))?;
        Ok((reply, Conn { reader, write }))
    }

    async fn call(&self, request: &Request) -> Result<Reply, ShimError> {
        let stream = self.connect().await?;
        Ok(self.request(stream, request).await?.0)
    }

    async fn call_ok(&self, request: &Request) -> Result<(), ShimError> {
        match self.call(request).await? {
            Reply::Ok => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

/// A connection past its reply line.
struct Conn {
    reader: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

/// An error reply becomes the shim's text; anything else is a protocol error.
fn unexpected(reply: Reply) -> ShimError {
    match reply {
        Reply::Error(text) => ShimError::Protocol(text),
        other => ShimError::Protocol(format!("unexpected reply {other:?}")),
    }
}

/// Turns a framed connection into channels: output frames in, stdin bytes out (the close
/// frame goes when the sender is dropped).
fn relay(conn: Conn, stdin: bool) -> (mpsc::Receiver<Frame>, Option<mpsc::Sender<Bytes>>) {
    let Conn { mut reader, write } = conn;
    let (frames_tx, frames_rx) = mpsc::channel(64);
    let (stdin_tx, write) = if stdin {
        let (tx, rx) = mpsc::channel::<Bytes>(16);
        tokio::spawn(forward_stdin(rx, write));
        (Some(tx), None)
    } else {
        (None, Some(write))
    };
    tokio::spawn(async move {
        // Without stdin the write half lives as long as the stream: dropping it would
        // half-close the connection, which the shim reads as a hangup.
        let _write = write;
        while let Ok(Some(frame)) = read_frame(&mut reader).await {
            if frames_tx.send(frame).await.is_err() {
                break;
            }
        }
    });
    (frames_rx, stdin_tx)
}

/// Sends stdin frames until the sender is dropped, then the close frame; the half-close
/// that follows tells the shim nothing more comes from this side.
async fn forward_stdin(mut rx: mpsc::Receiver<Bytes>, mut write: OwnedWriteHalf) {
    let mut buf = Vec::new();
    while let Some(data) = rx.recv().await {
        buf.clear();
        encode_frame(FRAME_STDIN, &data, &mut buf);
        if write.write_all(&buf).await.is_err() {
            return;
        }
    }
    buf.clear();
    encode_frame(FRAME_STDIN_CLOSE, &[], &mut buf);
    let _ = write.write_all(&buf).await;
}

/// Reads one shim → client frame; `None` at the end of the stream.
async fn read_frame(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<Frame>> {
    let mut header = [0u8; FRAME_HEADER];
    match reader.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload).await?;
    Ok(match header[0] {
        FRAME_STDOUT => Some(Frame::Stdout(Bytes::from(payload))),
        FRAME_STDERR => Some(Frame::Stderr(Bytes::from(payload))),
        FRAME_EXIT if len == 4 => Some(Frame::Exit(i32::from_be_bytes([
            payload[0], payload[1], payload[2], payload[3],
        ]))),
        _ => return Err(std::io::Error::other("unknown frame")),
    })
}

/// Reads `<dir>/exit.json` when the shim wrote one.
pub fn read_exit(dir: &Path) -> Option<ExitRecord> {
    let text = std::fs::read(dir.join("exit.json")).ok()?;
    serde_json::from_slice(&text).ok()
}
