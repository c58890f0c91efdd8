//! Unpacking one layer blob into a directory that overlayfs can use as a lower layer.
//!
//! OWNER: helper "unpack". Detects gzip, zstd or plain tar by magic bytes; turns OCI
//! whiteouts (`.wh.name`) into overlayfs whiteouts (0/0 character devices) and opaque markers
//! (`.wh..wh..opq`) into the `trusted.overlay.opaque=y` xattr; keeps hard links, ownership,
//! modes, xattrs and times; never writes outside `dest` (no `..`, no following of absolute or
//! escaping symlinks, no hard link to outside). Blocking code.

use std::io::Read;
use std::path::Path;

use super::digest::Digest;

/// What unpacking found out about the layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpacked {
    /// sha256 of the uncompressed tar stream: the layer's diff ID.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub size: u64,
}

/// Why a layer was refused or could not be written.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer entry {path:?} escapes the layer directory")]
    Escape { path: String },
    #[error("invalid layer: {0}")]
    Invalid(String),
    #[error("unpacking {path:?}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Compression of a layer blob, by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detects the compression from the magic bytes at the start of a blob.
pub fn detect_compression(_head: &[u8]) -> Compression {
    todo!("unpack")
}

/// Unpacks the layer blob read from `blob` (any supported compression) into `dest`, an empty
/// directory that already exists. On error `dest` may hold a partial tree; the caller removes it.
pub fn unpack_layer(_blob: impl Read, _dest: &Path) -> Result<Unpacked, UnpackError> {
    todo!("unpack")
}
