//! Usage numbers read from a container's cgroup, for `docker stats`.

/// One sample of a cgroup's usage. Limits are `None` when unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Memory charged to the cgroup now, bytes (page cache included).
    pub memory_usage: u64,
    pub memory_limit: Option<u64>,
    /// CPU time used by all its processes, nanoseconds.
    pub cpu_usage_ns: u64,
    pub pids_current: u64,
    pub pids_limit: Option<u64>,
}

/// v1 reports "no limit" as a huge page-aligned number (`PAGE_COUNTER_MAX` in bytes).
pub(super) fn v1_limit(bytes: u64) -> Option<u64> {
    (bytes < 1 << 62).then_some(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn v1_unlimited_is_none() {
        assert_eq!(super::v1_limit(9_223_372_036_854_771_712), None);
        assert_eq!(super::v1_limit(50 << 20), Some(50 << 20));
    }
}
