//! Cgroup manager for containers, on cgroup v1 (also the v1 side of a hybrid host) and v2.
//!
//! [`Cgroup::create`] makes a container's cgroup (`berth/<id>` under every v1 hierarchy we
//! use, or one directory under the v2 root with the parent's controllers enabled) and writes
//! its [`Resources`]; then [`Cgroup::add_process`], [`Cgroup::freeze`]/[`Cgroup::thaw`]
//! (pause), [`Cgroup::stats`], [`Cgroup::oom_killed`], [`Cgroup::procs`],
//! [`Cgroup::kill_all`] and [`Cgroup::destroy`]. [`Cgroup::open`] re-adopts an existing group
//! after a daemon restart (it writes nothing).
//!
//! The version is detected at run time from /proc/self/mountinfo ([`detect::detect`]): any
//! v1 controller hierarchy means v1 (hybrid hosts keep their controllers there), else the
//! cgroup2 mount. The root path is injectable ([`Layout`]), so the v2 code is tested against
//! fixture directories; the v1 code is tested for real in `tests/engine_cgroups.rs`.
//!
//! [`Resources`] follow Docker's HostConfig semantics and validation wording
//! ([`Resources::validate`]); settings the host cannot honour (swap accounting off,
//! oom-kill-disable on v2) are dropped with Docker's warning, returned by
//! [`Cgroup::warnings`].
//!
//! [`Cgroup::create_with_devices`] also applies the device cgroup's [`DeviceRules`] (v1
//! only: v2 device rules need an eBPF program and are not enforced yet).
//!
//! Not done yet: v2 device rules, blkio/io limits, live `update`, systemd cgroup driver,
//! the cgroup namespace, memory cache accounting in stats, nested (rootless) delegation.

mod detect;
mod devices;
mod files;
mod resources;
mod stats;
mod v1;
mod v2;

use std::io;
use std::path::{Path, PathBuf};

pub use detect::{
    detect, parse_mountinfo, parse_v1_hierarchies, v1_hierarchies, Layout, V1Hierarchy, V1Mounts,
};
pub use devices::{DeviceKind, DeviceRule, DeviceRules};
pub use resources::{cpu_weight, parse_list, HostInfo, Resources, CFS_PERIOD_US, MIN_MEMORY};
pub use stats::Stats;

/// Everything a cgroup operation can fail with. I/O errors name the step and the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cgroup file or directory could not be read, written, created or removed.
    #[error("{step}: {}: {source}", path.display())]
    Io {
        step: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A resource setting Docker would reject, in Docker's words.
    #[error("{0}")]
    Invalid(String),
    /// The cgroup did not reach the wanted state in time (freezing, emptying).
    #[error("{step}: {}: timed out", path.display())]
    Timeout { step: &'static str, path: PathBuf },
    /// The host has no cgroup hierarchy we can use, or lacks one this operation needs.
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    fn io(step: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            step,
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One container's cgroup, in whichever hierarchy version the host uses.
#[derive(Debug)]
pub struct Cgroup {
    backend: Backend,
    warnings: Vec<String>,
}

#[derive(Debug)]
enum Backend {
    V1(v1::V1Cgroup),
    V2(v2::V2Cgroup),
}

impl Cgroup {
    /// Creates the cgroup `name` (a relative path such as `berth/<id>`; missing parents are
    /// created) and writes `res`, which must already be validated. On failure everything
    /// created for the leaf is removed again.
    /// Sets no device rules (the group inherits its parent's); containers use
    /// [`Cgroup::create_with_devices`].
    pub fn create(layout: &Layout, name: &str, res: &Resources) -> Result<Cgroup> {
        Self::create_inner(layout, name, res, None)
    }

    /// [`Cgroup::create`], then restricts device access to `devices` (Docker's
    /// [`DeviceRules::for_container`] plus `--device` entries). On v2 the rules are not
    /// enforced yet (an eBPF program would be needed).
    pub fn create_with_devices(
        layout: &Layout,
        name: &str,
        res: &Resources,
        devices: &DeviceRules,
    ) -> Result<Cgroup> {
        Self::create_inner(layout, name, res, Some(devices))
    }

    fn create_inner(
        layout: &Layout,
        name: &str,
        res: &Resources,
        devices: Option<&DeviceRules>,
    ) -> Result<Cgroup> {
        let rel = check_name(name)?;
        let mut warnings = Vec::new();
        let backend = match layout {
            Layout::V1(mounts) => Backend::V1(v1::V1Cgroup::create(
                mounts,
                rel,
                res,
                devices,
                &mut warnings,
            )?),
            Layout::V2 { root } => {
                Backend::V2(v2::V2Cgroup::create(root, rel, res, &mut warnings)?)
            }
        };
        for w in &warnings {
            tracing::warn!(cgroup = name, "{w}");
        }
        Ok(Cgroup { backend, warnings })
    }

    /// Opens an existing cgroup `name` without writing anything (daemon restart).
    pub fn open(layout: &Layout, name: &str) -> Result<Cgroup> {
        let rel = check_name(name)?;
        let backend = match layout {
            Layout::V1(mounts) => Backend::V1(v1::V1Cgroup::open(mounts, rel)?),
            Layout::V2 { root } => Backend::V2(v2::V2Cgroup::open(root, rel)?),
        };
        Ok(Cgroup {
            backend,
            warnings: Vec::new(),
        })
    }

    /// Docker's warnings for settings dropped at creation (shown to the user on create).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every directory this cgroup lives in (one per v1 hierarchy, or the v2 directory).
    pub fn paths(&self) -> Vec<PathBuf> {
        match &self.backend {
            Backend::V1(c) => c.paths(),
            Backend::V2(c) => vec![c.path().to_path_buf()],
        }
    }

    /// Moves process `pid` (and its threads) into the cgroup.
    pub fn add_process(&self, pid: i32) -> Result<()> {
        match &self.backend {
            Backend::V1(c) => c.add_process(pid),
            Backend::V2(c) => c.add_process(pid),
        }
    }

    /// The PIDs in the cgroup (not its children).
    pub fn procs(&self) -> Result<Vec<i32>> {
        match &self.backend {
            Backend::V1(c) => c.procs(),
            Backend::V2(c) => c.procs(),
        }
    }

    /// Freezes every process (Docker's pause) and waits until the kernel says frozen.
    pub fn freeze(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(c) => c.set_frozen(true),
            Backend::V2(c) => c.set_frozen(true),
        }
    }

    /// Thaws the cgroup (Docker's unpause) and waits until it runs again.
    pub fn thaw(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(c) => c.set_frozen(false),
            Backend::V2(c) => c.set_frozen(false),
        }
    }

    /// Whether the cgroup is frozen now.
    pub fn is_frozen(&self) -> Result<bool> {
        match &self.backend {
            Backend::V1(c) => c.is_frozen(),
            Backend::V2(c) => c.is_frozen(),
        }
    }

    /// Memory, CPU and pids usage, for `docker stats`.
    pub fn stats(&self) -> Result<Stats> {
        match &self.backend {
            Backend::V1(c) => c.stats(),
            Backend::V2(c) => c.stats(),
        }
    }

    /// Whether the kernel's OOM killer killed a process in this cgroup (`OOMKilled`).
    pub fn oom_killed(&self) -> Result<bool> {
        match &self.backend {
            Backend::V1(c) => c.oom_killed(),
            Backend::V2(c) => c.oom_killed(),
        }
    }

    /// SIGKILLs every process in the cgroup and waits until it is empty.
    pub fn kill_all(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(c) => c.kill_all(),
            Backend::V2(c) => c.kill_all(),
        }
    }

    /// Kills what is left and removes the cgroup's directories (its parents stay).
    /// Removing an already removed cgroup succeeds.
    pub fn destroy(&self) -> Result<()> {
        match &self.backend {
            Backend::V1(c) => c.destroy(),
            Backend::V2(c) => c.destroy(),
        }
    }
}

/// A cgroup name must stay below the hierarchy root: relative, no `..`, nothing empty.
fn check_name(name: &str) -> Result<&Path> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(Error::Invalid(format!("invalid cgroup name {name:?}")));
    }
    Ok(Path::new(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_stay_below_the_root() {
        assert!(check_name("berth/abc").is_ok());
        for bad in ["", "/berth", "berth/../x", "berth//x", "./x", "x/"] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
