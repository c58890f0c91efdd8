//! Start-up: load every record, and for each container the last daemon left running ask
//! its shim: alive → restore its network sandbox and supervise it again; gone with
//! `exit.json` → record that exit (and apply the restart policy); gone without → exited
//! 255 and its cgroup cleaned up. Then the network manager drops every other sandbox.

use std::sync::Arc;

use super::entry::Entry;
use super::start::cgroup_name;
use super::store::{self, Status};
use super::supervise::lost_shim_exit;
use super::Containers;
use crate::engine::cgroups::{detect, Cgroup};
use crate::engine::shim::{client::read_exit, ExitRecord, ShimClient};

impl Containers {
    pub(super) async fn adopt_all(&self) -> anyhow::Result<()> {
        let root = self.root.clone();
        let records = tokio::task::spawn_blocking(move || store::load_all(&root)).await??;
        let mut live = Vec::new();
        for record in records {
            let dir = self.root.join(&record.id);
            if record.state.status == Status::Removing {
                // The last daemon died while removing it: finish the job.
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            let mut table = self.lock_table();
            if let Err(e) = table.names.reserve(&record.name, &record.id) {
                tracing::warn!(container = %record.id, "skipping: {e}");
                continue;
            }
            let status = record.state.status;
            let entry = Arc::new(Entry::new(dir, record));
            table.entries.insert(entry.id.clone(), entry.clone());
            if status.is_running() {
                live.push(entry);
            }
        }
        let mut dead = Vec::new();
        for entry in live {
            if let Some(exit) = self.adopt(entry.clone()).await {
                dead.push((entry, exit));
            }
        }
        // Exits that happened while no daemon ran: restart policies in dependency order.
        self.restart_in_order(dead).await;
        // Sandboxes of containers that did not survive the restart go (restarting ones
        // keep theirs until the policy's start replaces it).
        let running: Vec<String> = self
            .all_entries()
            .iter()
            .filter(|e| e.status().is_running())
            .map(|e| e.id.clone())
            .collect();
        self.networks.reconcile(&running).await;
        Ok(())
    }

    /// Re-watches a live shim; returns the exit of a container that died meanwhile, for
    /// the caller to handle.
    async fn adopt(&self, entry: Arc<Entry>) -> Option<ExitRecord> {
        let client = ShimClient::new(&entry.dir);
        let record = entry.snapshot();
        match client.state().await {
            Ok(state) => match state.exit {
                None => {
                    let generation = entry.next_generation();
                    let _ = entry.update(false, |r| {
                        r.state.pid = state.init_pid;
                        r.state.shim_pid = state.shim_pid;
                    });
                    self.network_restore(&entry.snapshot()).await;
                    tracing::info!(container = %entry.id, "re-adopted a running container");
                    self.supervise(entry, client, generation);
                    None
                }
                Some(exit) => Some(exit),
            },
            Err(_) => {
                let dir = entry.dir.clone();
                let exit = tokio::task::spawn_blocking(move || read_exit(&dir))
                    .await
                    .ok()
                    .flatten();
                let exit = match exit {
                    Some(exit) => exit,
                    None if record.state.status == Status::Restarting => ExitRecord {
                        exit_code: record.state.exit_code,
                        finished_at: record.state.finished_at.clone(),
                        oom_killed: record.state.oom_killed,
                    },
                    None => {
                        clean_cgroup(&entry.id).await;
                        lost_shim_exit()
                    }
                };
                Some(exit)
            }
        }
    }
}

/// Kills and removes what is left of a container's cgroup ("not found" is fine): after a
/// shim died without cleaning up, its container's processes would otherwise live on.
pub(super) async fn clean_cgroup(id: &str) {
    let name = cgroup_name(id);
    let _ = tokio::task::spawn_blocking(move || {
        let cgroup = Cgroup::open(&detect()?, &name)?;
        cgroup.kill_all()?;
        cgroup.destroy()
    })
    .await;
}
