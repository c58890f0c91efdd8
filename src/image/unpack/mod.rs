//! Unpacking one layer blob into a directory that overlayfs can use as a lower layer.
//!
//! Detects gzip, zstd or plain tar by magic bytes; turns OCI
//! whiteouts (`.wh.name`) into overlayfs whiteouts (0/0 character devices) and opaque markers
//! (`.wh..wh..opq`) into the `trusted.overlay.opaque=y` xattr; keeps hard links, ownership,
//! modes, xattrs and times; never writes outside `dest` (no `..`, no following of absolute or
//! escaping symlinks, no hard link to outside). Blocking code.
//!
//! The work runs on two threads: the caller's reads, decompresses and hashes (`stream`), a
//! scoped helper parses the tar and writes (`entry`, `whiteout`, `meta`), every path going
//! through `confine`. Entry point: [`unpack_layer`].

mod confine;
mod entry;
mod meta;
mod stream;
#[cfg(test)]
mod tests;
mod whiteout;

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::digest::{Digest, DigestingReader};
use stream::{ChunkReader, Decoder, Pumped};

pub use whiteout::OPAQUE_XATTR;

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
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Unpacks the layer blob read from `blob` (any supported compression) into `dest`, an empty
/// directory that already exists. On error `dest` may hold a partial tree; the caller removes it.
pub fn unpack_layer(blob: impl Read, dest: &Path) -> Result<Unpacked, UnpackError> {
    let (_, decoder) = Decoder::open(blob).map_err(stream_error)?;
    let mut stream = DigestingReader::new(decoder);
    let (tx, rx) = mpsc::sync_channel(stream::IN_FLIGHT);
    let (spare_tx, spare_rx) = mpsc::channel();
    let (pumped, extracted) = thread::scope(|scope| {
        let writer = thread::Builder::new()
            .name("unpack".into())
            .spawn_scoped(scope, move || {
                entry::extract(ChunkReader::new(rx, spare_tx), dest)
            });
        let writer = match writer {
            Ok(writer) => writer,
            Err(e) => return (Ok(Pumped::Abandoned), Err(io_error("<thread>", e))),
        };
        let pumped = stream::pump(&mut stream, tx, spare_rx);
        let extracted = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (pumped, extracted)
    });
    // A broken stream explains the writer's failure better than the writer can.
    let pumped = pumped.map_err(stream_error)?;
    extracted?;
    if pumped == Pumped::Abandoned {
        // The writer reads to the end when it succeeds, so this means a bug, not bad input.
        return Err(UnpackError::Invalid("layer writer stopped early".into()));
    }
    let (diff_id, size) = stream.finish();
    Ok(Unpacked { diff_id, size })
}

/// Unpacks the blob in the file `blob` into `dest` and says how long it took: the hook for
/// benchmark scripts (`bench/`), which compare it with `tar -x`.
#[doc(hidden)]
pub fn unpack_file_timed(blob: &Path, dest: &Path) -> Result<(Unpacked, Duration), UnpackError> {
    let file = std::fs::File::open(blob).map_err(|e| io_error(&blob.display().to_string(), e))?;
    let start = Instant::now();
    let unpacked = unpack_layer(file, dest)?;
    Ok((unpacked, start.elapsed()))
}

fn io_error(path: &str, source: std::io::Error) -> UnpackError {
    UnpackError::Io {
        path: path.to_string(),
        source,
    }
}

/// A failure of the blob reader is I/O; anything else on the byte side is a corrupt layer.
fn stream_error(e: std::io::Error) -> UnpackError {
    if stream::is_source_error(&e) {
        io_error("<layer blob>", e)
    } else {
        UnpackError::Invalid(e.to_string())
    }
}
