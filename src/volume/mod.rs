//! Volumes: the `local` driver's named and anonymous volumes under `<root>/volumes/`.
//!
//! Each volume is `<root>/volumes/<name>/_data` plus `volume.json` (driver, labels,
//! options, creation time, anonymous flag). This module creates, lists, inspects, removes
//! and prunes them with Docker's rules and texts, mounts a volume's device (driver options
//! `type`/`device`/`o`) while containers use it, and publishes `volume` events.
//!
//! Which containers use a volume is the container manager's knowledge: it installs a
//! usage check ([`Volumes::set_usage_check`]) answering from its records, so the answer
//! survives daemon restarts without counts to rebuild. Running holders are also counted
//! here, so a device stays mounted while any container that started with it runs.
//!
//! Not here: copy-up of the image's content (the runtime does it inside the container's
//! mount namespace) and volume plugins (only `local` exists).

mod driver;
mod filters;
pub mod record;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use anyhow::Context;

use crate::api::volume_types::{Volume, VolumeCreateRequest, VolumePruneReport};
use crate::daemon::events::EventBus;
pub use filters::{label_matches, FilterMap};
use record::VolumeRecord;
pub use record::{validate_name, ANONYMOUS_LABEL};

/// The only driver.
pub const LOCAL_DRIVER: &str = "local";

/// Why a volume operation failed; `api::server::volumes` maps the variants to statuses.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// 404: `get x: no such volume`.
    #[error("{0}")]
    NotFound(String),
    /// 409: `remove x: volume is in use - [ids]`.
    #[error("{0}")]
    Conflict(String),
    /// 400: bad names, options, filters.
    #[error("{0}")]
    Invalid(String),
    /// 500.
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

/// A container using a volume: its ID and whether it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeUser {
    pub container_id: String,
    pub running: bool,
}

/// The container manager's answer to "who uses volume x".
pub type UsageCheck = Box<dyn Fn(&str) -> Vec<VolumeUser> + Send + Sync>;

/// What a container's mount of a volume is, for the `mount` event.
#[derive(Clone, Debug, Default)]
pub struct MountUse<'a> {
    pub container_id: &'a str,
    pub destination: &'a str,
    pub read_write: bool,
}

/// All volumes of one daemon.
pub struct Volumes {
    /// `<root>/volumes`.
    dir: PathBuf,
    state: Mutex<State>,
    events: OnceLock<Arc<EventBus>>,
    usage: RwLock<Option<UsageCheck>>,
}

#[derive(Default)]
struct State {
    records: BTreeMap<String, VolumeRecord>,
    /// Containers that acquired the volume since this daemon started and have not
    /// released it.
    holders: BTreeMap<String, BTreeSet<String>>,
}

impl Volumes {
    /// Opens `<root>/volumes`, loading every volume's record.
    pub async fn open(root: &Path) -> anyhow::Result<Arc<Volumes>> {
        let dir = root.join("volumes");
        let loaded = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<VolumeRecord>> {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o701)
                    .create(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                record::load_all(&dir)
            })
            .await
            .context("loading the volumes")??
        };
        let records = loaded.into_iter().map(|r| (r.name.clone(), r)).collect();
        Ok(Arc::new(Volumes {
            dir,
            state: Mutex::new(State {
                records,
                holders: BTreeMap::new(),
            }),
            events: OnceLock::new(),
            usage: RwLock::new(None),
        }))
    }

    /// Where `volume` events go (set once at daemon start).
    pub fn attach_events(&self, events: Arc<EventBus>) {
        let _ = self.events.set(events);
    }

    /// Installs the container manager's usage check.
    pub fn set_usage_check(&self, check: UsageCheck) {
        *self.usage.write().unwrap_or_else(|p| p.into_inner()) = Some(check);
    }

    /// `<root>/volumes/<name>/_data`.
    pub fn data_path(&self, name: &str) -> PathBuf {
        record::data_dir(&self.dir, name)
    }

    /// `POST /volumes/create`: an existing name answers the existing volume; no name
    /// makes an anonymous one (64 hex, labelled as Docker 23+ does).
    pub fn create(&self, request: VolumeCreateRequest) -> Result<Volume, VolumeError> {
        let driver = if request.driver.is_empty() {
            LOCAL_DRIVER
        } else {
            request.driver.as_str()
        };
        if driver != LOCAL_DRIVER {
            return Err(VolumeError::NotFound(format!(
                "error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        let mut labels = request.labels.unwrap_or_default();
        let name = if request.name.is_empty() {
            labels.insert(ANONYMOUS_LABEL.into(), String::new());
            record::anonymous_name()?
        } else {
            request.name
        };
        let options = request.driver_opts.unwrap_or_default();
        self.ensure(&name, labels, options).map(|(v, _)| v)
    }

    /// A fresh anonymous volume for a container.
    pub fn create_anonymous(&self) -> Result<Volume, VolumeError> {
        self.create(VolumeCreateRequest::default())
    }

    /// The volume `name`, created with `labels` and `options` when missing; `true` when
    /// it was created now.
    pub fn ensure(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<(Volume, bool), VolumeError> {
        validate_name(name).map_err(|e| VolumeError::Invalid(format!("create {name}: {e}")))?;
        let mut state = self.lock();
        if let Some(existing) = state.records.get(name) {
            return Ok((self.view(existing), false));
        }
        driver::validate_options(&options)
            .map_err(|e| VolumeError::Invalid(format!("create {name}: {e}")))?;
        let anonymous = labels.contains_key(ANONYMOUS_LABEL);
        let rec = VolumeRecord {
            name: name.to_owned(),
            driver: LOCAL_DRIVER.into(),
            labels,
            options,
            created_at: record::now(),
            anonymous,
        };
        if let Err(e) = record::create_on_disk(&self.dir, &rec) {
            let _ = std::fs::remove_dir_all(self.dir.join(name));
            return Err(VolumeError::Internal(e.context(format!("create {name}"))));
        }
        let view = self.view(&rec);
        state.records.insert(name.to_owned(), rec);
        drop(state);
        self.publish("create", name, &[]);
        Ok((view, true))
    }

    /// `GET /volumes/{name}`.
    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        let state = self.lock();
        state
            .records
            .get(name)
            .map(|r| self.view(r))
            .ok_or_else(|| no_such_volume(name))
    }

    /// `GET /volumes?filters=`, sorted by name.
    pub fn list(&self, filters: &FilterMap) -> Result<Vec<Volume>, VolumeError> {
        let filter = filters::ListFilter::new(filters)?;
        let records: Vec<VolumeRecord> = self.lock().records.values().cloned().collect();
        Ok(records
            .iter()
            .filter(|r| filter.matches(r, !self.users(&r.name).is_empty()))
            .map(|r| self.view(r))
            .collect())
    }

    /// `DELETE /volumes/{name}`: refused (409) while a container uses it; `force` makes
    /// a missing volume no error. Unmounts the device and removes the directory.
    pub fn remove(&self, name: &str, force: bool) -> Result<(), VolumeError> {
        if !self.lock().records.contains_key(name) {
            return if force {
                Ok(())
            } else {
                Err(no_such_volume(name))
            };
        }
        let users = self.users(name);
        if !users.is_empty() {
            let ids: Vec<String> = users.into_iter().map(|u| u.container_id).collect();
            return Err(VolumeError::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                ids.join(", ")
            )));
        }
        let mut state = self.lock();
        if state.records.remove(name).is_none() {
            return Ok(());
        }
        state.holders.remove(name);
        let data = self.data_path(name);
        let removed = driver::unmount_device(&data)
            .map_err(|e| anyhow::anyhow!("remove {name}: {e}"))
            .and_then(|()| {
                std::fs::remove_dir_all(self.dir.join(name))
                    .or_else(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(e),
                    })
                    .map_err(|e| anyhow::anyhow!("remove {name}: {e}"))
            });
        drop(state);
        removed?;
        self.publish("destroy", name, &[]);
        Ok(())
    }

    /// `POST /volumes/prune`: unused volumes the filters pick (anonymous ones only unless
    /// `all=true`), with the bytes their data held.
    pub fn prune(&self, filters: &FilterMap) -> Result<VolumePruneReport, VolumeError> {
        let filter = filters::PruneFilter::new(filters)?;
        let candidates: Vec<VolumeRecord> = self
            .lock()
            .records
            .values()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for r in candidates {
            if !self.users(&r.name).is_empty() {
                continue;
            }
            let data = self.data_path(&r.name);
            let size = if driver::is_mount_point(&data) {
                0
            } else {
                dir_size(&data)
            };
            match self.remove(&r.name, false) {
                Ok(()) => {
                    deleted.push(r.name);
                    reclaimed += size;
                }
                Err(e) => tracing::warn!(volume = %r.name, "prune: {e}"),
            }
        }
        Ok(VolumePruneReport {
            volumes_deleted: (!deleted.is_empty()).then_some(deleted),
            space_reclaimed: reclaimed,
        })
    }

    /// A container starts with the volume: mounts its device on first use and answers
    /// the host path of `_data`.
    pub fn acquire(&self, name: &str, mount: &MountUse<'_>) -> Result<PathBuf, VolumeError> {
        let mut state = self.lock();
        let rec = state
            .records
            .get(name)
            .cloned()
            .ok_or_else(|| no_such_volume(name))?;
        let data = self.data_path(name);
        if driver::needs_mount(&rec.options) && !driver::is_mount_point(&data) {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
            driver::mount_device(&data, &rec.options).map_err(|e| {
                VolumeError::Internal(anyhow::anyhow!(
                    "error while mounting volume '{}': {e}",
                    data.display()
                ))
            })?;
        }
        state
            .holders
            .entry(name.to_owned())
            .or_default()
            .insert(mount.container_id.to_owned());
        drop(state);
        self.publish(
            "mount",
            name,
            &[
                ("container", mount.container_id.to_owned()),
                ("destination", mount.destination.to_owned()),
                ("propagation", String::new()),
                ("read/write", mount.read_write.to_string()),
            ],
        );
        Ok(data)
    }

    /// A container using the volume stopped: unmounts the device when no other running
    /// container holds it. Releasing twice, or a volume gone meanwhile, is no error.
    pub fn release(&self, name: &str, container_id: &str) {
        let others_running = self
            .users(name)
            .iter()
            .any(|u| u.running && u.container_id != container_id);
        let mut state = self.lock();
        let Some(rec) = state.records.get(name).cloned() else {
            return;
        };
        let was_holder = state
            .holders
            .get_mut(name)
            .is_some_and(|h| h.remove(container_id));
        let idle = state.holders.get(name).is_none_or(BTreeSet::is_empty);
        if idle {
            state.holders.remove(name);
        }
        if idle && !others_running && driver::needs_mount(&rec.options) {
            if let Err(e) = driver::unmount_device(&self.data_path(name)) {
                tracing::warn!(volume = %name, "{e}");
            }
        }
        drop(state);
        if was_holder {
            self.publish("unmount", name, &[("container", container_id.to_owned())]);
        }
    }

    /// The containers using `name`, per the container manager.
    fn users(&self, name: &str) -> Vec<VolumeUser> {
        let usage = self.usage.read().unwrap_or_else(|p| p.into_inner());
        usage.as_ref().map(|check| check(name)).unwrap_or_default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change is one insert or remove: a panic cannot leave the map half done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn view(&self, r: &VolumeRecord) -> Volume {
        Volume {
            name: r.name.clone(),
            driver: r.driver.clone(),
            mountpoint: self.data_path(&r.name).display().to_string(),
            created_at: r.created_at.clone(),
            status: None,
            labels: (!r.labels.is_empty()).then(|| r.labels.clone()),
            scope: "local".into(),
            options: (!r.options.is_empty()).then(|| r.options.clone()),
        }
    }

    fn publish(&self, action: &str, name: &str, extra: &[(&str, String)]) {
        if let Some(events) = self.events.get() {
            let mut attrs = BTreeMap::from([("driver".to_string(), LOCAL_DRIVER.to_string())]);
            for (k, v) in extra {
                attrs.insert((*k).to_string(), v.clone());
            }
            events.publish("volume", action, name, attrs);
        }
    }
}

fn no_such_volume(name: &str) -> VolumeError {
    VolumeError::NotFound(format!("get {name}: no such volume"))
}

/// Bytes in regular files under `path` (symlinks not followed; missing means 0).
fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return if meta.is_file() { meta.len() } else { 0 };
    }
    std::fs::read_dir(path)
        .map(|es| es.filter_map(Result::ok).map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
