//! Container resource limits with Docker's HostConfig semantics, validation and wording,
//! and the conversions both cgroup versions share.

use std::collections::BTreeSet;
use std::path::Path;

use super::{Error, Layout, Result};

/// Docker's smallest memory limit and reservation (6 MiB).
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// The CFS period Docker uses for `--cpus`.
pub const CFS_PERIOD_US: u64 = 100_000;

/// Resource limits, named and encoded as Docker's HostConfig (0 means "not set").
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Resources {
    /// `--memory`, bytes.
    pub memory: i64,
    /// `--memory-swap`: memory plus swap, bytes; -1 unlimited swap; 0 with `memory` set
    /// means twice `memory` (swap as large as memory).
    pub memory_swap: i64,
    /// `--memory-reservation`, bytes (v1 soft limit, v2 memory.low).
    pub memory_reservation: i64,
    /// `--cpus` × 10⁹.
    pub nano_cpus: i64,
    /// `--cpu-shares` (relative weight, 1024 is the default).
    pub cpu_shares: i64,
    /// `--cpuset-cpus`, a list such as `0-2,4`.
    pub cpuset_cpus: String,
    /// `--cpuset-mems`.
    pub cpuset_mems: String,
    /// `--pids-limit`; `None`, 0 or -1 is unlimited.
    pub pids_limit: Option<i64>,
    /// `--oom-kill-disable` (v1 only).
    pub oom_kill_disable: bool,
}

/// What the host offers, for validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// CPUs this process may run on (Docker's `sysinfo.NumCPU`).
    pub ncpus: usize,
    /// Available CPUs and memory nodes, as lists (`0-3`).
    pub cpus: String,
    pub mems: String,
}

impl HostInfo {
    /// Reads the CPUs and memory nodes the cgroup root offers.
    pub fn probe(layout: &Layout) -> Result<HostInfo> {
        let (cpus_file, mems_file) = match layout {
            Layout::V1(m) => match &m.cpuset {
                Some(root) => (root.join("cpuset.cpus"), root.join("cpuset.mems")),
                None => system_lists(),
            },
            Layout::V2 { root } if root.join("cpuset.cpus.effective").exists() => (
                root.join("cpuset.cpus.effective"),
                root.join("cpuset.mems.effective"),
            ),
            Layout::V2 { .. } => system_lists(),
        };
        let read = |p: &Path| super::files::read("probe host cpus", p).map(|s| s.trim().to_owned());
        let cpus = read(&cpus_file)?;
        let mems = read(&mems_file).unwrap_or_else(|_| "0".into());
        // Docker counts CPUs we may run on, not a CFS quota (which available_parallelism
        // would apply).
        let ncpus = match parse_list(&cpus) {
            Ok(set) if !set.is_empty() => set.len(),
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        Ok(HostInfo { ncpus, cpus, mems })
    }
}

fn system_lists() -> (std::path::PathBuf, std::path::PathBuf) {
    (
        "/sys/devices/system/cpu/online".into(),
        "/sys/devices/system/node/online".into(),
    )
}

impl Resources {
    /// Docker's checks (daemon `verifyPlatformContainerResources`), same order and words.
    pub fn validate(&self, host: &HostInfo) -> Result<()> {
        let invalid = |m: String| Err(Error::Invalid(m));
        if self.memory != 0 && self.memory < MIN_MEMORY {
            return invalid("Minimum memory limit allowed is 6MB".into());
        }
        if self.memory > 0 && self.memory_swap > 0 && self.memory_swap < self.memory {
            return invalid(
                "Minimum memoryswap limit should be larger than memory limit, see usage".into(),
            );
        }
        if self.memory == 0 && self.memory_swap > 0 {
            return invalid(
                "You should always set the Memory limit when using Memoryswap limit, see usage"
                    .into(),
            );
        }
        if self.memory_reservation > 0 && self.memory_reservation < MIN_MEMORY {
            return invalid("Minimum memory reservation allowed is 6MB".into());
        }
        if self.memory > 0 && self.memory_reservation > 0 && self.memory < self.memory_reservation {
            return invalid(
                "Minimum memory limit can not be less than memory reservation limit, see usage"
                    .into(),
            );
        }
        let n = host.ncpus as i64;
        // Docker only rejects < 0 here, but below 0.01 CPUs the quota is under the kernel's
        // 1 ms minimum, which the same message describes.
        if self.nano_cpus < 0
            || (self.nano_cpus > 0 && self.nano_cpus < 10_000_000)
            || self.nano_cpus > n * 1_000_000_000
        {
            return invalid(format!(
                "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available"
            ));
        }
        if self.cpu_shares < 0 {
            return invalid(format!(
                "invalid CPU shares ({}): value must be a positive integer",
                self.cpu_shares
            ));
        }
        check_subset(&self.cpuset_cpus, &host.cpus, "cpus", "CPUs")?;
        check_subset(&self.cpuset_mems, &host.mems, "mems", "memory nodes")?;
        Ok(())
    }

    /// The memory+swap limit to write: `Some(-1)` unlimited, `None` leave the default.
    pub fn memory_swap_total(&self) -> Option<i64> {
        match (self.memory, self.memory_swap) {
            (_, -1) => Some(-1),
            (m, s) if s > 0 && m > 0 => Some(s),
            (m, 0) if m > 0 => Some(m.saturating_mul(2)),
            _ => None,
        }
    }

    /// CFS quota and period in µs for `--cpus`.
    pub fn cfs_quota(&self) -> Option<(i64, u64)> {
        (self.nano_cpus > 0).then(|| {
            let quota = self.nano_cpus as i128 * CFS_PERIOD_US as i128 / 1_000_000_000;
            (quota as i64, CFS_PERIOD_US)
        })
    }

    /// `pids.max`'s value, `None` for unlimited.
    pub fn pids_max(&self) -> Option<i64> {
        self.pids_limit.filter(|&n| n > 0)
    }
}

/// v1 `cpu.shares` to v2 `cpu.weight`, as runc converts (`[2, 262144]` → `[1, 10000]`).
pub fn cpu_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// Parses a cpuset list (`0-2,4`). The error is Go's `parsers.ParseUintList` wording.
pub fn parse_list(list: &str) -> std::result::Result<BTreeSet<u32>, String> {
    let mut out = BTreeSet::new();
    if list.trim().is_empty() {
        return Ok(out);
    }
    let bad = || format!("invalid format: {list}");
    for part in list.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if b < a {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(part.parse().map_err(|_| bad())?);
            }
        }
    }
    Ok(out)
}

fn check_subset(requested: &str, available: &str, what: &str, human: &str) -> Result<()> {
    if requested.is_empty() {
        return Ok(());
    }
    let want = parse_list(requested)
        .map_err(|e| Error::Invalid(format!("Invalid value {requested} for cpuset {what}: {e}")))?;
    let have = parse_list(available).unwrap_or_default();
    if !want.is_subset(&have) {
        return Err(Error::Invalid(format!(
            "Requested {human} are not available - requested {requested}, available: {available}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostInfo {
        HostInfo {
            ncpus: 2,
            cpus: "0-1".into(),
            mems: "0".into(),
        }
    }

    fn err(r: Resources) -> String {
        r.validate(&host()).unwrap_err().to_string()
    }

    #[test]
    fn docker_validation_messages() {
        let mb = 1024 * 1024;
        assert_eq!(
            err(Resources {
                memory: 4 * mb,
                ..Default::default()
            }),
            "Minimum memory limit allowed is 6MB"
        );
        assert_eq!(
            err(Resources {
                memory: 64 * mb,
                memory_swap: 32 * mb,
                ..Default::default()
            }),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        assert_eq!(
            err(Resources {
                memory_swap: 32 * mb,
                ..Default::default()
            }),
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        );
        assert_eq!(
            err(Resources {
                memory_reservation: mb,
                ..Default::default()
            }),
            "Minimum memory reservation allowed is 6MB"
        );
        assert_eq!(
            err(Resources {
                memory: 64 * mb,
                memory_reservation: 128 * mb,
                ..Default::default()
            }),
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        );
        let cpus = "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available";
        assert_eq!(
            err(Resources {
                nano_cpus: 3_000_000_000,
                ..Default::default()
            }),
            cpus
        );
        assert_eq!(
            err(Resources {
                nano_cpus: -1,
                ..Default::default()
            }),
            cpus
        );
        assert_eq!(
            err(Resources {
                nano_cpus: 1_000_000,
                ..Default::default()
            }),
            cpus
        );
        assert_eq!(
            err(Resources {
                cpuset_cpus: "1-3".into(),
                ..Default::default()
            }),
            "Requested CPUs are not available - requested 1-3, available: 0-1"
        );
        assert_eq!(
            err(Resources {
                cpuset_cpus: "1-a".into(),
                ..Default::default()
            }),
            "Invalid value 1-a for cpuset cpus: invalid format: 1-a"
        );
        assert_eq!(
            err(Resources {
                cpuset_mems: "1".into(),
                ..Default::default()
            }),
            "Requested memory nodes are not available - requested 1, available: 0"
        );
    }

    #[test]
    fn valid_settings_pass() {
        let r = Resources {
            memory: 64 << 20,
            memory_swap: -1,
            memory_reservation: 32 << 20,
            nano_cpus: 2_000_000_000,
            cpu_shares: 512,
            cpuset_cpus: "0-1".into(),
            cpuset_mems: "0".into(),
            pids_limit: Some(-1),
            oom_kill_disable: true,
        };
        assert!(r.validate(&host()).is_ok());
        assert!(Resources::default().validate(&host()).is_ok());
    }

    #[test]
    fn swap_follows_docker() {
        let m = 64 << 20;
        let r = |memory, memory_swap| Resources {
            memory,
            memory_swap,
            ..Default::default()
        };
        assert_eq!(r(m, 0).memory_swap_total(), Some(2 * m));
        assert_eq!(r(m, -1).memory_swap_total(), Some(-1));
        assert_eq!(r(m, 3 * m).memory_swap_total(), Some(3 * m));
        assert_eq!(r(0, 0).memory_swap_total(), None);
    }

    #[test]
    fn cpus_become_quota_over_100ms() {
        let r = |nano_cpus| Resources {
            nano_cpus,
            ..Default::default()
        };
        assert_eq!(r(1_500_000_000).cfs_quota(), Some((150_000, 100_000)));
        assert_eq!(r(10_000_000).cfs_quota(), Some((1_000, 100_000)));
        assert_eq!(r(0).cfs_quota(), None);
    }

    #[test]
    fn pids_zero_and_minus_one_are_unlimited() {
        let r = |pids_limit| Resources {
            pids_limit,
            ..Default::default()
        };
        assert_eq!(r(Some(5)).pids_max(), Some(5));
        assert_eq!(r(Some(0)).pids_max(), None);
        assert_eq!(r(Some(-1)).pids_max(), None);
        assert_eq!(r(None).pids_max(), None);
    }

    #[test]
    fn weight_conversion_matches_runc() {
        assert_eq!(cpu_weight(0), 0);
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(1024), 39);
        assert_eq!(cpu_weight(262_144), 10_000);
        assert_eq!(cpu_weight(1), 1);
        assert_eq!(cpu_weight(1_000_000), 10_000);
    }

    #[test]
    fn probe_reads_a_v2_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpuset.cpus.effective"), "0-3,6\n").unwrap();
        std::fs::write(dir.path().join("cpuset.mems.effective"), "0\n").unwrap();
        let layout = Layout::V2 {
            root: dir.path().to_path_buf(),
        };
        let host = HostInfo::probe(&layout).unwrap();
        assert_eq!(
            host,
            HostInfo {
                ncpus: 5,
                cpus: "0-3,6".into(),
                mems: "0".into()
            }
        );
    }

    #[test]
    fn lists_parse() {
        assert_eq!(
            parse_list("0-2,5").unwrap().into_iter().collect::<Vec<_>>(),
            vec![0, 1, 2, 5]
        );
        assert!(parse_list("").unwrap().is_empty());
        assert!(parse_list("3-1").is_err());
        assert!(parse_list("a").is_err());
    }
}
