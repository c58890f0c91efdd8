//! Content-addressed blobs: `blobs/sha256/<hex>`, written through `ingest/<random>` and
//! renamed into place once their digest is known (and checked when one was expected).
//!
//! A blob file is only ever complete: it appears by rename after `fsync`. Nothing here
//! decides what a blob is for; `gc` decides when one may go.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::gc::{Pinned, Shared};
use super::{io_err, ImageStore, StoreError};
use crate::image::digest::{Digest, DigestingWriter};

pub(super) const BLOBS_DIR: &str = "blobs/sha256";
pub(super) const INGEST_DIR: &str = "ingest";

/// A blob being written: bytes go to a temporary file and are hashed on the way.
/// Dropped without `commit`, it removes its temporary file.
pub struct Ingest {
    writer: Option<DigestingWriter<BufWriter<File>>>,
    tmp: PathBuf,
    blobs: PathBuf,
    shared: Arc<Shared>,
}

impl Write for Ingest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer_mut()?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer_mut()?.flush()
    }
}

impl Ingest {
    fn writer_mut(&mut self) -> io::Result<&mut DigestingWriter<BufWriter<File>>> {
        // Only `commit` takes the writer, and it consumes `self`: always present here.
        self.writer
            .as_mut()
            .ok_or_else(|| io::Error::other("ingest already committed"))
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.writer.as_ref().map_or(0, DigestingWriter::written)
    }

    /// Verifies the digest (when `expected` is given) and renames into `blobs/sha256/<hex>`;
    /// on mismatch the temporary file is removed and nothing is stored.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<Digest, StoreError> {
        let Some(writer) = self.writer.take() else {
            return Err(StoreError::Invalid("ingest already committed".into()));
        };
        let (actual, _, buffered) = writer.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| io_err(self.context("writing"), e.into_error()))?;
        file.sync_all()
            .map_err(|e| io_err(self.context("syncing"), e))?;
        drop(file);
        if let Some(expected) = expected {
            if *expected != actual {
                // `Drop` removes the temporary file.
                return Err(StoreError::DigestMismatch {
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        let _guard = self.shared.writing();
        self.shared.pin(Pinned::Blob(actual.clone()));
        let dest = self.blobs.join(actual.hex());
        if dest.exists() {
            // Same content already stored: keep the old file, which readers may hold open.
            return Ok(actual);
        }
        std::fs::rename(&self.tmp, &dest)
            .map_err(|e| io_err(format!("storing blob {actual}"), e))?;
        sync_dir(&self.blobs)?;
        Ok(actual)
    }

    fn context(&self, what: &str) -> String {
        format!("{what} {}", self.tmp.display())
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        // After a successful rename the file is gone and this is a harmless ENOENT.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

impl ImageStore {
    /// True when the blob is stored. A `true` also pins the blob against `gc` for a while, so
    /// that a caller that skips fetching it can still reference it in `put_image`.
    pub fn has_blob(&self, d: &Digest) -> bool {
        let _guard = self.shared.writing();
        let present = self.blob_path(d).is_file();
        if present {
            self.shared.pin(Pinned::Blob(d.clone()));
        }
        present
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join(BLOBS_DIR).join(d.hex())
    }

    pub fn ingest(&self) -> Result<Ingest, StoreError> {
        let tmp = self.root.join(INGEST_DIR).join(random_name()?);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io_err(format!("creating {}", tmp.display()), e))?;
        Ok(Ingest {
            writer: Some(DigestingWriter::new(BufWriter::with_capacity(
                256 * 1024,
                file,
            ))),
            tmp,
            blobs: self.root.join(BLOBS_DIR),
            shared: Arc::clone(&self.shared),
        })
    }

    /// Stores small blobs (manifests, configs) in one call.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let mut ingest = self.ingest()?;
        ingest
            .write_all(bytes)
            .map_err(|e| io_err(ingest.context("writing"), e))?;
        ingest.commit(None)
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>, StoreError> {
        std::fs::read(self.blob_path(d)).map_err(|e| blob_err(d, e))
    }

    pub fn open_blob(&self, d: &Digest) -> Result<File, StoreError> {
        File::open(self.blob_path(d)).map_err(|e| blob_err(d, e))
    }

    /// Size in bytes of a stored blob.
    pub fn blob_size(&self, d: &Digest) -> Result<u64, StoreError> {
        std::fs::metadata(self.blob_path(d))
            .map(|m| m.len())
            .map_err(|e| blob_err(d, e))
    }
}

fn blob_err(d: &Digest, e: io::Error) -> StoreError {
    io_err(format!("reading blob {d}"), e)
}

/// 16 random hex digits, for temporary names that never collide between threads.
pub(super) fn random_name() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        io_err(
            "reading random bytes".into(),
            io::Error::other(e.to_string()),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Makes renames in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_err(format!("syncing {}", dir.display()), e))
}

/// Removes every entry of `dir` whose name passes `select` (files or whole trees).
pub(super) fn remove_all_in(dir: &Path, select: impl Fn(&str) -> bool) -> Result<(), StoreError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| io_err(format!("listing {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(format!("listing {}", dir.display()), e))?;
        if select(&entry.file_name().to_string_lossy()) {
            remove_path(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes a file or a directory tree; already gone is fine.
pub(super) fn remove_path(path: &Path) -> Result<(), StoreError> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(io_err(format!("removing {}", path.display()), e))
        }
        _ => Ok(()),
    }
}
