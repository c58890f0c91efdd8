//! cgroup v1: one directory per controller hierarchy (memory, cpu, cpuacct, cpuset, pids,
//! freezer, devices, and every other mounted hierarchy such as blkio or `name=systemd`,
//! where nothing is set but the container still gets its own group, as with runc);
//! co-mounted controllers share a directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::{self, write};
use super::stats::{v1_limit, Stats};
use super::{DeviceRules, Error, Resources, Result, V1Mounts};

const SETTLE: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(super) struct V1Cgroup {
    memory: Option<PathBuf>,
    cpu: Option<PathBuf>,
    cpuacct: Option<PathBuf>,
    cpuset: Option<PathBuf>,
    pids: Option<PathBuf>,
    freezer: Option<PathBuf>,
    devices: Option<PathBuf>,
    others: Vec<PathBuf>,
}

/// Removes the leaf directories `create` made when a later step fails.
struct Undo(Vec<PathBuf>);

impl Drop for Undo {
    fn drop(&mut self) {
        for dir in &self.0 {
            // Best effort: the error that got us here is the one worth reporting.
            let _ = files::rmdir(dir);
        }
    }
}

impl V1Cgroup {
    fn at(m: &V1Mounts, rel: &Path) -> Self {
        let j = |p: &Option<PathBuf>| p.as_ref().map(|p| p.join(rel));
        V1Cgroup {
            memory: j(&m.memory),
            cpu: j(&m.cpu),
            cpuacct: j(&m.cpuacct),
            cpuset: j(&m.cpuset),
            pids: j(&m.pids),
            freezer: j(&m.freezer),
            devices: j(&m.devices),
            others: m.others.iter().map(|p| p.join(rel)).collect(),
        }
    }

    pub fn create(
        m: &V1Mounts,
        rel: &Path,
        res: &Resources,
        devices: Option<&DeviceRules>,
        warnings: &mut Vec<String>,
    ) -> Result<Self> {
        let cg = Self::at(m, rel);
        let mut roots: Vec<&PathBuf> = [
            &m.memory, &m.cpu, &m.cpuacct, &m.cpuset, &m.pids, &m.freezer, &m.devices,
        ]
        .into_iter()
        .flatten()
        .chain(m.others.iter())
        .collect();
        roots.sort();
        roots.dedup();
        let mut undo = Undo(Vec::new());
        for root in roots {
            let is_cpuset = m.cpuset.as_ref() == Some(root);
            let created = files::mkdir_levels(root, rel, |dir| {
                if is_cpuset {
                    inherit_cpuset(dir)?;
                }
                Ok(())
            })?;
            if created {
                undo.0.push(root.join(rel));
            }
        }
        cg.apply(res, warnings)?;
        if let (Some(dir), Some(rules)) = (&cg.devices, devices) {
            super::devices::apply_v1(dir, rules)?;
        }
        undo.0.clear();
        Ok(cg)
    }

    pub fn open(m: &V1Mounts, rel: &Path) -> Result<Self> {
        let cg = Self::at(m, rel);
        match cg.paths().into_iter().find(|p| !p.exists()) {
            Some(missing) => Err(Error::io(
                "open cgroup",
                &missing,
                std::io::ErrorKind::NotFound.into(),
            )),
            None => Ok(cg),
        }
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = [
            &self.memory,
            &self.cpu,
            &self.cpuacct,
            &self.cpuset,
            &self.pids,
            &self.freezer,
            &self.devices,
        ]
        .into_iter()
        .flatten()
        .chain(self.others.iter())
        .cloned()
        .collect();
        all.sort();
        all.dedup();
        all
    }

    fn apply(&self, res: &Resources, warnings: &mut Vec<String>) -> Result<()> {
        let wants_memory = res.memory > 0 || res.memory_reservation > 0 || res.oom_kill_disable;
        match &self.memory {
            Some(dir) => apply_memory(dir, res, warnings)?,
            None if wants_memory => warnings.push(
                "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.".into(),
            ),
            None => {}
        }
        if let Some(dir) = &self.cpu {
            if res.cpu_shares > 0 {
                write(
                    "set cpu shares",
                    &dir.join("cpu.shares"),
                    &res.cpu_shares.to_string(),
                )?;
            }
            if let Some((quota, period)) = res.cfs_quota() {
                write(
                    "set cpu quota",
                    &dir.join("cpu.cfs_period_us"),
                    &period.to_string(),
                )?;
                write(
                    "set cpu quota",
                    &dir.join("cpu.cfs_quota_us"),
                    &quota.to_string(),
                )?;
            }
        } else if res.cpu_shares > 0 || res.nano_cpus > 0 {
            warnings.push("Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.".into());
        }
        if let Some(dir) = &self.cpuset {
            if !res.cpuset_cpus.is_empty() {
                write("set cpuset", &dir.join("cpuset.cpus"), &res.cpuset_cpus)?;
            }
            if !res.cpuset_mems.is_empty() {
                write("set cpuset", &dir.join("cpuset.mems"), &res.cpuset_mems)?;
            }
        }
        match (&self.pids, res.pids_max()) {
            (Some(dir), Some(max)) => write("set pids limit", &dir.join("pids.max"), &max.to_string())?,
            (None, Some(_)) => warnings.push(
                "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.".into(),
            ),
            _ => {}
        }
        Ok(())
    }

    pub fn add_process(&self, pid: i32) -> Result<()> {
        for dir in self.paths() {
            write(
                "add process to cgroup",
                &dir.join("cgroup.procs"),
                &pid.to_string(),
            )?;
        }
        Ok(())
    }

    fn any_dir(&self) -> Result<PathBuf> {
        self.paths()
            .into_iter()
            .next()
            .ok_or_else(|| Error::Unsupported("no cgroup v1 controller is mounted".into()))
    }

    pub fn procs(&self) -> Result<Vec<i32>> {
        files::read_procs(
            "list cgroup processes",
            &self.any_dir()?.join("cgroup.procs"),
        )
    }

    fn freezer_state(&self) -> Result<PathBuf> {
        self.freezer
            .as_ref()
            .map(|d| d.join("freezer.state"))
            .ok_or_else(|| {
                Error::Unsupported("the freezer cgroup is not mounted: cannot pause".into())
            })
    }

    pub fn is_frozen(&self) -> Result<bool> {
        let state = self.freezer_state()?;
        Ok(files::read("read freezer state", &state)?.trim() == "FROZEN")
    }

    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let state = self.freezer_state()?;
        let (step, want) = if frozen {
            ("freeze cgroup", "FROZEN")
        } else {
            ("thaw cgroup", "THAWED")
        };
        let result = files::wait_until(step, &state, SETTLE, || {
            // Rewrite every time: a freeze can stall in FREEZING while tasks fork, and
            // writing FROZEN again retries it (as runc does).
            write(step, &state, want)?;
            Ok(files::read(step, &state)?.trim() == want)
        });
        if result.is_err() && frozen {
            // Never leave a half-frozen container behind.
            let _ = write("thaw cgroup", &state, "THAWED");
        }
        result
    }

    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        if let Some(dir) = &self.memory {
            let usage =
                files::read_number("read memory usage", &dir.join("memory.usage_in_bytes"))?;
            let limit =
                files::read_number("read memory limit", &dir.join("memory.limit_in_bytes"))?;
            s.memory_usage = usage.unwrap_or(0);
            s.memory_limit = limit.and_then(v1_limit);
        }
        if let Some(dir) = &self.cpuacct {
            s.cpu_usage_ns =
                files::read_number("read cpu usage", &dir.join("cpuacct.usage"))?.unwrap_or(0);
        }
        if let Some(dir) = &self.pids {
            s.pids_current =
                files::read_number("read pids", &dir.join("pids.current"))?.unwrap_or(0);
            s.pids_limit = files::read_number("read pids limit", &dir.join("pids.max"))?;
        }
        Ok(s)
    }

    pub fn oom_killed(&self) -> Result<bool> {
        let Some(dir) = &self.memory else {
            return Ok(false);
        };
        // `oom_kill` exists since Linux 4.13; older kernels cannot tell us.
        let text = files::read("read oom state", &dir.join("memory.oom_control"))?;
        Ok(files::keyed(&text, "oom_kill").unwrap_or(0) > 0)
    }

    pub fn kill_all(&self) -> Result<()> {
        let dir = self.any_dir()?;
        let step = "kill processes";
        // Frozen processes cannot fork new ones between our listing and our kill.
        let frozen = self.freezer.is_some() && self.set_frozen(true).is_ok();
        let killed = files::kill_pids(&self.procs()?, &dir);
        if frozen {
            self.set_frozen(false)?;
        }
        killed?;
        files::wait_until(step, &dir, SETTLE, || {
            let left = self.procs()?;
            files::kill_pids(&left, &dir)?;
            Ok(left.is_empty())
        })
    }

    pub fn destroy(&self) -> Result<()> {
        if self.paths().iter().any(|p| p.exists()) {
            self.kill_all()?;
        }
        for dir in self.paths() {
            files::rmdir(&dir)?;
        }
        Ok(())
    }
}

fn apply_memory(dir: &Path, res: &Resources, warnings: &mut Vec<String>) -> Result<()> {
    // The limit before memsw: the kernel wants memsw >= limit at every moment.
    if res.memory > 0 {
        write(
            "set memory limit",
            &dir.join("memory.limit_in_bytes"),
            &res.memory.to_string(),
        )?;
    }
    if let Some(total) = res.memory_swap_total() {
        let memsw = dir.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            write("set memory+swap limit", &memsw, &total.to_string())?;
        } else {
            warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.".into());
        }
    }
    if res.memory_reservation > 0 {
        let p = dir.join("memory.soft_limit_in_bytes");
        write(
            "set memory reservation",
            &p,
            &res.memory_reservation.to_string(),
        )?;
    }
    if res.oom_kill_disable {
        write("disable oom killer", &dir.join("memory.oom_control"), "1")?;
    }
    Ok(())
}

/// A new v1 cpuset starts with empty cpus and mems, and no process can join it until they
/// are set: copy the parent's. A no-op on a level that has them.
fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for name in ["cpuset.cpus", "cpuset.mems"] {
        let mine = files::read("create cpuset cgroup", &dir.join(name))?;
        if mine.trim().is_empty() {
            let theirs = files::read("create cpuset cgroup", &parent.join(name))?;
            write("create cpuset cgroup", &dir.join(name), theirs.trim())?;
        }
    }
    Ok(())
}
