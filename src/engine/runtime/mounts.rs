//! The request's mounts: binds (read-only, propagation, recursive) and tmpfs with Docker's
//! options, each destination resolved inside the new root without following a symlink out
//! of it (the image's symlinks are read as if the root were `/`, like runc's securejoin).
//!
//! Not here: the device cgroup (the cgroups module's business), recursive read-only binds
//! (`mount_setattr`, API 1.44), SELinux relabelling.

use crate::engine::mount_options::{parse as parse_options, propagation_flags};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, MsFlags};

use super::spec::MountSpec;
use super::{RuntimeError, Step};

mod copy_up;

const NONE: Option<&str> = None;

/// How many symlinks a destination may go through (the kernel's `MAXSYMLINKS` is 40; runc
/// allows 255).
const MAX_LINKS: u32 = 255;

/// Mounts every entry of `mounts` under `root`, in order; a bind whose destination is
/// in `copy_up` first gets the image's content there copied into its source.
pub(super) fn mount_all(
    root: &Path,
    mounts: &[MountSpec],
    copy_up: &[String],
) -> Result<(), RuntimeError> {
    for m in mounts {
        match m {
            MountSpec::Bind {
                source,
                destination,
                read_only,
                propagation,
                recursive,
            } => {
                if copy_up.contains(destination) {
                    copy_up::copy_image_content(root, source, destination)?;
                }
                bind(
                    root,
                    source,
                    destination,
                    *read_only,
                    propagation,
                    *recursive,
                )?
            }
            MountSpec::Tmpfs {
                destination,
                options,
            } => tmpfs(root, destination, options)?,
        }
    }
    Ok(())
}

/// Resolves `unsafe_path` inside `root`: `..` stops at the root and symlinks are followed
/// as if `root` were `/`. Components that do not exist are kept as they are.
pub(super) fn secure_join(root: &Path, unsafe_path: &str) -> Result<PathBuf, RuntimeError> {
    let mut resolved = PathBuf::new();
    let mut pending: VecDeque<OsString> = components(Path::new(unsafe_path));
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        let full = root.join(&candidate);
        match fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(RuntimeError::new(
                        format!("resolving {unsafe_path} in the container"),
                        "too many levels of symbolic links",
                    ));
                }
                let target = fs::read_link(&full)
                    .step(format!("resolving {unsafe_path} in the container"))?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                let mut rest = components(&target);
                rest.extend(pending);
                pending = rest;
            }
            _ => resolved = candidate,
        }
    }
    Ok(root.join(resolved))
}

/// The normal and `..` components of a path (root and `.` dropped).
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Creates `dest` as a directory (with its parents) when missing.
pub(super) fn ensure_dir(dest: &Path) -> Result<(), RuntimeError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dest)
        .step(format!("creating mount point {}", dest.display()))
}

/// Creates `dest` as an empty file (and its parent directories) when missing, so a file can
/// be bound over it.
pub(super) fn ensure_file(dest: &Path) -> Result<(), RuntimeError> {
    if let Some(parent) = dest.parent() {
        ensure_dir(parent)?;
    }
    if fs::symlink_metadata(dest).is_ok() {
        return Ok(());
    }
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dest)
        .map(drop)
        .step(format!("creating mount point {}", dest.display()))
}

/// The files the daemon writes per container and binds over the image's.
const PER_CONTAINER_FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];

/// Makes `destination` (one of [`PER_CONTAINER_FILES`]) an empty regular file in the
/// container's root, replacing whatever the image has there that is not one (a symlink,
/// say to `/proc/sys/kernel/hostname`, must not get our file bound on its target), as
/// Docker does. Its directory is still resolved inside the root.
fn replace_with_file(root: &Path, destination: &str) -> Result<PathBuf, RuntimeError> {
    let step = || format!("creating mount point {destination}");
    let path = Path::new(destination);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(RuntimeError::new(step(), "not a file path"));
    };
    let dir = secure_join(root, &parent.to_string_lossy())?;
    ensure_dir(&dir)?;
    let dest = dir.join(name);
    match fs::symlink_metadata(&dest) {
        Ok(meta) if meta.is_file() => return Ok(dest),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(&dest).step(step())?,
        Ok(_) => fs::remove_file(&dest).step(step())?,
        Err(_) => {}
    }
    ensure_file(&dest)?;
    Ok(dest)
}

fn bind(
    root: &Path,
    source: &Path,
    destination: &str,
    read_only: bool,
    propagation: &str,
    recursive: bool,
) -> Result<(), RuntimeError> {
    let step = || format!("mounting {} to {destination}", source.display());
    let meta = fs::metadata(source).step(step())?;
    let dest = if meta.is_file() && PER_CONTAINER_FILES.contains(&destination) {
        replace_with_file(root, destination)?
    } else {
        let dest = secure_join(root, destination)?;
        if meta.is_dir() {
            ensure_dir(&dest)?;
        } else {
            ensure_file(&dest)?;
        }
        dest
    };
    let mut flags = MsFlags::MS_BIND;
    if recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(Some(source), &dest, NONE, flags, NONE).step(step())?;
    if read_only {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(NONE, &dest, NONE, flags, NONE).step(step())?;
    }
    let prop = propagation_flags(propagation).unwrap_or(MsFlags::MS_PRIVATE | MsFlags::MS_REC);
    mount(NONE, &dest, NONE, prop, NONE).step(step())
}

fn tmpfs(root: &Path, destination: &str, options: &[String]) -> Result<(), RuntimeError> {
    let step = || format!("mounting tmpfs to {destination}");
    let dest = secure_join(root, destination)?;
    ensure_dir(&dest)?;
    let (flags, prop, data) = parse_options(options);
    // A tmpfs is made, never bound or remounted, whatever its options say.
    let flags = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    let data = (!data.is_empty()).then_some(data);
    mount(Some("tmpfs"), &dest, Some("tmpfs"), flags, data.as_deref()).step(step())?;
    if let Some(prop) = prop {
        mount(NONE, &dest, NONE, prop, NONE).step(step())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_join_keeps_symlinks_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("real")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../real", root.join("rel")).unwrap();
        assert_eq!(secure_join(root, "/abs/x").unwrap(), root.join("etc/x"));
        assert_eq!(secure_join(root, "/rel/y").unwrap(), root.join("real/y"));
        assert_eq!(secure_join(root, "/../../z").unwrap(), root.join("z"));
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert!(secure_join(root, "/loop").is_err());
    }

    #[test]
    fn per_container_files_replace_symlinks_instead_of_following_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(root.join("target")).unwrap();
        fs::write(root.join("target/hostname"), "image").unwrap();
        std::os::unix::fs::symlink("/target/hostname", root.join("etc/hostname")).unwrap();
        fs::write(root.join("etc/hosts"), "kept").unwrap();
        let dest = replace_with_file(root, "/etc/hostname").unwrap();
        assert_eq!(dest, root.join("etc/hostname"));
        let meta = fs::symlink_metadata(&dest).unwrap();
        assert!(meta.is_file() && meta.len() == 0);
        assert_eq!(
            fs::read_to_string(root.join("target/hostname")).unwrap(),
            "image"
        );
        let dest = replace_with_file(root, "/etc/hosts").unwrap();
        assert_eq!(fs::read_to_string(dest).unwrap(), "kept");
        // A missing file (and directory) is created.
        let empty = tempfile::tempdir().unwrap();
        let dest = replace_with_file(empty.path(), "/etc/resolv.conf").unwrap();
        assert!(dest.is_file());
    }

    #[test]
    fn tmpfs_options_split_into_flags_and_data() {
        let opts: Vec<String> = [
            "noexec",
            "nosuid",
            "nodev",
            "rprivate",
            "size=65536k",
            "exec",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (flags, prop, data) = parse_options(&opts);
        assert_eq!(flags, MsFlags::MS_NOSUID | MsFlags::MS_NODEV);
        assert_eq!(prop, Some(MsFlags::MS_PRIVATE | MsFlags::MS_REC));
        assert_eq!(data, "size=65536k");
    }
}
