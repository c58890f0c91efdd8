//! The image store under `<root>/image`: content-addressed blobs, unpacked layers keyed by
//! chain ID, and image and tag metadata in one transactional database.
//!
//! Crash safety: blobs and layer directories are written under a
//! temporary name and renamed into place; metadata changes are single redb transactions; on
//! `open` temporary leftovers are removed. So a daemon killed at any instant restarts with no
//! half image listed. Blocking code: async callers use `spawn_blocking`.

mod blobs;
mod delete;
mod gc;
mod layers;
mod meta;
mod resolve;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::digest::Digest;

pub use blobs::Ingest;
pub use layers::{chain_id, chain_ids, StreamedLayer};

/// One layer of an image, as pulled or loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Digest of the blob as stored (compressed or not), what the manifest names.
    pub blob: Digest,
    /// Media type of the blob from the manifest (`application/vnd.oci.image.layer.v1.tar+gzip`).
    pub media_type: String,
    /// Size of the blob in bytes.
    pub blob_size: u64,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Digest,
    /// Chain ID (the unpacked directory's key).
    pub chain_id: Digest,
    /// Bytes of the unpacked layer (uncompressed tar size).
    pub size: u64,
}

/// An image: its ID is the digest of its config blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: Digest,
    /// Digest and media type of the manifest it came with, when it came from a registry or an
    /// archive that had one (the config blob and this manifest blob are both in the store).
    pub manifest: Option<Digest>,
    pub manifest_media_type: Option<String>,
    /// `docker.io/library/busybox@sha256:...` for every repository it was pulled from or pushed to.
    pub repo_digests: Vec<String>,
    pub layers: Vec<LayerRecord>,
    /// Sum of the layers' unpacked sizes.
    pub size: u64,
    /// RFC 3339 time the store learnt of it (for prune `until`).
    pub added: String,
}

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("another berth daemon holds {0}")]
    Locked(PathBuf),
    #[error("{0}")]
    Conflict(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metadata store: {0}")]
    Db(String),
    #[error("{0}")]
    Invalid(String),
}

/// What `delete_image`/`untag` did, in Docker's `DELETE /images` response order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Familiar references removed (`busybox:latest`, `busybox@sha256:..`).
    pub untagged: Vec<String>,
    /// The image ID deleted, then the chain IDs of the layers that went with it (top layer
    /// first), as Docker lists them in `Deleted` entries.
    pub deleted: Vec<Digest>,
}

/// What `gc` freed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    pub layers_removed: usize,
    pub blobs_removed: usize,
    pub bytes_freed: u64,
}

/// A container that uses an image, as the container side reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerUse {
    pub container_id: String,
    pub running: bool,
}

/// Asked before an image is removed: a running container using the image when there is
/// one, else a stopped one, else `None`. Installed by the daemon once containers exist.
pub type UsageCheck = Box<dyn Fn(&Digest) -> Option<ContainerUse> + Send + Sync>;

/// The store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct ImageStore {
    root: PathBuf,
    db: redb::Database,
    /// Locks and pins shared with `Ingest`s, which outlive no store borrow.
    shared: Arc<gc::Shared>,
    /// Serialises the rename-and-record step of layer unpacking.
    layer_commit: std::sync::Mutex<()>,
    usage: RwLock<Option<UsageCheck>>,
}

impl ImageStore {
    /// Opens (creating when missing) the store at `root` (the daemon's `<root>/image`), removing
    /// temporary leftovers of a killed daemon.
    pub fn open(root: &Path) -> Result<ImageStore, StoreError> {
        for dir in [blobs::BLOBS_DIR, blobs::INGEST_DIR, layers::LAYERS_DIR] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path)
                .map_err(|e| io_err(format!("creating {}", path.display()), e))?;
        }
        // The database first: it refuses a second opener, so a store in use by another
        // daemon is never cleaned under its feet.
        let db = meta::open_db(root)?;
        let store = ImageStore {
            root: root.to_path_buf(),
            db,
            shared: Arc::new(gc::Shared::default()),
            layer_commit: std::sync::Mutex::new(()),
            usage: RwLock::new(None),
        };
        store.remove_leftovers()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Installs the check `delete` asks before removing an image (containers, next step).
    pub fn set_usage_check(&self, check: UsageCheck) {
        *self
            .usage
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(check);
    }

    fn container_using(&self, id: &Digest) -> Option<ContainerUse> {
        let usage = self
            .usage
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        usage.as_ref().and_then(|check| check(id))
    }

    /// Removes what a killed daemon left half done: ingest files, unpack directories, layer
    /// directories whose record was never written, and records whose directory is gone.
    fn remove_leftovers(&self) -> Result<(), StoreError> {
        blobs::remove_all_in(&self.root.join(blobs::INGEST_DIR), |_| true)?;
        self.remove_layer_leftovers()
    }
}

fn io_err(context: String, source: std::io::Error) -> StoreError {
    StoreError::Io { context, source }
}
