//! `HEAD /containers/{id}/archive`: Docker's `ContainerPathStat` of a path.

use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use chrono::DateTime;

use super::resolve::{resolve, resolve_rel};
use super::{not_found, ArchiveError};
use crate::api::container_types::PathStat;
use crate::engine::logs::format_time;

// Go's os.FileMode type bits.
const MODE_DIR: u32 = 1 << 31;
const MODE_SYMLINK: u32 = 1 << 27;
const MODE_DEVICE: u32 = 1 << 26;
const MODE_NAMED_PIPE: u32 = 1 << 25;
const MODE_SOCKET: u32 = 1 << 24;
const MODE_SETUID: u32 = 1 << 23;
const MODE_SETGID: u32 = 1 << 22;
const MODE_CHAR_DEVICE: u32 = 1 << 21;
const MODE_STICKY: u32 = 1 << 20;

/// The stat of `path` in the container whose root is `root`. A final symlink is not
/// followed; its `linkTarget` is where it leads, resolved inside the root.
pub fn stat(root: &Path, path: &str) -> Result<PathStat, ArchiveError> {
    let target = resolve(root, path, false)?;
    let meta = fs::symlink_metadata(root.join(&target.rel)).map_err(not_found(path))?;
    let link_target = if meta.file_type().is_symlink() {
        let rel = resolve_rel(root, &target.rel, true)?;
        format!("/{}", rel.display())
    } else {
        String::new()
    };
    let mtime = DateTime::from_timestamp(meta.mtime(), meta.mtime_nsec() as u32)
        .map(format_time)
        .transpose()?
        .unwrap_or_default();
    Ok(PathStat {
        name: target.name,
        size: meta.size() as i64,
        mode: go_file_mode(&meta),
        mtime,
        link_target,
    })
}

/// Go's `os.FileMode` of a `lstat` result.
pub fn go_file_mode(meta: &Metadata) -> u32 {
    let raw = meta.mode();
    let mut mode = raw & 0o777;
    let ft = meta.file_type();
    if ft.is_dir() {
        mode |= MODE_DIR;
    } else if ft.is_symlink() {
        mode |= MODE_SYMLINK;
    } else if ft.is_block_device() {
        mode |= MODE_DEVICE;
    } else if ft.is_char_device() {
        mode |= MODE_DEVICE | MODE_CHAR_DEVICE;
    } else if ft.is_fifo() {
        mode |= MODE_NAMED_PIPE;
    } else if ft.is_socket() {
        mode |= MODE_SOCKET;
    }
    if raw & 0o4000 != 0 {
        mode |= MODE_SETUID;
    }
    if raw & 0o2000 != 0 {
        mode |= MODE_SETGID;
    }
    if raw & 0o1000 != 0 {
        mode |= MODE_STICKY;
    }
    mode
}
