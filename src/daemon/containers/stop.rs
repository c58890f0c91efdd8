//! `stop`, `kill`, `restart`, `pause`, `unpause`.
//!
//! A stop marks the container stopped by the user first (so the supervisor does not
//! restart it), sends the stop signal through the shim, waits the timeout for the exit,
//! then sends SIGKILL. Pause and unpause freeze and thaw the cgroup.

use std::sync::Arc;
use std::time::Duration;

use super::create::{run_spec, spec_error};
use super::entry::Entry;
use super::start::cgroup_name;
use super::store::Status;
use super::{ContainerError, Containers, WaitCondition};
use crate::engine::cgroups::{detect, Cgroup};
use crate::engine::shim::ShimClient;
use crate::engine::spec::parse_signal;

const SIGKILL: i32 = 9;
/// How long to wait for the exit after SIGKILL before reporting an error.
const AFTER_KILL: Duration = Duration::from_secs(30);

impl Containers {
    pub(super) async fn stop_container(
        &self,
        entry: &Arc<Entry>,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let _op = entry.op.lock().await;
        if !entry.status().is_running() {
            return Err(ContainerError::NotModified);
        }
        self.stop_locked(entry, signal, timeout).await
    }

    /// Stops a running container; the caller holds `entry.op`.
    pub(super) async fn stop_locked(
        &self,
        entry: &Arc<Entry>,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        let signal = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s).map_err(spec_error)?,
            None => spec.stop_signal,
        };
        let timeout = timeout.unwrap_or(spec.stop_timeout);
        if record.state.status == Status::Restarting {
            // Waiting out a restart backoff: cancelling it is the whole stop.
            entry.update(false, |r| {
                r.state.status = Status::Exited;
                r.state.stopped_by_user = true;
            })?;
            self.publish(entry, "stop", &[]);
            return Ok(());
        }
        entry.update(false, |r| r.state.stopped_by_user = true)?;
        let exited = entry.wait_for(WaitCondition::NotRunning);
        let client = ShimClient::new(&entry.dir);
        let mut exited = Box::pin(exited);
        if signal != SIGKILL {
            self.signal(entry, &client, signal).await;
            let wait = async { (&mut exited).await.is_ok() };
            let done = if timeout < 0 {
                wait.await
            } else {
                let limit = Duration::from_secs(u64::try_from(timeout).unwrap_or(0));
                tokio::time::timeout(limit, wait).await.unwrap_or(false)
            };
            if done {
                self.publish(entry, "stop", &[]);
                return Ok(());
            }
            tracing::info!(
                container = %entry.id,
                "container did not exit within {timeout} seconds of signal {signal}; killing it"
            );
        }
        self.signal(entry, &client, SIGKILL).await;
        match tokio::time::timeout(AFTER_KILL, exited).await {
            Ok(Ok(_)) => {
                self.publish(entry, "stop", &[]);
                Ok(())
            }
            _ => Err(ContainerError::Internal(anyhow::anyhow!(
                "cannot stop container: {}: tried to kill container, but did not receive an exit event",
                entry.id
            ))),
        }
    }

    /// Sends `signal` and publishes `kill`; a paused container is thawed so it sees it.
    async fn signal(&self, entry: &Arc<Entry>, client: &ShimClient, signal: i32) {
        self.publish(entry, "kill", &[("signal", signal.to_string())]);
        if let Err(e) = client.kill(signal).await {
            // The shim is gone: its supervisor records the exit, which the caller awaits.
            tracing::warn!(container = %entry.id, "signalling the container: {e}");
        }
        if entry.status() == Status::Paused {
            let name = cgroup_name(&entry.id);
            let thawed = tokio::task::spawn_blocking(move || {
                Cgroup::open(&detect()?, &name).and_then(|c| c.thaw())
            })
            .await;
            if let Ok(Ok(())) = thawed {
                let _ = entry.update(false, |r| r.state.status = Status::Running);
            }
        }
    }

    pub(super) async fn kill_container(
        &self,
        entry: &Arc<Entry>,
        reference: &str,
        signal: Option<&str>,
    ) -> Result<(), ContainerError> {
        let signal = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s).map_err(spec_error)?,
            None => SIGKILL,
        };
        let _op = entry.op.lock().await;
        let record = entry.snapshot();
        if !record.state.status.is_running() {
            return Err(ContainerError::Conflict(format!(
                "Cannot kill container: {reference}: Container {} is not running",
                record.id
            )));
        }
        let stop_signal = run_spec(&record).map(|s| s.stop_signal).unwrap_or(15);
        if signal == SIGKILL || signal == stop_signal {
            entry.update(false, |r| r.state.stopped_by_user = true)?;
        }
        if record.state.status == Status::Restarting {
            entry.update(false, |r| r.state.status = Status::Exited)?;
            return Ok(());
        }
        self.signal(entry, &ShimClient::new(&entry.dir), signal)
            .await;
        Ok(())
    }

    pub(super) async fn restart_container(
        &self,
        entry: &Arc<Entry>,
        signal: Option<&str>,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let _op = entry.op.lock().await;
        if entry.status().is_running() {
            self.stop_locked(entry, signal, timeout).await?;
        }
        *entry.backoff() = None;
        entry.update(false, |r| {
            r.state.stopped_by_user = false;
            r.restart_count = 0;
        })?;
        self.start_locked(entry).await?;
        self.publish(entry, "restart", &[]);
        Ok(())
    }

    pub(super) async fn pause_container(&self, entry: &Arc<Entry>) -> Result<(), ContainerError> {
        let _op = entry.op.lock().await;
        let id = entry.id.clone();
        match entry.status() {
            Status::Paused => {
                return Err(ContainerError::Conflict(format!(
                    "Container {id} is already paused"
                )))
            }
            Status::Restarting => {
                return Err(ContainerError::Conflict(format!(
                    "Container {id} is restarting, wait until the container is running"
                )))
            }
            Status::Running => {}
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "Container {id} is not running"
                )))
            }
        }
        self.set_frozen(entry, true).await?;
        entry.update(false, |r| r.state.status = Status::Paused)?;
        self.publish(entry, "pause", &[]);
        Ok(())
    }

    pub(super) async fn unpause_container(&self, entry: &Arc<Entry>) -> Result<(), ContainerError> {
        let _op = entry.op.lock().await;
        if entry.status() != Status::Paused {
            return Err(ContainerError::Conflict(format!(
                "Container {} is not paused",
                entry.id
            )));
        }
        self.set_frozen(entry, false).await?;
        entry.update(false, |r| r.state.status = Status::Running)?;
        self.publish(entry, "unpause", &[]);
        Ok(())
    }

    async fn set_frozen(&self, entry: &Entry, frozen: bool) -> Result<(), ContainerError> {
        let name = cgroup_name(&entry.id);
        let done = tokio::task::spawn_blocking(move || {
            let cgroup = Cgroup::open(&detect()?, &name)?;
            if frozen {
                cgroup.freeze()
            } else {
                cgroup.thaw()
            }
        })
        .await
        .map_err(|e| ContainerError::Internal(anyhow::anyhow!("{e}")))?;
        done.map_err(|e| {
            let verb = if frozen { "pause" } else { "unpause" };
            ContainerError::Internal(anyhow::anyhow!("Cannot {verb} container {}: {e}", entry.id))
        })
    }
}
