//! `rm`, `rename` and `container prune`. `rm` also kills and removes what a killed shim left
//! of the container's cgroup.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::adopt::clean_cgroup;
use super::entry::Entry;
use super::list::{label_matches, parse_until};
use super::store::Status;
use super::{blocking, ContainerError, Containers};
use crate::api::container_types::PruneReport;
use crate::engine::spec::names;

impl Containers {
    pub(super) async fn remove_container(
        &self,
        entry: &Arc<Entry>,
        force: bool,
        volumes: bool,
    ) -> Result<(), ContainerError> {
        let _op = entry.op.lock().await;
        if !self.lock_table().entries.contains_key(&entry.id) {
            // Removed while we waited for the lock (`rm -f` of an `--rm` container).
            return Ok(());
        }
        let id = entry.id.clone();
        match entry.status() {
            Status::Paused if !force => {
                return Err(ContainerError::Conflict(format!(
                    "You cannot remove a paused container {id}. Unpause and then stop the \
                     container before attempting removal or force remove"
                )))
            }
            Status::Restarting if !force => {
                return Err(ContainerError::Conflict(format!(
                    "You cannot remove a restarting container {id}. Stop the container before \
                     attempting removal or force remove"
                )))
            }
            Status::Running if !force => {
                return Err(ContainerError::Conflict(format!(
                    "You cannot remove a running container {id}. Stop the container before \
                     attempting removal or force remove"
                )))
            }
            Status::Removing => {
                return Err(ContainerError::Conflict(format!(
                    "removal of container {id} is already in progress"
                )))
            }
            s if s.is_running() => self.stop_locked(entry, Some("SIGKILL"), Some(0)).await?,
            _ => {}
        }
        entry.update(false, |r| r.state.status = Status::Removing)?;
        // A dead container may still hold its sandbox (a stop that failed half way).
        self.network_down(entry).await;
        self.release_volumes(&entry.snapshot());
        // A shim that was killed leaves its container's processes and cgroup behind; with
        // a live shim the stop above already emptied and removed it.
        clean_cgroup(&id).await;
        let dir = entry.dir.clone();
        let removed = blocking("removing the container directory", move || {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("removing {}: {e}", dir.display()))
        })
        .await;
        if let Err(e) = removed {
            // Docker marks such a container dead; it can be removed again.
            let _ = std::fs::create_dir_all(&entry.dir);
            let _ = entry.update(false, |r| {
                r.state.status = Status::Dead;
                r.state.error = e.to_string();
            });
            return Err(e);
        }
        {
            let mut table = self.lock_table();
            let name = entry.snapshot().name;
            table.names.release(&name);
            table.entries.remove(&id);
            table.execs.retain(|_, e| e.container_id != id);
        }
        entry.mark_removed();
        self.publish(entry, "destroy", &[]);
        // Out of the table first: the volume manager's usage check must not see it.
        if volumes {
            self.remove_anonymous_volumes(&entry.snapshot().volumes);
        }
        Ok(())
    }

    pub(super) async fn rename_container(
        &self,
        entry: &Arc<Entry>,
        new_name: &str,
    ) -> Result<(), ContainerError> {
        let new = names::validate_name(new_name)
            .map_err(|e| ContainerError::Invalid(e.to_string()))?
            .to_string();
        let _op = entry.op.lock().await;
        let old = entry.snapshot().name;
        if old == new {
            return Err(ContainerError::Invalid(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        self.lock_table()
            .names
            .reserve(&new, &entry.id)
            .map_err(ContainerError::Conflict)?;
        if let Err(e) = entry.update(false, |r| r.name = new.clone()) {
            self.lock_table().names.release(&new);
            return Err(e);
        }
        self.lock_table().names.release(&old);
        self.publish(entry, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    pub(super) async fn prune_containers(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<PruneReport, ContainerError> {
        for key in filters.keys() {
            if !matches!(key.as_str(), "until" | "label" | "label!") {
                return Err(ContainerError::Invalid(format!("invalid filter '{key}'")));
            }
        }
        let until = match filters.get("until").and_then(|v| v.first()) {
            Some(u) => Some(parse_until(u)?),
            None => None,
        };
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for entry in self.all_entries() {
            let record = entry.snapshot();
            if record.state.status.is_running() {
                continue;
            }
            if let Some(until) = until {
                let created = chrono::DateTime::parse_from_rfc3339(&record.created)
                    .map(|t| t.timestamp())
                    .unwrap_or(0);
                if created >= until {
                    continue;
                }
            }
            let labels = &record.request.config.labels;
            let keep = filters
                .get("label")
                .is_some_and(|want| !want.iter().all(|w| label_matches(labels, w)))
                || filters
                    .get("label!")
                    .is_some_and(|want| want.iter().any(|w| label_matches(labels, w)));
            if keep {
                continue;
            }
            let upper = entry.dir.join("fs/upper");
            let size = blocking("measuring the container", move || Ok(dir_size(&upper))).await?;
            match self.remove_container(&entry, false, false).await {
                Ok(()) => {
                    deleted.push(record.id);
                    reclaimed += size;
                }
                Err(e) => tracing::warn!(container = %record.id, "prune: {e}"),
            }
        }
        Ok(PruneReport {
            containers_deleted: (!deleted.is_empty()).then_some(deleted),
            space_reclaimed: reclaimed,
        })
    }
}

/// Bytes in regular files under `path` (not following symlinks; missing means 0).
pub(super) fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return if meta.is_file() { meta.len() } else { 0 };
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| dir_size(&e.path()))
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dir_size_counts_regular_files_recursively() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/x"), b"12345").unwrap();
        std::fs::write(d.path().join("y"), b"123").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("l")).unwrap();
        assert_eq!(super::dir_size(d.path()), 8);
        assert_eq!(super::dir_size(&d.path().join("missing")), 0);
    }
}
