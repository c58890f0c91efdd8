//! Creating and joining namespaces.
//!
//! Namespaces with a path (`--network container:x`) are joined first, then the rest are
//! created with one `unshare`. The cgroup namespace is created later, by the grandchild
//! once it is in the container's cgroup, so that cgroup becomes the namespace's root (runc's
//! order). No user namespaces.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use nix::sched::{setns, unshare, CloneFlags};

use super::spec::{NamespaceKind, NamespaceSpec};
use super::{RuntimeError, Step};

/// The clone flag of a namespace kind.
pub(super) fn flag(kind: NamespaceKind) -> CloneFlags {
    match kind {
        NamespaceKind::Mount => CloneFlags::CLONE_NEWNS,
        NamespaceKind::Uts => CloneFlags::CLONE_NEWUTS,
        NamespaceKind::Ipc => CloneFlags::CLONE_NEWIPC,
        NamespaceKind::Pid => CloneFlags::CLONE_NEWPID,
        NamespaceKind::Net => CloneFlags::CLONE_NEWNET,
        NamespaceKind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
    }
}

/// The name of the namespace's file under `/proc/<pid>/ns/`.
pub(super) fn proc_name(kind: NamespaceKind) -> &'static str {
    match kind {
        NamespaceKind::Mount => "mnt",
        NamespaceKind::Uts => "uts",
        NamespaceKind::Ipc => "ipc",
        NamespaceKind::Pid => "pid",
        NamespaceKind::Net => "net",
        NamespaceKind::Cgroup => "cgroup",
    }
}

/// Joins `path` as a namespace of `kind`.
pub(super) fn join(kind: NamespaceKind, path: &Path) -> Result<(), RuntimeError> {
    let step = || format!("joining namespace {}", path.display());
    let file = File::open(path).step(step())?;
    setns(file.as_fd(), flag(kind)).step(step())
}

/// In the intermediate child: joins every namespace with a path, then creates the others
/// except the cgroup namespace.
pub(super) fn enter(specs: &[NamespaceSpec]) -> Result<(), RuntimeError> {
    for ns in specs {
        if let Some(path) = &ns.path {
            join(ns.kind, path)?;
        }
    }
    let mut flags = CloneFlags::empty();
    for ns in specs {
        if ns.path.is_none() && ns.kind != NamespaceKind::Cgroup {
            flags |= flag(ns.kind);
        }
    }
    if !flags.is_empty() {
        unshare(flags).step("creating namespaces")?;
    }
    Ok(())
}

/// In the grandchild, once in its cgroup: creates the cgroup namespace when asked.
pub(super) fn enter_cgroup(specs: &[NamespaceSpec]) -> Result<(), RuntimeError> {
    if creates(specs, NamespaceKind::Cgroup) {
        unshare(CloneFlags::CLONE_NEWCGROUP).step("creating the cgroup namespace")?;
    }
    Ok(())
}

/// Whether a fresh namespace of `kind` is created (not shared with the host, not joined).
pub(super) fn creates(specs: &[NamespaceSpec], kind: NamespaceKind) -> bool {
    specs.iter().any(|ns| ns.kind == kind && ns.path.is_none())
}
