//! cgroup v2: one directory in the unified hierarchy; the controllers it needs are enabled
//! in every ancestor's `cgroup.subtree_control`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::{self, write};
use super::resources::cpu_weight;
use super::stats::Stats;
use super::{Error, Resources, Result};

const SETTLE: Duration = Duration::from_secs(5);
/// The controllers a container's limits use, in the order the kernel wants them enabled.
const CONTROLLERS: [&str; 4] = ["cpuset", "cpu", "memory", "pids"];

#[derive(Debug)]
pub(super) struct V2Cgroup {
    dir: PathBuf,
}

impl V2Cgroup {
    pub fn create(
        root: &Path,
        rel: &Path,
        res: &Resources,
        warnings: &mut Vec<String>,
    ) -> Result<Self> {
        let mut dir = root.to_path_buf();
        let mut created = false;
        for comp in rel.components() {
            enable_controllers(&dir)?;
            dir.push(comp);
            created = match std::fs::create_dir(&dir) {
                Ok(()) => true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(Error::io("create cgroup", &dir, e)),
            };
        }
        let cg = V2Cgroup { dir };
        if let Err(e) = cg.apply(res, warnings) {
            if created {
                // Best effort: the write error is the one worth reporting.
                let _ = files::rmdir(&cg.dir);
            }
            return Err(e);
        }
        Ok(cg)
    }

    pub fn open(root: &Path, rel: &Path) -> Result<Self> {
        let dir = root.join(rel);
        if !dir.is_dir() {
            return Err(Error::io(
                "open cgroup",
                &dir,
                io::ErrorKind::NotFound.into(),
            ));
        }
        Ok(V2Cgroup { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn apply(&self, res: &Resources, warnings: &mut Vec<String>) -> Result<()> {
        let d = &self.dir;
        if res.memory > 0 {
            write(
                "set memory limit",
                &d.join("memory.max"),
                &res.memory.to_string(),
            )?;
        }
        // v2 limits swap alone, Docker's value is memory plus swap.
        let swap = match res.memory_swap_total() {
            Some(-1) => Some("max".to_string()),
            Some(total) if res.memory > 0 => Some((total - res.memory).max(0).to_string()),
            _ => None,
        };
        if let Some(swap) = swap {
            let p = d.join("memory.swap.max");
            if p.exists() {
                write("set swap limit", &p, &swap)?;
            } else {
                warnings.push("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.".into());
            }
        }
        if res.memory_reservation > 0 {
            let v = res.memory_reservation.to_string();
            write("set memory reservation", &d.join("memory.low"), &v)?;
        }
        if res.oom_kill_disable {
            warnings.push(
                "Your kernel does not support OomKillDisable. OomKillDisable discarded.".into(),
            );
        }
        if res.cpu_shares > 0 {
            let weight = cpu_weight(res.cpu_shares as u64).to_string();
            write("set cpu shares", &d.join("cpu.weight"), &weight)?;
        }
        if let Some((quota, period)) = res.cfs_quota() {
            write(
                "set cpu quota",
                &d.join("cpu.max"),
                &format!("{quota} {period}"),
            )?;
        }
        if !res.cpuset_cpus.is_empty() {
            write("set cpuset", &d.join("cpuset.cpus"), &res.cpuset_cpus)?;
        }
        if !res.cpuset_mems.is_empty() {
            write("set cpuset", &d.join("cpuset.mems"), &res.cpuset_mems)?;
        }
        if let Some(max) = res.pids_max() {
            write("set pids limit", &d.join("pids.max"), &max.to_string())?;
        }
        Ok(())
    }

    pub fn add_process(&self, pid: i32) -> Result<()> {
        write(
            "add process to cgroup",
            &self.dir.join("cgroup.procs"),
            &pid.to_string(),
        )
    }

    pub fn procs(&self) -> Result<Vec<i32>> {
        files::read_procs("list cgroup processes", &self.dir.join("cgroup.procs"))
    }

    pub fn is_frozen(&self) -> Result<bool> {
        let events = self.dir.join("cgroup.events");
        Ok(files::read_keyed("read freezer state", &events, "frozen")? == 1)
    }

    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let (step, value) = if frozen {
            ("freeze cgroup", "1")
        } else {
            ("thaw cgroup", "0")
        };
        let knob = self.dir.join("cgroup.freeze");
        if !knob.exists() {
            return Err(Error::Unsupported(
                "this kernel has no cgroup v2 freezer (Linux 5.2+): cannot pause".into(),
            ));
        }
        write(step, &knob, value)?;
        let result = files::wait_until(step, &self.dir.join("cgroup.events"), SETTLE, || {
            Ok(self.is_frozen()? == frozen)
        });
        if result.is_err() && frozen {
            // Never leave a half-frozen container behind.
            let _ = write("thaw cgroup", &knob, "0");
        }
        result
    }

    pub fn stats(&self) -> Result<Stats> {
        let d = &self.dir;
        let number = |step, name: &str| -> Result<Option<u64>> {
            let p = d.join(name);
            if p.exists() {
                files::read_number(step, &p)
            } else {
                Ok(None)
            }
        };
        let cpu_stat = d.join("cpu.stat");
        let cpu_usec = if cpu_stat.exists() {
            files::read_keyed("read cpu usage", &cpu_stat, "usage_usec")?
        } else {
            0
        };
        Ok(Stats {
            memory_usage: number("read memory usage", "memory.current")?.unwrap_or(0),
            memory_limit: number("read memory limit", "memory.max")?,
            cpu_usage_ns: cpu_usec.saturating_mul(1000),
            pids_current: number("read pids", "pids.current")?.unwrap_or(0),
            pids_limit: number("read pids limit", "pids.max")?,
        })
    }

    pub fn oom_killed(&self) -> Result<bool> {
        let events = self.dir.join("memory.events");
        if !events.exists() {
            return Ok(false);
        }
        let text = files::read("read oom state", &events)?;
        Ok(files::keyed(&text, "oom_kill").unwrap_or(0) > 0)
    }

    pub fn kill_all(&self) -> Result<()> {
        let step = "kill processes";
        let knob = self.dir.join("cgroup.kill");
        if knob.exists() {
            // Linux 5.14+: the kernel kills every process, forks included, atomically.
            write(step, &knob, "1")?;
        } else {
            // Frozen processes cannot fork new ones between our listing and our kill.
            let frozen = self.set_frozen(true).is_ok();
            let killed = files::kill_pids(&self.procs()?, &self.dir);
            if frozen {
                self.set_frozen(false)?;
            }
            killed?;
        }
        files::wait_until(step, &self.dir, SETTLE, || {
            let left = self.procs()?;
            files::kill_pids(&left, &self.dir)?;
            Ok(left.is_empty())
        })
    }

    pub fn destroy(&self) -> Result<()> {
        if self.dir.exists() {
            self.kill_all()?;
        }
        files::rmdir(&self.dir)
    }
}

/// Enables in `dir`'s `cgroup.subtree_control` the controllers it offers that we use and
/// that are not enabled yet, in one write.
fn enable_controllers(dir: &Path) -> Result<()> {
    let step = "enable cgroup controllers";
    let offered = files::read(step, &dir.join("cgroup.controllers"))?;
    let control = dir.join("cgroup.subtree_control");
    let enabled = files::read(step, &control)?;
    let missing: Vec<String> = CONTROLLERS
        .iter()
        .filter(|c| offered.split_whitespace().any(|o| o == **c))
        .filter(|c| !enabled.split_whitespace().any(|e| e == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write(step, &control, &missing.join(" "))
}

#[cfg(test)]
mod tests {
    //! Against a tempdir laid out like /sys/fs/cgroup. The leaf's interface files are made
    //! up front, standing in for the kernel, which creates them on mkdir.
    use super::super::{Cgroup, Layout};
    use super::*;
    use std::fs;

    const LEAF_FILES: &[(&str, &str)] = &[
        ("cgroup.procs", ""),
        ("cgroup.freeze", "0"),
        ("cgroup.events", "populated 0\nfrozen 0\n"),
        ("memory.max", "max"),
        ("memory.swap.max", "max"),
        ("memory.low", "0"),
        ("memory.current", "4096"),
        ("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n"),
        ("cpu.max", "max 100000"),
        ("cpu.weight", "100"),
        (
            "cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
        ),
        ("cpuset.cpus", ""),
        ("cpuset.mems", ""),
        ("pids.max", "max"),
        ("pids.current", "3"),
    ];

    struct Fixture {
        tmp: tempfile::TempDir,
    }

    impl Fixture {
        fn new(skip: &[&str]) -> Fixture {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path();
            fs::write(
                root.join("cgroup.controllers"),
                "cpuset cpu io memory hugetlb pids rdma\n",
            )
            .unwrap();
            fs::write(root.join("cgroup.subtree_control"), "").unwrap();
            let berth = root.join("berth");
            fs::create_dir(&berth).unwrap();
            fs::write(berth.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
            fs::write(berth.join("cgroup.subtree_control"), "memory\n").unwrap();
            let leaf = berth.join("c1");
            fs::create_dir(&leaf).unwrap();
            for (name, content) in LEAF_FILES.iter().filter(|(n, _)| !skip.contains(n)) {
                fs::write(leaf.join(name), content).unwrap();
            }
            Fixture { tmp }
        }

        fn layout(&self) -> Layout {
            Layout::V2 {
                root: self.tmp.path().to_path_buf(),
            }
        }

        fn read(&self, rel: &str) -> String {
            fs::read_to_string(self.tmp.path().join(rel)).unwrap()
        }
    }

    fn full() -> Resources {
        Resources {
            memory: 64 << 20,
            memory_swap: 96 << 20,
            memory_reservation: 32 << 20,
            nano_cpus: 1_500_000_000,
            cpu_shares: 512,
            cpuset_cpus: "0-1".into(),
            cpuset_mems: "0".into(),
            pids_limit: Some(5),
            oom_kill_disable: false,
        }
    }

    #[test]
    fn create_writes_every_limit() {
        let fx = Fixture::new(&[]);
        let cg = Cgroup::create(&fx.layout(), "berth/c1", &full()).unwrap();
        assert_eq!(fx.read("berth/c1/memory.max"), (64u64 << 20).to_string());
        assert_eq!(
            fx.read("berth/c1/memory.swap.max"),
            (32u64 << 20).to_string()
        );
        assert_eq!(fx.read("berth/c1/memory.low"), (32u64 << 20).to_string());
        assert_eq!(fx.read("berth/c1/cpu.max"), "150000 100000");
        assert_eq!(fx.read("berth/c1/cpu.weight"), "20");
        assert_eq!(fx.read("berth/c1/cpuset.cpus"), "0-1");
        assert_eq!(fx.read("berth/c1/cpuset.mems"), "0");
        assert_eq!(fx.read("berth/c1/pids.max"), "5");
        assert!(cg.warnings().is_empty(), "{:?}", cg.warnings());
        assert_eq!(cg.paths(), vec![fx.tmp.path().join("berth/c1")]);
    }

    #[test]
    fn controllers_are_enabled_in_each_ancestor() {
        let fx = Fixture::new(&[]);
        Cgroup::create(&fx.layout(), "berth/c1", &Resources::default()).unwrap();
        // The root offers all four; berth offers no cpuset and already has memory.
        assert_eq!(
            fx.read("cgroup.subtree_control"),
            "+cpuset +cpu +memory +pids"
        );
        assert_eq!(fx.read("berth/cgroup.subtree_control"), "+cpu +pids");
    }

    #[test]
    fn swap_defaults_and_unlimited() {
        let fx = Fixture::new(&[]);
        let twice = Resources {
            memory: 64 << 20,
            ..Default::default()
        };
        Cgroup::create(&fx.layout(), "berth/c1", &twice).unwrap();
        // Memory set, swap unset: swap as large as memory (Docker's total of 2x).
        assert_eq!(
            fx.read("berth/c1/memory.swap.max"),
            (64u64 << 20).to_string()
        );
        let unlimited = Resources {
            memory_swap: -1,
            ..twice
        };
        Cgroup::create(&fx.layout(), "berth/c1", &unlimited).unwrap();
        assert_eq!(fx.read("berth/c1/memory.swap.max"), "max");
    }

    #[test]
    fn missing_swap_knob_and_oom_kill_disable_warn() {
        let fx = Fixture::new(&["memory.swap.max"]);
        let res = Resources {
            memory: 64 << 20,
            oom_kill_disable: true,
            ..Default::default()
        };
        let cg = Cgroup::create(&fx.layout(), "berth/c1", &res).unwrap();
        assert_eq!(cg.warnings().len(), 2, "{:?}", cg.warnings());
        assert!(cg.warnings()[0].contains("swap limit"));
        assert!(cg.warnings()[1].contains("OomKillDisable"));
    }

    #[test]
    fn missing_knob_fails_naming_step_and_file_and_undoes_new_dirs() {
        let fx = Fixture::new(&[]);
        // A fresh leaf has no interface files in a fixture: the first write fails.
        let err = Cgroup::create(&fx.layout(), "berth/c2", &full())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("set memory limit: "), "{err}");
        assert!(err.contains("berth/c2/memory.max"), "{err}");
        assert!(!fx.tmp.path().join("berth/c2").exists());
    }

    #[test]
    fn stats_and_oom_read_v2_files() {
        let fx = Fixture::new(&[]);
        let cg = Cgroup::open(&fx.layout(), "berth/c1").unwrap();
        let s = cg.stats().unwrap();
        assert_eq!(s.memory_usage, 4096);
        assert_eq!(s.memory_limit, None);
        assert_eq!(s.cpu_usage_ns, 1_500_000);
        assert_eq!(s.pids_current, 3);
        assert_eq!(s.pids_limit, None);
        assert!(!cg.oom_killed().unwrap());
        fs::write(
            fx.tmp.path().join("berth/c1/memory.events"),
            "oom 1\noom_kill 1\n",
        )
        .unwrap();
        assert!(cg.oom_killed().unwrap());
        assert!(Cgroup::open(&fx.layout(), "berth/nope").is_err());
    }

    #[test]
    fn freeze_writes_knob_and_waits_for_events() {
        let fx = Fixture::new(&[]);
        let cg = Cgroup::open(&fx.layout(), "berth/c1").unwrap();
        let events = fx.tmp.path().join("berth/c1/cgroup.events");
        fs::write(&events, "populated 1\nfrozen 1\n").unwrap();
        cg.freeze().unwrap();
        assert_eq!(fx.read("berth/c1/cgroup.freeze"), "1");
        assert!(cg.is_frozen().unwrap());
        fs::write(&events, "populated 1\nfrozen 0\n").unwrap();
        cg.thaw().unwrap();
        assert_eq!(fx.read("berth/c1/cgroup.freeze"), "0");
    }

    #[test]
    fn procs_parse_and_add_process_writes_pid() {
        let fx = Fixture::new(&[]);
        let cg = Cgroup::open(&fx.layout(), "berth/c1").unwrap();
        assert!(cg.procs().unwrap().is_empty());
        cg.add_process(4242).unwrap();
        assert_eq!(cg.procs().unwrap(), vec![4242]);
    }
}
