//! OCI whiteouts turned into their overlayfs form.
//!
//! `dir/.wh.name` says "`name` of the lower layers is deleted": overlayfs reads that as a
//! character device 0/0 at `dir/name`. `dir/.wh..wh..opq` says "`dir` hides everything below
//! it": overlayfs reads that as the xattr `trusted.overlay.opaque=y` on `dir`. Other
//! `.wh..wh.` names (aufs bookkeeping such as `.wh..wh.plnk`) mean nothing to overlayfs and
//! are skipped. Writing needs CAP_MKNOD and CAP_SYS_ADMIN (trusted xattrs).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;

use nix::sys::stat::{mknod, Mode, SFlag};

use super::confine::Missing;
use super::entry::{io_error, resolve_error, Extractor};
use super::meta::Meta;
use super::UnpackError;

const PREFIX: &[u8] = b".wh.";
const META_PREFIX: &[u8] = b".wh..wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// The xattr by which overlayfs marks an opaque directory.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What a whiteout entry asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Whiteout<'a> {
    /// Hide the lower layers' contents of the parent directory.
    Opaque,
    /// Delete the named sibling of the lower layers.
    Remove(&'a [u8]),
    /// Bookkeeping of another tool; nothing to write.
    Skip,
}

/// Whether the last component of an entry name is a whiteout, and which.
pub(super) fn classify(last: &[u8]) -> Option<Whiteout<'_>> {
    if last == OPAQUE {
        Some(Whiteout::Opaque)
    } else if last.starts_with(META_PREFIX) {
        Some(Whiteout::Skip)
    } else {
        last.strip_prefix(PREFIX).map(Whiteout::Remove)
    }
}

impl Extractor {
    /// Writes the overlayfs form of a whiteout found in the directory `parent`.
    pub(super) fn write_whiteout(
        &mut self,
        name: &[u8],
        parent: &[&[u8]],
        whiteout: Whiteout<'_>,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        let target = match whiteout {
            Whiteout::Skip => return Ok(()),
            Whiteout::Remove(b"" | b"." | b"..") => {
                return Err(UnpackError::Invalid(format!(
                    "invalid whiteout {:?}",
                    String::from_utf8_lossy(name)
                )))
            }
            Whiteout::Remove(target) => Some(target),
            Whiteout::Opaque => None,
        };
        let dir = self
            .root
            .resolve_dir(parent, Missing::Create)
            .map_err(|e| resolve_error(name, e))?;
        let io = |e| io_error(name, e);
        let Some(target) = target else {
            // `xattr::set` does not follow symlinks, and `dir` is a real directory anyway.
            return xattr::set(&dir, OPAQUE_XATTR, b"y").map_err(io);
        };
        let path = dir.join(OsStr::from_bytes(target));
        self.create_replacing(&path, |p| {
            mknod(p, SFlag::S_IFCHR, Mode::empty(), 0).map_err(io::Error::from)
        })
        .map_err(io)?;
        // As Docker: the device keeps the whiteout entry's owner; mode and times stay.
        std::os::unix::fs::lchown(&path, Some(meta.uid), Some(meta.gid)).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_tells_whiteouts_apart() {
        assert_eq!(classify(b".wh..wh..opq"), Some(Whiteout::Opaque));
        assert_eq!(classify(b".wh..wh.plnk"), Some(Whiteout::Skip));
        assert_eq!(classify(b".wh.foo"), Some(Whiteout::Remove(b"foo")));
        assert_eq!(classify(b".wh."), Some(Whiteout::Remove(b"")));
        assert_eq!(classify(b"foo.wh.bar"), None);
        assert_eq!(classify(b".whfoo"), None);
    }
}
