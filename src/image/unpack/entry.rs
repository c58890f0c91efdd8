//! Writing the entries of one uncompressed layer stream into the layer directory.
//!
//! The tar crate parses; this module decides what each entry becomes, by hand rather than
//! with `Entry::unpack`, so that every path goes through `confine` first and nothing is ever
//! created through a symlink. An entry that names an existing node replaces it, except a
//! directory over a directory, which only takes the new metadata (Docker's rule).
//! Directory times are set at the very end, once nothing more is written into them.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use tar::EntryType;

use super::confine::{self, Missing, ResolveError, Root};
use super::meta::{self, Meta, Stamp};
use super::whiteout;
use super::UnpackError;

/// Buffer for copying file contents: large writes, few syscalls.
const COPY_BUF: usize = 1 << 20;

/// Offset of the type flag in a tar header.
const TYPEFLAG_OFFSET: usize = 156;

/// Writes every entry of the tar stream `reader` under `dest`, then reads the stream to its
/// very end (trailing zero blocks and padding included) so that all of it gets hashed.
pub(super) fn extract(reader: impl Read, dest: &Path) -> Result<(), UnpackError> {
    let mut archive = tar::Archive::new(reader);
    let mut extractor = Extractor::new(dest);
    for entry in archive.entries().map_err(invalid)? {
        let mut entry = entry.map_err(invalid)?;
        extractor.write_entry(&mut entry)?;
    }
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(invalid)?;
    extractor.set_dir_times()
}

/// The state of one extraction.
pub(super) struct Extractor {
    pub(super) root: Root,
    /// Directories and their times, applied in this order at the end.
    dirs: Vec<(PathBuf, Stamp, Stamp)>,
    buf: Vec<u8>,
}

impl Extractor {
    fn new(dest: &Path) -> Extractor {
        Extractor {
            root: Root::new(dest),
            dirs: Vec::new(),
            buf: Vec::new(),
        }
    }

    fn write_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), UnpackError> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let name = entry.path_bytes().into_owned();
        let parts = confine::clean(&name).map_err(|e| resolve_error(&name, e))?;
        let meta = Meta::read(entry).map_err(|e| invalid_entry(&name, e))?;
        let Some((last, parent)) = parts.split_last() else {
            return self.write_root(&name, kind, &meta);
        };
        if let Some(w) = whiteout::classify(last) {
            return self.write_whiteout(&name, parent, w, &meta);
        }
        let dir = self
            .root
            .resolve_dir(parent, Missing::Create)
            .map_err(|e| resolve_error(&name, e))?;
        let path = dir.join(OsStr::from_bytes(last));
        let io = |e| io_error(&name, e);
        match kind {
            EntryType::Directory => self.write_dir(&path, &meta).map_err(io),
            _ if is_old_style_dir(entry, &name) => self.write_dir(&path, &meta).map_err(io),
            EntryType::Regular | EntryType::Continuous => {
                let size = Some(entry.size());
                self.write_file(&name, &path, entry, size, &meta)
            }
            // The tar crate fills the holes; the expanded size is not checked here.
            EntryType::GNUSparse => self.write_file(&name, &path, entry, None, &meta),
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                self.write_symlink(&path, &target, &meta).map_err(io)
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                self.write_hard_link(&name, &path, &target)
            }
            EntryType::Char => self.write_device(&path, SFlag::S_IFCHR, entry, &meta),
            EntryType::Block => self.write_device(&path, SFlag::S_IFBLK, entry, &meta),
            EntryType::Fifo => self.write_node(&path, SFlag::S_IFIFO, 0, &meta).map_err(io),
            other => Err(UnpackError::Invalid(format!(
                "unhandled tar header type {}",
                other.as_byte()
            ))),
        }
    }

    /// An entry naming the root itself: a directory entry gives the root its metadata.
    fn write_root(&mut self, name: &[u8], kind: EntryType, meta: &Meta) -> Result<(), UnpackError> {
        if kind != EntryType::Directory {
            return Err(UnpackError::Invalid(format!(
                "entry {:?} would replace the layer directory",
                lossy(name)
            )));
        }
        let root = self.root.path().to_path_buf();
        meta.apply_to_path(&root, false)
            .map_err(|e| io_error(name, e))?;
        self.dirs.push((root, meta.atime, meta.mtime));
        Ok(())
    }

    fn write_dir(&mut self, path: &Path, meta: &Meta) -> io::Result<()> {
        let create = |p: &Path| fs::DirBuilder::new().mode(0o700).create(p);
        match create(path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !fs::symlink_metadata(path)?.is_dir() {
                    self.remove_existing(path)?;
                    create(path)?;
                }
            }
            other => other?,
        }
        meta.apply_to_path(path, false)?;
        self.dirs.push((path.to_path_buf(), meta.atime, meta.mtime));
        Ok(())
    }

    fn write_file(
        &mut self,
        name: &[u8],
        path: &Path,
        entry: &mut impl Read,
        size: Option<u64>,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        let io = |e| io_error(name, e);
        let file = self.create_replacing(path, create_file).map_err(io)?;
        if self.buf.is_empty() {
            self.buf = vec![0; COPY_BUF];
        }
        let copied = copy_contents(entry, &file, &mut self.buf, name)?;
        if size.is_some_and(|size| size != copied) {
            let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
            return Err(invalid_entry(name, eof));
        }
        meta.apply_to_file(&file).map_err(io)
    }

    fn write_symlink(&mut self, path: &Path, target: &[u8], meta: &Meta) -> io::Result<()> {
        // Only data: the link may point anywhere, since nothing here ever follows it.
        let target = OsStr::from_bytes(target);
        self.create_replacing(path, |p| std::os::unix::fs::symlink(target, p))?;
        meta.apply_to_path(path, true)?;
        meta.set_times(path)
    }

    /// A hard link to an earlier entry of this layer. Its metadata is the target's already.
    fn write_hard_link(
        &mut self,
        name: &[u8],
        path: &Path,
        target: &[u8],
    ) -> Result<(), UnpackError> {
        let missing = || {
            UnpackError::Invalid(format!(
                "hard link {:?}: target {:?} not found in the layer",
                lossy(name),
                lossy(target)
            ))
        };
        let parts = confine::clean(target).map_err(|e| resolve_error(name, e))?;
        let (last, parent) = parts.split_last().ok_or_else(missing)?;
        let dir = match self.root.resolve_dir(parent, Missing::Fail) {
            Err(ResolveError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Err(missing()),
            other => other.map_err(|e| resolve_error(name, e)),
        }?;
        let source = dir.join(OsStr::from_bytes(last));
        match fs::symlink_metadata(&source) {
            Ok(md) if md.is_dir() => return Err(missing()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(io_error(name, e)),
        }
        // link(2) does not follow a symlink at `source`: the new name is the symlink itself.
        self.create_replacing(path, |p| fs::hard_link(&source, p))
            .map_err(|e| io_error(name, e))
    }

    fn write_device<R: Read>(
        &mut self,
        path: &Path,
        kind: SFlag,
        entry: &tar::Entry<'_, R>,
        meta: &Meta,
    ) -> Result<(), UnpackError> {
        let name = entry.path_bytes();
        let header = entry.header();
        let major = header.device_major().map_err(|e| invalid_entry(&name, e))?;
        let minor = header.device_minor().map_err(|e| invalid_entry(&name, e))?;
        let dev = makedev(u64::from(major.unwrap_or(0)), u64::from(minor.unwrap_or(0)));
        self.write_node(path, kind, dev, meta)
            .map_err(|e| io_error(&name, e))
    }

    /// A device or fifo node with the entry's metadata.
    fn write_node(&mut self, path: &Path, kind: SFlag, dev: u64, meta: &Meta) -> io::Result<()> {
        let perm = Mode::from_bits_truncate(meta.mode & 0o777);
        self.create_replacing(path, |p| mknod(p, kind, perm, dev).map_err(io::Error::from))?;
        meta.apply_to_path(path, false)?;
        meta.set_times(path)
    }

    /// Runs `create`; if the name is taken, removes what is there and runs it again.
    pub(super) fn create_replacing<T>(
        &mut self,
        path: &Path,
        create: impl Fn(&Path) -> io::Result<T>,
    ) -> io::Result<T> {
        match create(path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.remove_existing(path)?;
                create(path)
            }
            other => other,
        }
    }

    /// Removes a node, a whole tree for a directory, without following symlinks.
    fn remove_existing(&mut self, path: &Path) -> io::Result<()> {
        if fs::symlink_metadata(path)?.is_dir() {
            fs::remove_dir_all(path)?;
        } else {
            fs::remove_file(path)?;
        }
        self.root.forget();
        Ok(())
    }

    /// Gives directories their times, now that nothing more is written into them. A
    /// directory that a later entry removed is skipped.
    fn set_dir_times(&self) -> Result<(), UnpackError> {
        for (path, atime, mtime) in &self.dirs {
            match meta::set_times(path, *atime, *mtime) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other.map_err(|e| UnpackError::Io {
                    path: path.display().to_string(),
                    source: e,
                })?,
            }
        }
        Ok(())
    }
}

/// A new regular file, refusing to open anything that already exists (symlinks included).
fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Copies an entry's contents into `file`; returns the bytes copied.
fn copy_contents(
    entry: &mut impl Read,
    mut file: &File,
    buf: &mut [u8],
    name: &[u8],
) -> Result<u64, UnpackError> {
    let mut copied = 0;
    loop {
        let n = match entry.read(buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(invalid_entry(name, e)),
        };
        file.write_all(&buf[..n]).map_err(|e| io_error(name, e))?;
        copied += n as u64;
    }
}

/// A pre-POSIX regular-file entry whose name ends in `/` is a directory (as Go's tar reads it).
fn is_old_style_dir<R: Read>(entry: &tar::Entry<'_, R>, name: &[u8]) -> bool {
    entry.header().as_bytes()[TYPEFLAG_OFFSET] == 0 && name.ends_with(b"/")
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

pub(super) fn invalid(e: io::Error) -> UnpackError {
    UnpackError::Invalid(e.to_string())
}

pub(super) fn invalid_entry(name: &[u8], e: io::Error) -> UnpackError {
    UnpackError::Invalid(format!("entry {:?}: {e}", lossy(name)))
}

pub(super) fn io_error(name: &[u8], source: io::Error) -> UnpackError {
    UnpackError::Io {
        path: lossy(name),
        source,
    }
}

pub(super) fn resolve_error(name: &[u8], e: ResolveError) -> UnpackError {
    match e {
        ResolveError::Escape => UnpackError::Escape { path: lossy(name) },
        ResolveError::Loop => io_error(name, nix::errno::Errno::ELOOP.into()),
        ResolveError::Io(e) => io_error(name, e),
    }
}
