//! The container's streams: `attach` (live frames from the shim; `logs=true` replays the
//! log first; an attach to a container not yet running connects when it starts and asks
//! the shim to replay the run's output so far, or, when the run is already over and its
//! shim gone, reads the run from the log), `resize`,
//! `logs` (the json-file reader, following until the container stops) and `top` (the
//! cgroup's processes through `engine::procs`).

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::create::run_spec;
use super::entry::Entry;
use super::start::{cgroup_name, log_path};
use super::store::Status;
use super::{AttachOptions, ContainerError, Containers, IoSession, LogStream, LogsOptions};
use crate::api::container_types::ContainerTop;
use crate::engine::cgroups::{detect, Cgroup};
use crate::engine::logs::{self, LogEntry, ReadOptions};
use crate::engine::procs;
use crate::engine::shim::{Frame, ShimClient};

const CHANNEL_DEPTH: usize = 64;

impl Containers {
    pub(super) async fn attach_container(
        &self,
        entry: &Arc<Entry>,
        options: &AttachOptions,
    ) -> Result<IoSession, ContainerError> {
        // The start counter is read before the status: a start in between shows as Running
        // rather than leaving us waiting for a start that already happened.
        let mut feed = entry.observe();
        let starts = feed.borrow().starts;
        let record = entry.snapshot();
        match record.state.status {
            Status::Paused => {
                return Err(ContainerError::Conflict(
                    "You cannot attach to a paused container, unpause it first".into(),
                ))
            }
            Status::Restarting => {
                return Err(ContainerError::Conflict(
                    "You cannot attach to a restarting container, wait until it is running".into(),
                ))
            }
            _ => {}
        }
        let tty = run_spec(&record)?.config.tty;
        let (out_tx, out_rx) = mpsc::channel(CHANNEL_DEPTH);
        let (in_tx, in_rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let log = log_path(&entry.dir, &entry.id);
        let opts = options.clone();
        self.publish(entry, "attach", &[]);
        let running = record.state.status == Status::Running;
        let hold = (!running && opts.stream).then(|| entry.hold_for_attach());
        let entry = entry.clone();
        tokio::spawn(async move {
            if opts.logs {
                let history = logs::read(&log, read_options(&opts, None), async {});
                if forward_logs(history, &out_tx).await.is_err() {
                    return;
                }
            }
            if !opts.stream {
                return;
            }
            if !running {
                // Not running: connect once it starts, with what it printed before.
                // A start wins over a removal seen at the same time: `--rm` waits for this
                // attach (the hold) before it deletes the log.
                if feed
                    .wait_for(|o| o.starts > starts || o.removed)
                    .await
                    .map(|o| o.starts == starts)
                    .unwrap_or(true)
                {
                    return;
                }
            }
            let client = ShimClient::new(&entry.dir);
            let attached = if running {
                client.attach(opts.stdin, opts.stdout, opts.stderr).await
            } else {
                client
                    .attach_from_start(opts.stdin, opts.stdout, opts.stderr)
                    .await
            };
            let (mut frames, stdin) = match attached {
                Ok(c) => {
                    drop(hold);
                    c
                }
                Err(e) => {
                    tracing::debug!(container = %entry.id, "attach: {e}");
                    if !running {
                        // The run ended and its shim left before we connected; the shim
                        // drained all output into the log before going, so the log has it.
                        let mut run = read_options(&opts, None);
                        run.since = started_secs(&entry.snapshot().state.started_at);
                        let history = logs::read(&log, run, async {});
                        let _ = forward_logs(history, &out_tx).await;
                    }
                    drop(hold);
                    return;
                }
            };
            if let Some(stdin) = stdin {
                tokio::spawn(relay_stdin(in_rx, stdin));
            }
            while let Some(frame) = frames.recv().await {
                if out_tx.send(frame).await.is_err() {
                    break;
                }
            }
        });
        Ok(IoSession {
            tty,
            output: out_rx,
            input: options.stdin.then_some(in_tx),
        })
    }

    pub(super) async fn resize_container(
        &self,
        entry: &Arc<Entry>,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        if !entry.status().is_running() {
            return Err(ContainerError::Conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        ShimClient::new(&entry.dir)
            .resize(height, width)
            .await
            .map_err(|e| ContainerError::Internal(anyhow::anyhow!("resizing the tty: {e}")))
    }

    pub(super) async fn container_logs(
        &self,
        entry: &Arc<Entry>,
        options: &LogsOptions,
    ) -> Result<LogStream, ContainerError> {
        let record = entry.snapshot();
        let tty = run_spec(&record)?.config.tty;
        let opts = ReadOptions {
            stdout: options.stdout,
            stderr: options.stderr,
            since: options.since,
            until: options.until,
            tail: options.tail,
            follow: options.follow && record.state.status.is_running(),
        };
        let stopped = entry.wait_for(super::WaitCondition::NotRunning);
        let entries = logs::read(&log_path(&entry.dir, &entry.id), opts, async move {
            let _ = stopped.await;
        });
        Ok(LogStream { tty, entries })
    }

    pub(super) async fn top_container(
        &self,
        entry: &Arc<Entry>,
        ps_args: Option<&str>,
    ) -> Result<ContainerTop, ContainerError> {
        if !entry.status().is_running() {
            return Err(ContainerError::Conflict(format!(
                "Container {} is not running",
                entry.id
            )));
        }
        let name = cgroup_name(&entry.id);
        let args = ps_args.unwrap_or("").to_string();
        let result = tokio::task::spawn_blocking(move || {
            let pids = Cgroup::open(&detect()?, &name)?.procs()?;
            Ok::<_, anyhow::Error>(procs::top(&pids, &args))
        })
        .await
        .map_err(|e| ContainerError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(ContainerError::Internal)?;
        result.map_err(|e| match e {
            procs::TopError::Invalid(m) => ContainerError::Invalid(m),
            procs::TopError::Failed(m) => ContainerError::Internal(anyhow::anyhow!(m)),
        })
    }
}

fn read_options(opts: &AttachOptions, tail: Option<usize>) -> ReadOptions {
    ReadOptions {
        stdout: opts.stdout,
        stderr: opts.stderr,
        since: 0.0,
        until: 0.0,
        tail,
        follow: false,
    }
}

/// The run's start in Unix seconds, a microsecond early so that float rounding cannot drop
/// its first record (the shim stamps records when it reads them, after `StartedAt`).
fn started_secs(started_at: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(started_at)
        .map(|t| t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9 - 1e-6)
        .unwrap_or(0.0)
}

/// Log entries as frames; `Err` when the receiver is gone.
async fn forward_logs(
    mut entries: mpsc::Receiver<LogEntry>,
    out: &mpsc::Sender<Frame>,
) -> Result<(), ()> {
    while let Some(e) = entries.recv().await {
        let frame = match e.stream {
            logs::LogStream::Stdout => Frame::Stdout(e.line),
            logs::LogStream::Stderr => Frame::Stderr(e.line),
        };
        out.send(frame).await.map_err(|_| ())?;
    }
    Ok(())
}

/// The client's stdin to the shim; dropping the shim's sender ends (or detaches) stdin.
async fn relay_stdin(mut from: mpsc::Receiver<Bytes>, to: mpsc::Sender<Bytes>) {
    while let Some(chunk) = from.recv().await {
        if to.send(chunk).await.is_err() {
            break;
        }
    }
}
