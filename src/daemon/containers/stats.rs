//! `docker stats`: one sample from the container's cgroup in Docker's JSON shape. The host
//! CPU time comes from `/proc/stat` (Docker's `system_cpu_usage`); an unlimited memory
//! limit reads as the host's memory, as Docker reports it.

use std::sync::Arc;

use super::entry::Entry;
use super::start::cgroup_name;
use super::store;
use super::{blocking, ContainerError, Containers};
use crate::api::container_types::{CpuStats, CpuUsage, MemoryStats, PidsStats, StatsSample};
use crate::engine::cgroups::{detect, Cgroup};

impl Containers {
    pub(super) async fn sample_stats(
        &self,
        entry: &Arc<Entry>,
    ) -> Result<StatsSample, ContainerError> {
        let record = entry.snapshot();
        let mut sample = StatsSample {
            read: store::ZERO_TIME.into(),
            preread: store::ZERO_TIME.into(),
            name: format!("/{}", record.name),
            id: record.id.clone(),
            ..StatsSample::default()
        };
        if !record.state.status.is_running() {
            // Docker sends a zeroed sample for a stopped container.
            return Ok(sample);
        }
        let name = cgroup_name(&record.id);
        let stats = blocking("reading the cgroup", move || {
            let cgroup = Cgroup::open(&detect()?, &name)?;
            Ok(cgroup.stats()?)
        })
        .await?;
        let cpus = std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1);
        sample.read = store::now_rfc3339();
        sample.num_procs = 0;
        sample.pids_stats = PidsStats {
            current: Some(stats.pids_current),
            limit: stats.pids_limit,
        };
        sample.cpu_stats = CpuStats {
            cpu_usage: CpuUsage {
                total_usage: stats.cpu_usage_ns,
                percpu_usage: None,
                usage_in_kernelmode: 0,
                usage_in_usermode: 0,
            },
            system_cpu_usage: system_cpu_usage(),
            online_cpus: Some(cpus),
            throttling_data: Default::default(),
        };
        sample.memory_stats = MemoryStats {
            usage: Some(stats.memory_usage),
            limit: stats.memory_limit.or_else(host_memory),
            ..MemoryStats::default()
        };
        Ok(sample)
    }
}

/// Host CPU time in nanoseconds: the `cpu` line of `/proc/stat` in clock ticks (USER_HZ,
/// 100 on Linux) times 10 ms, as Docker computes it.
fn system_cpu_usage() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_proc_stat(&text)
}

fn parse_proc_stat(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: u64 = line
        .split_whitespace()
        .skip(1)
        .take(7)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Some(ticks * 10_000_000)
}

fn host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn system_cpu_usage_sums_the_first_seven_fields() {
        let text = "cpu  1 2 3 4 5 6 7 8 9\ncpu0 1 1 1 1 1 1 1\n";
        assert_eq!(super::parse_proc_stat(text), Some(28 * 10_000_000));
        assert_eq!(super::parse_proc_stat("intr 1"), None);
    }
}
