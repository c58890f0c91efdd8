//! Path resolution inside a root directory, as if chrooted into it: every component is
//! checked with `lstat`; symlinks are followed by hand (absolute targets restart at the root,
//! `..` never climbs above it), at most 40 of them (the kernel's MAXSYMLINKS).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

const MAX_HOPS: u32 = 40;

/// A container path split as Docker's `ResolvePath` sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The real location, relative to the root (empty for the root itself).
    pub rel: PathBuf,
    /// The base name Docker reports and archives under (`.` for `dir/.`, `/` for the root).
    pub name: String,
}

/// Resolves `path` (absolute in the container, or relative to its `/`) inside `root`. The
/// last component is followed when it is a symlink only if `follow_last` or the path ends
/// with `/` or `/.` (Docker's "preserve trailing dot or separator").
pub fn resolve(root: &Path, path: &str, follow_last: bool) -> io::Result<Target> {
    let trailing = path.ends_with('/') || path.ends_with("/.") || path == ".";
    let rel = resolve_rel(root, Path::new(path), follow_last || trailing)?;
    Ok(Target {
        rel,
        name: base_name(path),
    })
}

/// Go's `filepath.Base` of the cleaned absolute path, keeping a trailing `.`.
fn base_name(path: &str) -> String {
    if path.ends_with("/.") || path == "." {
        return ".".to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts
        .last()
        .map_or_else(|| "/".to_string(), |p| (*p).to_string())
}

/// The real location of `path` inside `root`, relative to it. Missing components are kept
/// as given (the caller's `lstat` reports them).
pub(super) fn resolve_rel(root: &Path, path: &Path, follow_last: bool) -> io::Result<PathBuf> {
    let mut todo: VecDeque<OsString> = components(path);
    let mut done: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(part) = todo.pop_front() {
        if part == ".." {
            done.pop();
            continue;
        }
        done.push(part);
        let here: PathBuf = root.join(done.iter().collect::<PathBuf>());
        let meta = match fs::symlink_metadata(&here) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOTDIR) => continue,
            Err(e) => return Err(e),
        };
        if !meta.file_type().is_symlink() || (todo.is_empty() && !follow_last) {
            continue;
        }
        hops += 1;
        if hops > MAX_HOPS {
            return Err(io::Error::from_raw_os_error(nix::libc::ELOOP));
        }
        let target = fs::read_link(&here)?;
        done.pop();
        if target.is_absolute() {
            done.clear();
        }
        for part in components(&target).into_iter().rev() {
            todo.push_front(part);
        }
    }
    Ok(done.iter().collect())
}

/// The normal and `..` components of a path (root, `.` and empty ones dropped).
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Cleans a tar entry name lexically as Docker does; `None` when it climbs above its start.
pub(super) fn clean_entry(name: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in name.components() {
        match c {
            Component::Normal(p) => parts.push(p.as_bytes()),
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => {}
        }
    }
    Some(
        parts
            .iter()
            .map(|p| std::ffi::OsStr::from_bytes(p))
            .collect(),
    )
}
