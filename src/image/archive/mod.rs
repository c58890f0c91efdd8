//! Image archives: `docker save` tarballs (manifest.json + repositories, also the OCI layout
//! Docker 25+ writes alongside) and OCI image-layout tarballs, both ways; `import` of a root
//! filesystem tarball as a one-layer image with `--change` instructions.
//!
//! OWNER: helper "archive". Blocking code.

use std::io::{Read, Write};

use super::progress::ProgressSink;
use super::reference::Reference;
use super::store::{ImageRecord, ImageStore};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{0}")]
    Invalid(String),
}

/// One image a `load` brought in, with the references it was tagged with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    pub image: ImageRecord,
    pub tags: Vec<Reference>,
}

/// Loads every image of a docker-archive or OCI-layout tarball.
pub fn load(
    _store: &ImageStore,
    _tar: impl Read,
    _progress: &ProgressSink,
) -> Result<Vec<LoadedImage>, ArchiveError> {
    todo!("archive")
}

/// Writes the named images (references or IDs) as one `docker save` tarball.
pub fn save(_store: &ImageStore, _names: &[String], _out: impl Write) -> Result<(), ArchiveError> {
    todo!("archive")
}

/// Makes a one-layer image from a root filesystem tarball (any compression), applying
/// `changes` (`CMD ["sh"]`, `ENV A=b`, ... as `docker import --change`), and tags it.
pub fn import(
    _store: &ImageStore,
    _tar: impl Read,
    _reference: Option<&Reference>,
    _changes: &[String],
    _message: &str,
) -> Result<ImageRecord, ArchiveError> {
    todo!("archive")
}
