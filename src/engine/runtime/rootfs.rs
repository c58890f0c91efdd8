//! The root filesystem: the overlay (or a bind of `upper` for an image without layers),
//! `/proc` and `/sys`, `pivot_root`, and the final read-only remount for `--read-only`.
//!
//! All of it runs in the container's own mount namespace, made `rprivate` first so that
//! nothing propagates back to the host.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};

use super::spec::RootfsSpec;
use super::{RuntimeError, Step};

/// The kernel's limit on mount data: one page, including the terminating NUL.
const MOUNT_DATA_MAX: usize = 4095;

const NONE: Option<&str> = None;

/// Makes every mount in this (new) mount namespace private, so the container's mounts stay
/// inside it and the host's later mounts do not appear in it.
pub(super) fn make_private() -> Result<(), RuntimeError> {
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .step("making mounts private")
}

/// Mounts the container's root at `rootfs.target`.
pub(super) fn mount_root(rootfs: &RootfsSpec) -> Result<(), RuntimeError> {
    let target = &rootfs.target;
    let step = || format!("mounting the root filesystem at {}", target.display());
    if rootfs.lower.is_empty() {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
        return mount(Some(&rootfs.upper), target, NONE, flags, NONE).step(step());
    }
    let mut paths: Vec<&Path> = rootfs.lower.iter().map(PathBuf::as_path).collect();
    paths.push(&rootfs.upper);
    paths.push(&rootfs.work);
    let mut data = overlay_data(&paths, Path::new(""));
    if data.len() > MOUNT_DATA_MAX {
        // Too long with absolute paths: overlayfs resolves relative ones against the cwd of
        // the mounting process, so name everything from the closest common parent.
        let base = common_parent(&paths);
        chdir(&base).step(step())?;
        data = overlay_data(&paths, &base);
        if data.len() > MOUNT_DATA_MAX {
            return Err(RuntimeError::new(
                step(),
                format!(
                    "overlay mount data is {} bytes, over the page limit",
                    data.len()
                ),
            ));
        }
    }
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_slice()),
    )
    .step(step())
}

/// `lowerdir=a:b,upperdir=u,workdir=w` with every path made relative to `base` (`""` keeps
/// them as they are). `paths` is the lower layers, then upper, then work.
fn overlay_data(paths: &[&Path], base: &Path) -> Vec<u8> {
    let rel = |p: &Path| -> Vec<u8> {
        let r = p.strip_prefix(base).unwrap_or(p);
        if r.as_os_str().is_empty() {
            b".".to_vec()
        } else {
            r.as_os_str().as_bytes().to_vec()
        }
    };
    let n = paths.len();
    let (lower, upper, work) = (&paths[..n - 2], paths[n - 2], paths[n - 1]);
    let mut data = b"lowerdir=".to_vec();
    for (i, p) in lower.iter().enumerate() {
        if i > 0 {
            data.push(b':');
        }
        data.extend(rel(p));
    }
    data.extend_from_slice(b",upperdir=");
    data.extend(rel(upper));
    data.extend_from_slice(b",workdir=");
    data.extend(rel(work));
    data
}

/// The deepest directory that contains every path.
fn common_parent(paths: &[&Path]) -> PathBuf {
    let mut base: PathBuf = paths
        .first()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    while !paths.iter().all(|p| p.starts_with(&base)) {
        if !base.pop() {
            return PathBuf::from("/");
        }
    }
    base
}

/// Refuses a mount point that is not an ordinary directory (a symlink in the image could
/// otherwise point `/proc` at the host), creating it when missing; runc's check and text.
pub(super) fn ordinary_dir(dest: &Path, fstype: &str) -> Result<(), RuntimeError> {
    match fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(RuntimeError::new(
            format!("mounting {fstype} at {}", dest.display()),
            format!("filesystem {fstype:?} must be mounted on ordinary directory"),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::DirBuilder::new()
            .mode(0o755)
            .create(dest)
            .step(format!("creating {}", dest.display())),
        Err(e) => Err(RuntimeError::new(
            format!("mounting {fstype} at {}", dest.display()),
            e,
        )),
    }
}

/// Mounts `/proc` and `/sys` (read-only unless privileged) under `root`.
pub(super) fn mount_proc_sys(root: &Path, privileged: bool) -> Result<(), RuntimeError> {
    let base = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let proc = root.join("proc");
    ordinary_dir(&proc, "proc")?;
    mount(Some("proc"), &proc, Some("proc"), base, NONE).step("mounting /proc")?;
    let sys = root.join("sys");
    ordinary_dir(&sys, "sysfs")?;
    let flags = if privileged {
        base
    } else {
        base | MsFlags::MS_RDONLY
    };
    mount(Some("sysfs"), &sys, Some("sysfs"), flags, NONE).step("mounting /sys")
}

/// Makes `root` the process's root and detaches the old one.
pub(super) fn pivot(root: &Path) -> Result<(), RuntimeError> {
    chdir(root).step("entering the root filesystem")?;
    // pivot_root(".", ".") stacks the old root on top of the new one (runc's trick, no
    // temporary directory needed); the detach below then removes it.
    pivot_root(".", ".").step("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).step("detaching the old root")?;
    chdir("/").step("entering the root filesystem")
}

/// `--read-only`: remounts `/` read-only once every mount point exists.
pub(super) fn remount_readonly() -> Result<(), RuntimeError> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(NONE, "/", NONE, flags, NONE).step("remounting the root filesystem read-only")
}

/// Whether `path` is a character or block device (for `--device` and privileged /dev).
pub(super) fn is_device(meta: &fs::Metadata) -> bool {
    meta.file_type().is_char_device() || meta.file_type().is_block_device()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_data_joins_lower_then_upper_and_work() {
        let paths = [
            Path::new("/s/l/a"),
            Path::new("/s/l/b"),
            Path::new("/s/c/up"),
            Path::new("/s/c/work"),
        ];
        let data = overlay_data(&paths, Path::new(""));
        assert_eq!(
            data,
            b"lowerdir=/s/l/a:/s/l/b,upperdir=/s/c/up,workdir=/s/c/work".to_vec()
        );
        let base = common_parent(&paths);
        assert_eq!(base, Path::new("/s"));
        assert_eq!(
            overlay_data(&paths, &base),
            b"lowerdir=l/a:l/b,upperdir=c/up,workdir=c/work".to_vec()
        );
    }
}
