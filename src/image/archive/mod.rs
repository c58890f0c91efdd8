//! Image archives: `docker save` tarballs (manifest.json + repositories, also the OCI layout
//! Docker 25+ writes alongside) and OCI image-layout tarballs, both ways; `import` of a root
//! filesystem tarball as a one-layer image with `--change` instructions.
//!
//! Blocking code: async callers use `spawn_blocking`.
//!
//! Archives arrive as streams: `load` reads the tar once, front to back, spooling every blob
//! into the store's ingest as it goes (layers are never held in memory; only the small
//! metadata files are), then decides which format it was and records the images.
//! Nothing is recorded unless every image of the archive checked out; blobs and layer
//! directories left over by a failed load belong to no image and go with the next `gc`.
//! This module never touches the registry and never prints: progress goes to a `ProgressSink`.

mod changes;
mod docker_archive;
mod import;
mod load;
mod oci_layout;
mod save;
mod spool;
mod words;

use std::io::{Read, Write};

use super::progress::ProgressSink;
use super::reference::Reference;
use super::store::{ImageRecord, ImageStore, StoreError};

pub use changes::{apply_changes, Healthcheck, RunConfig};

/// Why an archive could not be loaded, saved or imported.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The input is not an archive we understand, or names something it lacks.
    #[error("{0}")]
    Invalid(String),
    /// The store refused (unknown image on save, digest mismatch, I/O).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the input or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One image a `load` brought in, with the references it was tagged with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    pub image: ImageRecord,
    pub tags: Vec<Reference>,
}

/// Loads every image of a docker-archive or OCI-layout tarball (plain, gzip or zstd).
pub fn load(
    store: &ImageStore,
    tar: impl Read,
    progress: &ProgressSink,
) -> Result<Vec<LoadedImage>, ArchiveError> {
    load::load(store, tar, progress)
}

/// Writes the named images (references or IDs) as one `docker save` tarball.
pub fn save(store: &ImageStore, names: &[String], out: impl Write) -> Result<(), ArchiveError> {
    save::save(store, names, out)
}

/// Makes a one-layer image from a root filesystem tarball (any compression), applying
/// `changes` (`CMD ["sh"]`, `ENV A=b`, ... as `docker import --change`), and tags it.
pub fn import(
    store: &ImageStore,
    tar: impl Read,
    reference: Option<&Reference>,
    changes: &[String],
    message: &str,
) -> Result<ImageRecord, ArchiveError> {
    import::import(store, tar, reference, changes, message)
}

/// Media types this module reads and writes.
pub(crate) mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
}
