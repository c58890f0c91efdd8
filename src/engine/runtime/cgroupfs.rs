//! The container's `/sys/fs/cgroup`, as Docker (runc) builds it.
//!
//! cgroup v1 (and the v1 side of a hybrid host): a tmpfs at `/sys/fs/cgroup`, and every v1
//! hierarchy's own group of this container (`<hierarchy mount>/<cgroup name>`) bound at
//! `/sys/fs/cgroup/<mount name>` (`cpu,cpuacct` for co-mounted controllers, with `cpu` and
//! `cpuacct` symlinks to it); the binds are made read-only unless privileged. The tmpfs
//! itself stays read-write, and the v2 `unified` mount of a hybrid host is not shown: both
//! as under dockerd (checked by tests/engine_isolation.rs).
//! Pure v2: a fresh `cgroup2` mount, which the cgroup namespace roots at the container's
//! group (read-only unless privileged).
//!
//! Runs in the container's mount namespace after `/sys` is mounted and before
//! `pivot_root`, so the host's hierarchy mounts are still reachable by their host paths.

use std::fs;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::{RuntimeError, Step};
use crate::engine::cgroups::{self, Layout, V1Hierarchy};

const NONE: Option<&str> = None;

/// Mounts `<root>/sys/fs/cgroup` for the cgroup `name` (relative to each hierarchy root,
/// as the shim created it).
pub(super) fn mount_cgroupfs(
    root: &Path,
    name: &str,
    privileged: bool,
) -> Result<(), RuntimeError> {
    let step = "mounting /sys/fs/cgroup";
    let target = root.join("sys/fs/cgroup");
    if !target.is_dir() {
        // A kernel without cgroups has no mount point in sysfs (read-only, so none can be
        // made); there is nothing to show either.
        return Ok(());
    }
    let layout = cgroups::detect().step(step)?;
    let base = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let ro = if privileged {
        MsFlags::empty()
    } else {
        MsFlags::MS_RDONLY
    };
    match layout {
        Layout::V2 { .. } => {
            mount(Some("cgroup"), &target, Some("cgroup2"), base | ro, NONE).step(step)
        }
        Layout::V1(_) => {
            let hierarchies = cgroups::v1_hierarchies().step(step)?;
            mount_v1(&target, name, &hierarchies, base, ro)
        }
    }
}

fn mount_v1(
    target: &Path,
    name: &str,
    hierarchies: &[V1Hierarchy],
    base: MsFlags,
    ro: MsFlags,
) -> Result<(), RuntimeError> {
    let step = "mounting /sys/fs/cgroup";
    mount(Some("tmpfs"), target, Some("tmpfs"), base, Some("mode=755")).step(step)?;
    for h in hierarchies {
        let Some(dir_name) = h.mount_point.file_name() else {
            continue;
        };
        let source = h.mount_point.join(name);
        if !source.is_dir() {
            // A hierarchy the shim did not create a group in (mounted after it started):
            // showing the host's whole tree instead would leak it, so leave it out.
            continue;
        }
        let dest = target.join(dir_name);
        fs::DirBuilder::new()
            .mode(0o755)
            .create(&dest)
            .step(format!("creating {}", dest.display()))?;
        let what = format!("mounting {} at {}", source.display(), dest.display());
        mount(
            Some(&source),
            &dest,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        )
        .step(&what)?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | base | ro;
        mount(NONE, &dest, NONE, flags, NONE).step(&what)?;
        // `cpu,cpuacct` also answers to `cpu` and `cpuacct`.
        if h.controllers.len() > 1 {
            for c in &h.controllers {
                if Path::new(c) != Path::new(dir_name) {
                    symlink(dir_name, target.join(c))
                        .step(format!("linking /sys/fs/cgroup/{c}"))?;
                }
            }
        }
    }
    Ok(())
}
