//! The image store under `<root>/image`: content-addressed blobs, unpacked layers keyed by
//! chain ID, and image and tag metadata in one transactional database.
//!
//! OWNER: helper "image-core". Crash safety: blobs and layer directories are written under a
//! temporary name and renamed into place; metadata changes are single redb transactions; on
//! `open` temporary leftovers are removed. So a daemon killed at any instant restarts with no
//! half image listed. Blocking code: async callers use `spawn_blocking`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::reference::Reference;

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

/// A blob being written: bytes go to a temporary file and are hashed on the way.
pub struct Ingest {
    _private: (),
}

impl std::io::Write for Ingest {
    fn write(&mut self, _buf: &[u8]) -> std::io::Result<usize> {
        todo!("image-core")
    }
    fn flush(&mut self) -> std::io::Result<()> {
        todo!("image-core")
    }
}

impl Ingest {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        todo!("image-core")
    }

    /// Verifies the digest (when `expected` is given) and renames into `blobs/sha256/<hex>`;
    /// on mismatch the temporary file is removed and nothing is stored.
    pub fn commit(self, _expected: Option<&Digest>) -> Result<Digest, StoreError> {
        todo!("image-core")
    }
}

/// What `delete_image`/`untag` did, in Docker's `DELETE /images` response order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteReport {
    /// Familiar references removed (`busybox:latest`, `busybox@sha256:..`).
    pub untagged: Vec<String>,
    /// Image IDs deleted.
    pub deleted: Vec<Digest>,
}

/// What `gc` freed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    pub layers_removed: usize,
    pub blobs_removed: usize,
    pub bytes_freed: u64,
}

/// The store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct ImageStore {
    root: PathBuf,
}

impl ImageStore {
    /// Opens (creating when missing) the store at `root` (the daemon's `<root>/image`), removing
    /// temporary leftovers of a killed daemon.
    pub fn open(root: &Path) -> Result<ImageStore, StoreError> {
        let _ = root;
        todo!("image-core")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    // --- blobs ---
    pub fn has_blob(&self, _d: &Digest) -> bool {
        todo!("image-core")
    }
    pub fn blob_path(&self, _d: &Digest) -> PathBuf {
        todo!("image-core")
    }
    pub fn ingest(&self) -> Result<Ingest, StoreError> {
        todo!("image-core")
    }
    /// Stores small blobs (manifests, configs) in one call.
    pub fn write_blob(&self, _bytes: &[u8]) -> Result<Digest, StoreError> {
        todo!("image-core")
    }
    pub fn read_blob(&self, _d: &Digest) -> Result<Vec<u8>, StoreError> {
        todo!("image-core")
    }
    pub fn open_blob(&self, _d: &Digest) -> Result<std::fs::File, StoreError> {
        todo!("image-core")
    }

    // --- layers ---
    /// The unpacked directory of a layer chain (an overlayfs lowerdir).
    pub fn layer_dir(&self, _chain_id: &Digest) -> PathBuf {
        todo!("image-core")
    }
    pub fn has_layer(&self, _chain_id: &Digest) -> bool {
        todo!("image-core")
    }
    /// Unpacks the stored blob `blob` (gzip, zstd or plain, by magic bytes) on top of
    /// `parent` (the previous chain ID) into its chain-ID directory, unless it is already
    /// there; returns (diff_id, chain_id, uncompressed size). Uses `crate::image::unpack`.
    pub fn unpack_layer(
        &self,
        _blob: &Digest,
        _parent: Option<&Digest>,
    ) -> Result<(Digest, Digest, u64), StoreError> {
        todo!("image-core")
    }

    // --- images and references ---
    /// Records `image` and points every reference in `tags` at it, in one transaction.
    /// A reference that pointed elsewhere is moved (the old image may become dangling).
    pub fn put_image(&self, _image: &ImageRecord, _tags: &[Reference]) -> Result<(), StoreError> {
        todo!("image-core")
    }
    pub fn image(&self, _id: &Digest) -> Result<Option<ImageRecord>, StoreError> {
        todo!("image-core")
    }
    /// Finds an image the way Docker does: full or short ID (`sha256:` optional, unique
    /// prefix), `name:tag`, `name@digest` (a repo digest).
    pub fn resolve(&self, _name_or_id: &str) -> Result<ImageRecord, StoreError> {
        todo!("image-core")
    }
    pub fn list(&self) -> Result<Vec<ImageRecord>, StoreError> {
        todo!("image-core")
    }
    /// The tags (normalised references with a tag) pointing at `id`, sorted.
    pub fn tags_of(&self, _id: &Digest) -> Result<Vec<Reference>, StoreError> {
        todo!("image-core")
    }
    pub fn tag(&self, _id: &Digest, _reference: &Reference) -> Result<(), StoreError> {
        todo!("image-core")
    }
    /// Removes a reference or the image, like `docker rmi`: a reference when `name` is one and
    /// other references remain (or `force` is false and ...), the image when its last
    /// reference goes or it is named by ID (`force` needed when it has several tags).
    pub fn delete(&self, _name: &str, _force: bool) -> Result<DeleteReport, StoreError> {
        todo!("image-core")
    }
    /// Removes unpacked layers and blobs no image record refers to.
    pub fn gc(&self) -> Result<GcReport, StoreError> {
        todo!("image-core")
    }
}
