//! One container in memory: its record (the copy on disk is written after every change),
//! the lock that serialises its lifecycle operations, and the state feed `wait` listens on.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::store::{self, Record, Status};
use super::{ContainerError, WaitCondition, WaitResult};

/// What waiters see change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub status: Status,
    pub exit_code: i32,
    /// Exits recorded so far (this daemon's lifetime).
    pub exits: u64,
    /// Starts so far (this daemon's lifetime): a pending attach waits for the next one.
    pub starts: u64,
    pub removed: bool,
    /// The healthcheck's status (`starting`, `healthy`, `unhealthy`), when there is one.
    pub health: Option<String>,
}

pub struct Entry {
    pub id: String,
    pub dir: PathBuf,
    record: Mutex<Record>,
    /// Held for the whole of start, stop, restart, kill, pause, remove: one at a time.
    pub op: std::sync::Arc<tokio::sync::Mutex<()>>,
    observed: watch::Sender<Observed>,
    /// The restart backoff of the policy supervisor (Docker's restart manager timeout).
    pub backoff: Mutex<Option<Duration>>,
    /// Bumped at every start: a supervisor of an older run does nothing.
    pub generation: Mutex<u64>,
    /// Exec IDs created for this container (`ExecIDs`).
    pub exec_ids: Mutex<Vec<String>>,
    /// Attaches made before the start that have not got their output yet: `--rm` waits for
    /// them before it deletes the log they may still have to read.
    attach_holds: watch::Sender<usize>,
}

/// One pending attach; released on drop.
pub struct AttachHold(watch::Sender<usize>);

impl Drop for AttachHold {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Values are replaced whole; a panic mid-update cannot leave them inconsistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Entry {
    pub fn new(dir: PathBuf, record: Record) -> Entry {
        let (observed, _) = watch::channel(Observed {
            status: record.state.status,
            exit_code: record.state.exit_code,
            exits: 0,
            starts: 0,
            removed: false,
            health: record.state.health.as_ref().map(|h| h.status.clone()),
        });
        Entry {
            id: record.id.clone(),
            dir,
            record: Mutex::new(record),
            op: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            observed,
            backoff: Mutex::new(None),
            generation: Mutex::new(0),
            exec_ids: Mutex::new(Vec::new()),
            attach_holds: watch::channel(0).0,
        }
    }

    /// Registers an attach that still has to collect this run's output.
    pub fn hold_for_attach(&self) -> AttachHold {
        self.attach_holds.send_modify(|n| *n += 1);
        AttachHold(self.attach_holds.clone())
    }

    /// Resolves when no attach holds the container any more, or after `limit`.
    pub async fn attaches_done(&self, limit: Duration) {
        let mut rx = self.attach_holds.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> Record {
        lock(&self.record).clone()
    }

    pub fn status(&self) -> Status {
        lock(&self.record).state.status
    }

    /// Changes the record, writes it to disk and tells waiters. `exited` counts an exit.
    pub fn update(
        &self,
        exited: bool,
        change: impl FnOnce(&mut Record),
    ) -> Result<Record, ContainerError> {
        let mut record = lock(&self.record);
        let mut next = record.clone();
        change(&mut next);
        store::save(&self.dir, &next)?;
        *record = next.clone();
        drop(record);
        self.observed.send_modify(|o| {
            o.status = next.state.status;
            o.exit_code = next.state.exit_code;
            o.health = next.state.health.as_ref().map(|h| h.status.clone());
            if exited {
                o.exits += 1;
            }
        });
        Ok(next)
    }

    /// Tells pending attaches the container runs now.
    pub fn mark_started(&self) {
        self.observed.send_modify(|o| o.starts += 1);
    }

    /// The state feed.
    pub fn observe(&self) -> watch::Receiver<Observed> {
        self.observed.subscribe()
    }

    /// Marks the container gone for `wait --condition removed`.
    pub fn mark_removed(&self) {
        self.observed.send_modify(|o| o.removed = true);
    }

    pub fn next_generation(&self) -> u64 {
        let mut g = lock(&self.generation);
        *g += 1;
        *g
    }

    pub fn current_generation(&self) -> u64 {
        *lock(&self.generation)
    }

    pub fn exec_ids(&self) -> Vec<String> {
        lock(&self.exec_ids).clone()
    }

    pub fn add_exec(&self, id: &str) {
        lock(&self.exec_ids).push(id.to_string());
    }

    pub fn backoff(&self) -> std::sync::MutexGuard<'_, Option<Duration>> {
        lock(&self.backoff)
    }

    /// Resolves once `condition` holds (checked against the state now, then every change).
    pub fn wait_for(&self, condition: WaitCondition) -> oneshot::Receiver<WaitResult> {
        let (tx, rx) = oneshot::channel();
        let mut feed = self.observed.subscribe();
        let start = feed.borrow().clone();
        tokio::spawn(async move {
            let done = |o: &Observed| match condition {
                WaitCondition::NotRunning => !o.status.is_running() || o.removed,
                WaitCondition::NextExit => o.exits > start.exits || o.removed,
                WaitCondition::Removed => o.removed,
            };
            let result = match feed.wait_for(|o| done(o)).await {
                Ok(o) => WaitResult {
                    status_code: i64::from(o.exit_code),
                    error: None,
                },
                // The sender went away without the condition: the entry was dropped
                // (daemon shutdown); report what we last knew.
                Err(_) => WaitResult {
                    status_code: i64::from(start.exit_code),
                    error: Some("the daemon is shutting down".into()),
                },
            };
            let _ = tx.send(result);
        });
        rx
    }
}
