//! Garbage collection: blobs and unpacked layers that no image record names are removed.
//!
//! Concurrency: pulls write blobs and layers long before `put_image` names them. Every
//! writer holds `Shared::writing` (a shared lock) while it makes an object appear and pins
//! it; `gc` holds the lock exclusively and skips pinned objects. `put_image` releases the
//! pins of what it records; a pin nobody releases (a failed pull) lapses after `PIN_GRACE`.
//! gc never removes anything a concurrent `put_image` is checking, because `put_image`
//! checks and records under the shared lock.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::blobs::{remove_path, BLOBS_DIR};
use super::layers::{LAYERS_DIR, TMP_PREFIX};
use super::{io_err, GcReport, ImageRecord, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::reference::is_hex64;

/// How long an object written or found by a pull stays safe from `gc` without an image
/// naming it: longer than any pull, short enough that a failed one's blobs go the next day.
const PIN_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// A stored object `gc` may remove.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Pinned {
    Blob(Digest),
    /// An unpacked layer, by chain ID.
    Layer(Digest),
}

/// What the store shares with `Ingest`s.
#[derive(Default)]
pub(super) struct Shared {
    /// Shared by writers of objects, exclusive for `gc`.
    gc_lock: RwLock<()>,
    pins: Mutex<HashMap<Pinned, Instant>>,
}

impl Shared {
    pub(super) fn writing(&self) -> RwLockReadGuard<'_, ()> {
        // The lock guards no data, so a panic elsewhere leaves nothing inconsistent.
        self.gc_lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn collecting(&self) -> RwLockWriteGuard<'_, ()> {
        self.gc_lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn pin(&self, object: Pinned) {
        self.pins_map().insert(object, Instant::now());
    }

    /// Releases the pins of objects an image record now names.
    pub(super) fn unpin_all(&self, objects: &BTreeSet<Pinned>) {
        let mut pins = self.pins_map();
        for object in objects {
            pins.remove(object);
        }
    }

    fn is_pinned(&self, object: &Pinned) -> bool {
        self.pins_map()
            .get(object)
            .is_some_and(|at| at.elapsed() < PIN_GRACE)
    }

    fn pins_map(&self) -> std::sync::MutexGuard<'_, HashMap<Pinned, Instant>> {
        self.pins.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every object an image record keeps alive: config, manifest, layer blobs and layers.
pub(super) fn objects_of(image: &ImageRecord) -> BTreeSet<Pinned> {
    let mut objects = BTreeSet::from([Pinned::Blob(image.id.clone())]);
    objects.extend(image.manifest.iter().cloned().map(Pinned::Blob));
    for layer in &image.layers {
        objects.insert(Pinned::Blob(layer.blob.clone()));
        objects.insert(Pinned::Layer(layer.chain_id.clone()));
    }
    objects
}

impl ImageStore {
    /// Removes unpacked layers and blobs no image record refers to.
    pub fn gc(&self) -> Result<GcReport, StoreError> {
        let _guard = self.shared.collecting();
        let candidates = self.stored_objects()?;
        self.collect(candidates).map(|(report, _)| report)
    }

    /// Removes those of `candidates` that no image names any more; returns what was removed
    /// (layers in the order given). Used by `delete` for the objects of a deleted image.
    pub(super) fn collect_objects(
        &self,
        candidates: Vec<Pinned>,
    ) -> Result<(GcReport, Vec<Digest>), StoreError> {
        let _guard = self.shared.collecting();
        self.collect(candidates)
    }

    /// The caller holds the exclusive lock.
    fn collect(&self, candidates: Vec<Pinned>) -> Result<(GcReport, Vec<Digest>), StoreError> {
        let mut live = BTreeSet::new();
        for image in self.list()? {
            live.extend(objects_of(&image));
        }
        let mut report = GcReport::default();
        let mut layers_removed = Vec::new();
        for object in candidates {
            if live.contains(&object) || self.shared.is_pinned(&object) {
                continue;
            }
            match &object {
                Pinned::Blob(d) => {
                    let Ok(meta) = std::fs::metadata(self.blob_path(d)) else {
                        continue;
                    };
                    remove_path(&self.blob_path(d))?;
                    self.forget_diff_id(d)?;
                    report.blobs_removed += 1;
                    report.bytes_freed += meta.len();
                }
                Pinned::Layer(chain) => {
                    let Some(size) = self.remove_layer(chain)? else {
                        continue;
                    };
                    report.layers_removed += 1;
                    report.bytes_freed += size;
                    layers_removed.push(chain.clone());
                }
            }
        }
        Ok((report, layers_removed))
    }

    /// Every blob file and layer directory on disk.
    fn stored_objects(&self) -> Result<Vec<Pinned>, StoreError> {
        let mut objects = Vec::new();
        for name in list_names(&self.root.join(BLOBS_DIR))? {
            if let Ok(d) = Digest::from_hex(&name) {
                objects.push(Pinned::Blob(d));
            }
        }
        for name in list_names(&self.root.join(LAYERS_DIR))? {
            if name.starts_with(TMP_PREFIX) || !is_hex64(&name) {
                continue;
            }
            if let Ok(d) = Digest::from_hex(&name) {
                objects.push(Pinned::Layer(d));
            }
        }
        Ok(objects)
    }
}

fn list_names(dir: &std::path::Path) -> Result<Vec<String>, StoreError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| io_err(format!("listing {}", dir.display()), e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_err(format!("listing {}", dir.display()), e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}
