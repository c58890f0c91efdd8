//! A hijacked attach or exec stream pumped to and from our stdio: stdin (when attached)
//! copied into the connection and its write half shut at EOF, as the docker CLI's
//! `CloseWrite`; the output written raw (TTY) or demultiplexed from Docker's 8-byte-header
//! frames into stdout and stderr. Also the signal proxy of `run`/`start -a`.

use std::io::Write;

use anyhow::anyhow;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::container_path;
use crate::api::client::{Client, Hijacked};
use crate::engine::logs::Demuxer;

/// Copies stdin into `conn` (when `stdin`) and its output to ours until the daemon closes
/// the output.
pub async fn pump(conn: Hijacked, stdin: bool, tty: bool) -> anyhow::Result<()> {
    let (mut reader, mut writer) = tokio::io::split(conn);
    let input = stdin.then(|| {
        let mut chunks = spawn_stdin_reader();
        tokio::spawn(async move {
            while let Some(chunk) = chunks.recv().await {
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = writer.shutdown().await;
        })
    });
    let result = copy_output(&mut reader, tty).await;
    if let Some(task) = input {
        task.abort();
    }
    result
}

/// The connection's output to stdout/stderr until EOF.
async fn copy_output(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    tty: bool,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    let mut demuxer = Demuxer::new();
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            // A reset after the container exited ends the output like an EOF.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(anyhow!("error reading the container's output: {e}")),
        };
        if tty {
            write_to(&mut std::io::stdout(), &buf[..n]);
            continue;
        }
        demuxer.push(&buf[..n]);
        write_frames(&mut demuxer)?;
    }
}

/// Writes every complete frame to its stream.
pub fn write_frames(demuxer: &mut Demuxer) -> anyhow::Result<()> {
    while let Some((stream, payload)) = demuxer.next_frame()? {
        match stream {
            2 => write_to(&mut std::io::stderr(), &payload),
            3 => return Err(anyhow!("{}", String::from_utf8_lossy(&payload))),
            _ => write_to(&mut std::io::stdout(), &payload),
        }
    }
    Ok(())
}

/// Writes and flushes; a closed stdout (`| head`) is not our error.
fn write_to(out: &mut dyn Write, bytes: &[u8]) {
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Reads stdin on a plain thread (a blocking read must not hold the runtime's exit), in
/// chunks; the channel closes at EOF.
pub fn spawn_stdin_reader() -> tokio::sync::mpsc::UnboundedReceiver<Vec<u8>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match std::io::Read::read(&mut stdin, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Forwards the signals we get (INT, TERM, HUP, QUIT, USR1, USR2) to the container as
/// `POST /containers/{id}/kill?signal=`, until the task is aborted.
pub fn spawn_signal_proxy(client: Client, id: String) -> tokio::task::JoinHandle<()> {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let kinds = [
            (SignalKind::interrupt(), "SIGINT"),
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
            (SignalKind::quit(), "SIGQUIT"),
            (SignalKind::user_defined1(), "SIGUSR1"),
            (SignalKind::user_defined2(), "SIGUSR2"),
        ];
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
        for (kind, name) in kinds {
            let Ok(mut stream) = signal(kind) else {
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send(name).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        while let Some(name) = rx.recv().await {
            let path = format!("{}/kill?signal={name}", container_path(&id));
            let _ = client
                .send_json::<serde_json::Value>("POST", &path, &[], None)
                .await;
        }
    })
}
