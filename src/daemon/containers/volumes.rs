//! The container side of volumes: at create, named volumes are made when missing and
//! anonymous ones (image `VOLUME`, `-v /path`, `--mount type=volume` without a source)
//! fresh, all recorded in the container's record; at start each is acquired from the
//! volume manager (its device mounted on first use) and bound at its destination, or its
//! `volume-subpath`; at exit they are released; `rm -v` removes the anonymous ones.
//!
//! The volume manager asks this side which containers use a volume (the usage check
//! installed at open), so references need no counting and survive restarts.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::Record;
use super::{ContainerError, Containers};
use crate::engine::spec::{MountSpec, RunSpec};
use crate::volume::{MountUse, VolumeError, VolumeUser};

/// One volume mount of a container, kept in its record by destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeAttachment {
    pub name: String,
    /// The volume's `_data` on the host (inspect's `Source`).
    pub source: String,
    /// Made for this container: `rm -v` removes it.
    pub anonymous: bool,
    /// Inspect's `Mode`: `z` for named volumes, the `-v` mode when one was given.
    pub mode: String,
    /// `volume-subpath`, relative to `_data`.
    pub subpath: String,
}

/// Where each volume mount's source is on the host for this start, by destination.
#[derive(Clone, Debug, Default)]
pub struct VolumeSources {
    pub paths: BTreeMap<String, PathBuf>,
    /// Destinations whose image content is copied into the (empty) volume first.
    pub copy_up: Vec<String>,
}

/// `VolumeOptions` of a `--mount` entry, as the API carries it.
#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct VolumeOptions {
    labels: Option<BTreeMap<String, String>>,
    driver_config: Option<DriverConfig>,
    subpath: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DriverConfig {
    options: Option<BTreeMap<String, String>>,
}

impl From<VolumeError> for ContainerError {
    fn from(e: VolumeError) -> ContainerError {
        match e {
            VolumeError::NotFound(m) => ContainerError::NotFound(m),
            VolumeError::Conflict(m) => ContainerError::Conflict(m),
            VolumeError::Invalid(m) => ContainerError::Invalid(m),
            VolumeError::Internal(e) => ContainerError::Internal(e),
        }
    }
}

impl Containers {
    /// Makes the container's volumes: named ones when missing (with the `--mount`
    /// entry's labels and driver options), anonymous ones fresh. On failure the
    /// anonymous volumes made so far are removed again.
    pub(super) fn create_volumes(
        &self,
        record: &Record,
        spec: &RunSpec,
    ) -> Result<BTreeMap<String, VolumeAttachment>, ContainerError> {
        let mut out = BTreeMap::new();
        let made = (|| {
            for m in &spec.mounts {
                let MountSpec::Volume {
                    name, destination, ..
                } = m
                else {
                    continue;
                };
                let opts = mount_options(record, destination);
                let subpath = check_subpath(&opts.subpath)?;
                let attachment = match name {
                    Some(name) => {
                        let labels = opts.labels.unwrap_or_default();
                        let options = opts
                            .driver_config
                            .and_then(|d| d.options)
                            .unwrap_or_default();
                        self.volumes.ensure(name, labels, options)?;
                        VolumeAttachment {
                            name: name.clone(),
                            mode: bind_mode(record, destination).unwrap_or_else(|| "z".into()),
                            ..VolumeAttachment::default()
                        }
                    }
                    None => VolumeAttachment {
                        name: self.volumes.create_anonymous()?.name,
                        anonymous: true,
                        ..VolumeAttachment::default()
                    },
                };
                out.insert(
                    destination.clone(),
                    VolumeAttachment {
                        source: self
                            .volumes
                            .data_path(&attachment.name)
                            .display()
                            .to_string(),
                        subpath,
                        ..attachment
                    },
                );
            }
            Ok::<(), ContainerError>(())
        })();
        if let Err(e) = made {
            self.remove_anonymous_volumes(&out);
            return Err(e);
        }
        Ok(out)
    }

    /// Removes the anonymous volumes of `attachments` (`rm -v`, a failed create); one
    /// still used elsewhere stays, with a warning.
    pub(super) fn remove_anonymous_volumes(
        &self,
        attachments: &BTreeMap<String, VolumeAttachment>,
    ) {
        for a in attachments.values().filter(|a| a.anonymous) {
            if let Err(e) = self.volumes.remove(&a.name, true) {
                tracing::warn!(volume = %a.name, "removing an anonymous volume: {e}");
            }
        }
    }

    /// Acquires every volume of the container for a start: the host path to bind (the
    /// `volume-subpath` inside `_data` when one is asked) and whether to copy up. On
    /// failure the volumes acquired so far are released.
    pub(super) fn acquire_volumes(
        &self,
        record: &Record,
        spec: &RunSpec,
    ) -> Result<VolumeSources, ContainerError> {
        let mut sources = VolumeSources::default();
        let mut acquired = Vec::new();
        let result = (|| {
            for m in &spec.mounts {
                let MountSpec::Volume {
                    destination,
                    read_only,
                    copy_data,
                    ..
                } = m
                else {
                    continue;
                };
                let Some(a) = record.volumes.get(destination) else {
                    return Err(ContainerError::Internal(anyhow::anyhow!(
                        "no volume recorded for {destination}"
                    )));
                };
                let mount = MountUse {
                    container_id: &record.id,
                    destination,
                    read_write: !read_only,
                };
                let data = self.volumes.acquire(&a.name, &mount)?;
                acquired.push(a.name.clone());
                let path = if a.subpath.is_empty() {
                    if *copy_data && is_empty_dir(&data) {
                        sources.copy_up.push(destination.clone());
                    }
                    data
                } else {
                    resolve_subpath(&data, &a.subpath)?
                };
                sources.paths.insert(destination.clone(), path);
            }
            Ok(())
        })();
        if let Err(e) = result {
            for name in acquired {
                self.volumes.release(&name, &record.id);
            }
            return Err(e);
        }
        Ok(sources)
    }

    /// The container stopped (or is removed): its volumes are released.
    pub(super) fn release_volumes(&self, record: &Record) {
        for a in record.volumes.values() {
            self.volumes.release(&a.name, &record.id);
        }
    }

    /// Lets the volume manager ask which containers use a volume.
    pub(super) fn install_volume_usage(&self) {
        let me = self.me.clone();
        self.volumes.set_usage_check(Box::new(move |name: &str| {
            let Some(me) = me.upgrade() else {
                return Vec::new();
            };
            me.all_entries()
                .into_iter()
                .map(|e| e.snapshot())
                .filter(|r| r.volumes.values().any(|a| a.name == name))
                .map(|r| VolumeUser {
                    container_id: r.id.clone(),
                    running: r.state.status.is_running(),
                })
                .collect()
        }));
    }
}

/// The `--mount` entry's `VolumeOptions` for `destination` (none for `-v` and images).
fn mount_options(record: &Record, destination: &str) -> VolumeOptions {
    record
        .request
        .host_config
        .mounts
        .iter()
        .filter(|m| m.r#type == "volume" && clean(&m.target) == destination)
        .find_map(|m| m.volume_options.clone())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The mode of the `-v name:/dest[:mode]` entry for `destination`, when one names it.
fn bind_mode(record: &Record, destination: &str) -> Option<String> {
    record.request.host_config.binds.iter().find_map(|raw| {
        let parts: Vec<&str> = raw.splitn(3, ':').collect();
        match parts.as_slice() {
            [_, target] if clean(target) == destination => Some("z".to_string()),
            [_, target, mode] if clean(target) == destination => Some(mode.to_string()),
            _ => None,
        }
    })
}

/// A path as Docker cleans mount targets (no trailing slash, no `.`).
fn clean(path: &str) -> String {
    let p: PathBuf = Path::new(path).components().collect();
    p.display().to_string()
}

/// Docker's rule: a subpath stays inside the volume.
fn check_subpath(subpath: &str) -> Result<String, ContainerError> {
    if subpath.is_empty() {
        return Ok(String::new());
    }
    let p = Path::new(subpath);
    if p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(ContainerError::Invalid(format!(
            "invalid mount config for type \"volume\": subpath must be a relative path within \
             the volume: {subpath}"
        )));
    }
    Ok(subpath.to_string())
}

/// `_data/<subpath>`, which must exist and, symlinks resolved, stay inside `_data`.
fn resolve_subpath(data: &Path, subpath: &str) -> Result<PathBuf, ContainerError> {
    let full = data.join(subpath);
    let not_accessible = |e: std::io::Error| {
        ContainerError::Invalid(format!(
            "cannot access path {}: lstat {}: {}",
            full.display(),
            full.display(),
            crate::compose::gofmt::io_error_text(&e)
        ))
    };
    let real = std::fs::canonicalize(&full).map_err(not_accessible)?;
    let base = std::fs::canonicalize(data).map_err(not_accessible)?;
    if !real.starts_with(&base) {
        return Err(ContainerError::Invalid(format!(
            "cannot access path {}: path escapes from parent",
            full.display()
        )));
    }
    Ok(real)
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subpaths_stay_inside_the_volume() {
        assert_eq!(check_subpath("a/b").unwrap(), "a/b");
        assert!(check_subpath("../x").is_err());
        assert!(check_subpath("/x").is_err());
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("out")).unwrap();
        assert!(resolve_subpath(d.path(), "sub").is_ok());
        let e = resolve_subpath(d.path(), "missing")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cannot access path "), "{e}");
        assert!(e.ends_with("no such file or directory"), "{e}");
        assert!(resolve_subpath(d.path(), "out").is_err());
    }

    #[test]
    fn targets_are_cleaned_like_dockers() {
        assert_eq!(clean("/data/"), "/data");
        assert_eq!(clean("/a/./b"), "/a/b");
    }
}
