//! `docker diff` for an overlay container: the changes recorded in the upper directory,
//! in Docker's order and with Docker's rules (`pkg/archive/changes.go` with the overlay
//! delete test):
//!
//! - a whiteout (character device 0/0, or a file with `trusted.overlay.whiteout`) is
//!   Deleted (2);
//! - an opaque directory (`trusted.overlay.opaque=y`) that exists in the lower layers is
//!   reported Deleted, as Docker does (it was removed and made again); below it the lower
//!   layers are hidden, so its entries are Added;
//! - any other entry is Modified (0) when the lower layers have it, else Added (1); a
//!   directory identical to its lower copy (size, mode, mtime) is not reported itself;
//! - the parent of an Added or Deleted entry is reported Modified when it was not already.
//!
//! Entries come in Go's `filepath.Walk` order: depth first, names sorted bytewise.
//! `lowers` lists the image's layer directories topmost first (overlay's `lowerdir` order);
//! a path counts as present below when the first layer that mentions it has it (a whiteout
//! or an opaque directory above hides the layers under it).

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::api::container_types::FilesystemChange;

/// Docker's change kinds.
pub const MODIFIED: u8 = 0;
pub const ADDED: u8 = 1;
pub const DELETED: u8 = 2;

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const WHITEOUT_XATTR: &str = "trusted.overlay.whiteout";

/// The changes of the container whose writable layer is `upper`.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<FilesystemChange>> {
    let mut walk = Walk {
        upper,
        lowers,
        out: Vec::new(),
        changed_dirs: Vec::new(),
    };
    walk.dir(Path::new(""), false)?;
    Ok(walk.out)
}

struct Walk<'a> {
    upper: &'a Path,
    lowers: &'a [PathBuf],
    out: Vec<FilesystemChange>,
    /// Directories already reported, or walked while different from below.
    changed_dirs: Vec<PathBuf>,
}

impl Walk<'_> {
    /// Visits the entries of directory `rel`; `hidden` when an opaque directory above hides
    /// the lower layers.
    fn dir(&mut self, rel: &Path, hidden: bool) -> io::Result<()> {
        let mut names: Vec<OsString> = fs::read_dir(self.upper.join(rel))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let rel = rel.join(&name);
            let meta = fs::symlink_metadata(self.upper.join(&rel))?;
            let opaque_here = self.visit(&rel, &meta, hidden)?;
            if meta.is_dir() {
                self.dir(&rel, hidden || opaque_here)?;
            }
        }
        Ok(())
    }

    /// Records the change of one entry; returns whether it is an opaque directory.
    fn visit(&mut self, rel: &Path, meta: &Metadata, hidden: bool) -> io::Result<bool> {
        let full = self.upper.join(rel);
        let below = if hidden {
            None
        } else {
            lookup_lower(self.lowers, rel)?
        };
        let opaque = meta.is_dir() && is_opaque(&full)?;
        let kind = if is_whiteout(&full, meta)? || (opaque && below.is_some()) {
            DELETED
        } else if let Some(lower) = below {
            if meta.is_dir() && lower.is_dir() && same_dir(meta, &lower) {
                return Ok(opaque);
            }
            MODIFIED
        } else {
            ADDED
        };
        if meta.is_dir() {
            self.changed_dirs.push(rel.to_path_buf());
        }
        if kind != MODIFIED {
            if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
                if !self.changed_dirs.iter().any(|d| d == parent) {
                    self.changed_dirs.push(parent.to_path_buf());
                    self.push(parent, MODIFIED);
                }
            }
        }
        self.push(rel, kind);
        Ok(opaque)
    }

    fn push(&mut self, rel: &Path, kind: u8) {
        let path = format!("/{}", rel.to_string_lossy());
        self.out.push(FilesystemChange { path, kind });
    }
}

/// Go's comparison of a directory with its lower copy: size, mode and mtime (equal when
/// either side lacks sub-second precision and the seconds agree).
fn same_dir(a: &Metadata, b: &Metadata) -> bool {
    let same_time = a.mtime() == b.mtime()
        && (a.mtime_nsec() == b.mtime_nsec() || a.mtime_nsec() == 0 || b.mtime_nsec() == 0);
    a.size() == b.size() && a.mode() == b.mode() && same_time
}

/// The lower layers' entry at `rel`, honouring whiteouts and opaque directories of the
/// layers above.
fn lookup_lower(lowers: &[PathBuf], rel: &Path) -> io::Result<Option<Metadata>> {
    for layer in lowers {
        match fs::symlink_metadata(layer.join(rel)) {
            Ok(meta) => {
                if is_whiteout(&layer.join(rel), &meta)? {
                    return Ok(None);
                }
                return Ok(Some(meta));
            }
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(Errno::ENOTDIR as i32) => {}
            Err(e) => return Err(e),
        }
        // Absent here: an opaque ancestor (or a whited-out one) in this layer hides the rest.
        if hides_below(layer, rel)? {
            return Ok(None);
        }
    }
    Ok(None)
}

/// Whether some ancestor of `rel` in `layer` is an opaque directory or a whiteout.
fn hides_below(layer: &Path, rel: &Path) -> io::Result<bool> {
    let mut dir = layer.to_path_buf();
    let Some(parent) = rel.parent() else {
        return Ok(false);
    };
    for part in parent.components() {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {
                if is_opaque(&dir)? {
                    return Ok(true);
                }
            }
            Ok(meta) => return is_whiteout(&dir, &meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

fn is_whiteout(path: &Path, meta: &Metadata) -> io::Result<bool> {
    if meta.file_type().is_char_device() && meta.rdev() == 0 {
        return Ok(true);
    }
    Ok(meta.is_file() && meta.len() == 0 && xattr_is_set(path, WHITEOUT_XATTR)?)
}

fn is_opaque(path: &Path) -> io::Result<bool> {
    Ok(read_xattr(path, OPAQUE_XATTR)?.as_deref() == Some(b"y".as_slice()))
}

fn xattr_is_set(path: &Path, name: &str) -> io::Result<bool> {
    Ok(read_xattr(path, name)?.is_some())
}

/// An xattr of the entry itself (not following symlinks); `None` when it is not set or the
/// file system has no xattrs.
fn read_xattr(path: &Path, name: &str) -> io::Result<Option<Vec<u8>>> {
    match xattr::get(path, name) {
        Ok(v) => Ok(v),
        Err(e) => match e.raw_os_error().map(Errno::from_raw) {
            Some(Errno::ENODATA | Errno::EOPNOTSUPP) => Ok(None),
            _ => Err(e),
        },
    }
}

#[cfg(test)]
mod tests;
