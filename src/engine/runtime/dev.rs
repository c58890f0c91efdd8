//! The container's `/dev`: a tmpfs with Docker's default device nodes and symlinks, a
//! private `devpts`, `/dev/shm` per [`ShmSpec`], `/dev/mqueue`, `--device` nodes, and every
//! host device when privileged.
//!
//! Not here: the device cgroup's allow list (`--device ...:rwm` permissions) and
//! `/dev/console` for `-t`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chown, Gid, Uid};

use super::mounts::{ensure_dir, secure_join};
use super::rootfs::{is_device, ordinary_dir};
use super::spec::{InitSpec, ShmSpec};
use super::{RuntimeError, Step};

const NONE: Option<&str> = None;

/// Docker's default devices: name, major, minor (all `0666`, owned by root).
const DEFAULT_DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// runc's default symlinks in `/dev`.
const SYMLINKS: [(&str, &str); 6] = [
    ("/proc/self/fd", "fd"),
    ("/proc/self/fd/0", "stdin"),
    ("/proc/self/fd/1", "stdout"),
    ("/proc/self/fd/2", "stderr"),
    ("pts/ptmx", "ptmx"),
    ("/proc/kcore", "core"),
];

/// Host `/dev` directories that privileged containers do not copy (Docker's
/// `HostDevices` skips them).
const HOST_DEV_SKIP: [&str; 6] = ["pts", "shm", "fd", "mqueue", ".lxc", ".udev"];

/// Builds `<root>/dev`.
pub(super) fn mount_dev(root: &Path, spec: &InitSpec) -> Result<(), RuntimeError> {
    let dev = root.join("dev");
    ordinary_dir(&dev, "tmpfs")?;
    mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .step("mounting /dev")?;
    for (name, major, minor) in DEFAULT_DEVICES {
        make_node(
            &dev.join(name),
            SFlag::S_IFCHR,
            0o666,
            makedev(major, minor),
            0,
            0,
        )?;
    }
    for (target, name) in SYMLINKS {
        // runc adds `/dev/core` only when the host has a `/proc/kcore` to point at.
        if name == "core" && !Path::new("/proc/kcore").exists() {
            continue;
        }
        std::os::unix::fs::symlink(target, dev.join(name)).step(format!("creating /dev/{name}"))?;
    }
    let pts = dev.join("pts");
    ensure_dir(&pts)?;
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )
    .step("mounting /dev/pts")?;
    mount_shm(&dev, &spec.shm)?;
    let mqueue = dev.join("mqueue");
    ensure_dir(&mqueue)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount(Some("mqueue"), &mqueue, Some("mqueue"), flags, NONE).step("mounting /dev/mqueue")?;
    if spec.privileged {
        copy_host_devices(Path::new("/dev"), &dev)?;
    }
    for d in &spec.devices {
        add_device(root, &d.path_on_host, &d.path_in_container)?;
    }
    Ok(())
}

fn mount_shm(dev: &Path, shm: &ShmSpec) -> Result<(), RuntimeError> {
    let dest = dev.join("shm");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    match shm {
        ShmSpec::None => Ok(()),
        ShmSpec::Private { size } => {
            ensure_dir(&dest)?;
            let data = format!("mode=1777,size={size}");
            mount(
                Some("shm"),
                &dest,
                Some("tmpfs"),
                flags,
                Some(data.as_str()),
            )
            .step("mounting /dev/shm")
        }
        ShmSpec::Join { source } => {
            ensure_dir(&dest)?;
            mount(Some(source), &dest, NONE, MsFlags::MS_BIND, NONE).step("mounting /dev/shm")
        }
    }
}

/// `mknod` with an exact mode (no umask) and owner.
fn make_node(
    path: &Path,
    kind: SFlag,
    perm: u32,
    rdev: u64,
    uid: u32,
    gid: u32,
) -> Result<(), RuntimeError> {
    let step = || format!("creating device {}", path.display());
    mknod(path, kind, Mode::from_bits_truncate(perm), rdev).step(step())?;
    fs::set_permissions(path, fs::Permissions::from_mode(perm)).step(step())?;
    chown(path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).step(step())
}

/// Creates a node in the container like the host's device at `host` (Docker's
/// `--device`).
fn add_device(root: &Path, host: &str, in_container: &str) -> Result<(), RuntimeError> {
    let step = || format!("adding device {host}");
    let meta = fs::metadata(host).step(step())?;
    if !is_device(&meta) {
        return Err(RuntimeError::new(
            step(),
            format!("{host} is not a device node"),
        ));
    }
    let dest_name = if in_container.is_empty() {
        host
    } else {
        in_container
    };
    let dest = secure_join(root, dest_name)?;
    if let Some(parent) = dest.parent() {
        ensure_dir(parent)?;
    }
    if fs::symlink_metadata(&dest).is_ok() {
        fs::remove_file(&dest).step(step())?;
    }
    let kind = SFlag::from_bits_truncate(meta.mode() & SFlag::S_IFMT.bits());
    make_node(
        &dest,
        kind,
        meta.mode() & 0o7777,
        meta.rdev(),
        meta.uid(),
        meta.gid(),
    )
}

/// `--privileged`: every device node of the host's `/dev`, recursively.
fn copy_host_devices(host: &Path, dest: &Path) -> Result<(), RuntimeError> {
    let Ok(entries) = fs::read_dir(host) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let target = dest.join(&name);
        if meta.is_dir() {
            if HOST_DEV_SKIP.iter().any(|s| name == *s) {
                continue;
            }
            ensure_dir(&target)?;
            copy_host_devices(&entry.path(), &target)?;
        } else if is_device(&meta) && fs::symlink_metadata(&target).is_err() {
            let kind = SFlag::from_bits_truncate(meta.mode() & SFlag::S_IFMT.bits());
            make_node(
                &target,
                kind,
                meta.mode() & 0o7777,
                meta.rdev(),
                meta.uid(),
                meta.gid(),
            )?;
        }
    }
    Ok(())
}
