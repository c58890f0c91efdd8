//! Confinement of entry names to the layer directory.
//!
//! Entry names are cleaned lexically as Docker does (a leading `/` dropped, `.` removed, `..`
//! applied); a `..` that climbs above the root is an escape. Parent directories are then
//! walked one component at a time with `lstat`, never letting the kernel resolve a path that
//! holds a symlink planted by the layer: real directories are entered, missing ones created,
//! and a symlink is followed by hand only when its target is relative and stays inside the
//! root. An absolute symlink target is refused rather than reinterpreted, because the kernel
//! would resolve it against the host's root. This module never writes anything but the
//! implicit parent directories. Nothing else writes into a layer directory while it is
//! unpacked, so a path checked here stays safe to use.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

/// Symlinks followed while resolving one directory: the kernel's own limit (MAXSYMLINKS).
const MAX_HOPS: u32 = 40;

/// Mode of parent directories the layer does not list, as Docker creates them.
const IMPLICIT_DIR_MODE: u32 = 0o755;

/// Why a name could not be placed inside the root.
#[derive(Debug)]
pub(super) enum ResolveError {
    /// The name, or a symlink on its way, leads outside the root.
    Escape,
    /// Too many symlinks on the way (ELOOP).
    Loop,
    /// A file system call failed.
    Io(io::Error),
}

impl From<io::Error> for ResolveError {
    fn from(e: io::Error) -> Self {
        ResolveError::Io(e)
    }
}

/// Cleans an entry name into components relative to the root: none is empty, `.` or `..`.
/// An empty result names the root itself. `Err` means the name climbs above the root.
pub(super) fn clean(name: &[u8]) -> Result<Vec<&[u8]>, ResolveError> {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(8);
    for part in name.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop().ok_or(ResolveError::Escape)?;
            }
            _ => parts.push(part),
        }
    }
    Ok(parts)
}

/// What to do with a parent directory that does not exist.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    Create,
    Fail,
}

/// The last directory resolved, so that consecutive entries of one directory cost no lookups.
struct Cached {
    /// The cleaned name, components joined by `/`.
    name: Vec<u8>,
    /// How many components `name` has.
    parts: usize,
    /// The real path: the root plus `depth` components, none of them a symlink.
    real: PathBuf,
    depth: usize,
}

/// The layer directory and the resolution state over it.
pub(super) struct Root {
    root: PathBuf,
    cache: Option<Cached>,
}

impl Root {
    pub(super) fn new(root: &Path) -> Root {
        Root {
            root: root.to_path_buf(),
            cache: None,
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.root
    }

    /// Forgets resolved directories; called after anything in the tree was removed, since a
    /// removed directory may come back as a symlink.
    pub(super) fn forget(&mut self) {
        self.cache = None;
    }

    /// The real path of the directory named by `parts` (cleaned components), with every
    /// component checked to be a real directory inside the root.
    pub(super) fn resolve_dir(
        &mut self,
        parts: &[&[u8]],
        missing: Missing,
    ) -> Result<PathBuf, ResolveError> {
        let name = parts.join(&b'/');
        let (mut real, mut depth, done) = match &self.cache {
            Some(c) if name == c.name => return Ok(c.real.clone()),
            Some(c) if is_under(&name, &c.name) => (c.real.clone(), c.depth, c.parts),
            _ => (self.root.clone(), 0, 0),
        };
        walk(&mut real, &mut depth, &parts[done..], missing)?;
        self.cache = Some(Cached {
            name,
            parts: parts.len(),
            real: real.clone(),
            depth,
        });
        Ok(real)
    }
}

/// Whether the cleaned name `name` lies below the directory `dir` (`""` is the root).
fn is_under(name: &[u8], dir: &[u8]) -> bool {
    dir.is_empty() || (name.starts_with(dir) && name.get(dir.len()) == Some(&b'/'))
}

/// Descends from `real` (the root plus `depth` real directories) through `parts`.
fn walk(
    real: &mut PathBuf,
    depth: &mut usize,
    parts: &[&[u8]],
    missing: Missing,
) -> Result<(), ResolveError> {
    // A stack, last component on top; symlink targets are pushed onto it.
    let mut todo: Vec<OsString> = parts
        .iter()
        .rev()
        .map(|p| OsStr::from_bytes(p).to_os_string())
        .collect();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        match part.as_bytes() {
            b"" | b"." => continue,
            b".." => {
                if *depth == 0 {
                    return Err(ResolveError::Escape);
                }
                real.pop();
                *depth -= 1;
                continue;
            }
            _ => {}
        }
        real.push(&part);
        match fs::symlink_metadata(&*real) {
            Ok(md) if md.is_dir() => *depth += 1,
            Ok(md) if md.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(ResolveError::Loop);
                }
                let target = fs::read_link(&*real)?;
                real.pop();
                if target.is_absolute() {
                    return Err(ResolveError::Escape);
                }
                let bytes = target.as_os_str().as_bytes();
                for p in bytes.split(|b| *b == b'/').rev() {
                    todo.push(OsStr::from_bytes(p).to_os_string());
                }
            }
            Ok(_) => return Err(ResolveError::Io(Errno::ENOTDIR.into())),
            Err(e) if e.kind() == io::ErrorKind::NotFound && missing == Missing::Create => {
                create_implicit_dir(real)?;
                *depth += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Creates a parent directory the layer did not list, 0755 whatever the umask.
fn create_implicit_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new().mode(IMPLICIT_DIR_MODE).create(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(IMPLICIT_DIR_MODE))
}
