//! Which cgroup version the host uses, and where its hierarchies are mounted.

use std::path::PathBuf;

use super::{Error, Result};

/// Where the cgroup hierarchies are. Built by [`detect`], or by hand for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// cgroup v1 (also a hybrid host, whose controllers stay on v1).
    V1(V1Mounts),
    /// Pure cgroup v2: one hierarchy at `root` (normally /sys/fs/cgroup).
    V2 { root: PathBuf },
}

/// The mount point of each v1 controller we use; `None` when it is not mounted. Co-mounted
/// controllers (`cpu,cpuacct`) share a path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Mounts {
    pub memory: Option<PathBuf>,
    pub cpu: Option<PathBuf>,
    pub cpuacct: Option<PathBuf>,
    pub cpuset: Option<PathBuf>,
    pub pids: Option<PathBuf>,
    pub freezer: Option<PathBuf>,
    pub devices: Option<PathBuf>,
    /// Every other v1 hierarchy (blkio, `name=systemd`, …): the container gets a cgroup
    /// there too, as with runc, so its `/sys/fs/cgroup/<name>` shows its own group.
    pub others: Vec<PathBuf>,
}

/// One mounted v1 hierarchy, for building a container's `/sys/fs/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    pub mount_point: PathBuf,
    /// Its controllers (`cpu`, `cpuacct`), or the name of a named one (`systemd`).
    pub controllers: Vec<String>,
}

impl V1Mounts {
    fn any(&self) -> bool {
        [
            &self.memory,
            &self.cpu,
            &self.cpuacct,
            &self.cpuset,
            &self.pids,
            &self.freezer,
            &self.devices,
        ]
        .iter()
        .any(|m| m.is_some())
    }
}

impl V1Mounts {
    fn all_known(&self) -> Vec<PathBuf> {
        [
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
        .cloned()
        .collect()
    }
}

/// Reads /proc/self/mountinfo and lists every v1 hierarchy (see [`parse_v1_hierarchies`]).
pub fn v1_hierarchies() -> Result<Vec<V1Hierarchy>> {
    let path = std::path::Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("detect cgroups", path, e))?;
    Ok(parse_v1_hierarchies(&text))
}

/// Controllers a v1 `cgroup` mount's super options can name.
const V1_CONTROLLERS: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// Every `cgroup` (v1) mount with its controllers, first mount of a hierarchy only.
pub fn parse_v1_hierarchies(text: &str) -> Vec<V1Hierarchy> {
    let mut out: Vec<V1Hierarchy> = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mut right = right.split(' ');
        let (fstype, super_opts) = (right.next(), right.nth(1).unwrap_or(""));
        let Some(mount_point) = left.split(' ').nth(4).map(|m| PathBuf::from(unescape(m))) else {
            continue;
        };
        if fstype != Some("cgroup") {
            continue;
        }
        let controllers: Vec<String> = super_opts
            .split(',')
            .filter_map(|o| match o.strip_prefix("name=") {
                Some(name) => Some(name.to_string()),
                None => V1_CONTROLLERS.contains(&o).then(|| o.to_string()),
            })
            .collect();
        if controllers.is_empty() || out.iter().any(|h| h.controllers == controllers) {
            continue;
        }
        out.push(V1Hierarchy {
            mount_point,
            controllers,
        });
    }
    out
}

/// Reads /proc/self/mountinfo and picks the layout (see [`parse_mountinfo`]).
pub fn detect() -> Result<Layout> {
    let path = std::path::Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("detect cgroups", path, e))?;
    parse_mountinfo(&text)
        .ok_or_else(|| Error::Unsupported("no cgroup v1 or v2 hierarchy is mounted".into()))
}

/// Any v1 hierarchy with a controller we use means v1 (a hybrid host's v2 mount carries no
/// controllers); otherwise the cgroup2 mount, preferring /sys/fs/cgroup; otherwise `None`.
pub fn parse_mountinfo(text: &str) -> Option<Layout> {
    let mut v1 = V1Mounts::default();
    let mut v2: Option<PathBuf> = None;
    for line in text.lines() {
        // id parent major:minor root mount-point options [optional fields…] - fstype source super-options
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = match left.split(' ').nth(4) {
            Some(m) => PathBuf::from(unescape(m)),
            None => continue,
        };
        let mut right = right.split(' ');
        let (fstype, super_opts) = (right.next(), right.nth(1).unwrap_or(""));
        match fstype {
            Some("cgroup") => {
                for opt in super_opts.split(',') {
                    let slot = match opt {
                        "memory" => &mut v1.memory,
                        "cpu" => &mut v1.cpu,
                        "cpuacct" => &mut v1.cpuacct,
                        "cpuset" => &mut v1.cpuset,
                        "pids" => &mut v1.pids,
                        "freezer" => &mut v1.freezer,
                        "devices" => &mut v1.devices,
                        _ => continue,
                    };
                    slot.get_or_insert_with(|| mount_point.clone());
                }
            }
            Some("cgroup2") => {
                let preferred = mount_point.as_os_str() == "/sys/fs/cgroup";
                if v2.is_none() || preferred {
                    v2 = Some(mount_point);
                }
            }
            _ => {}
        }
    }
    if v1.any() {
        let known = v1.all_known();
        for h in parse_v1_hierarchies(text) {
            if !known.contains(&h.mount_point) && !v1.others.contains(&h.mount_point) {
                v1.others.push(h.mount_point);
            }
        }
        Some(Layout::V1(v1))
    } else {
        v2.map(|root| Layout::V2 { root })
    }
}

/// mountinfo escapes space, tab, newline and backslash as octal `\NNN`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |a, c| a * 8 + u32::from(c - b'0'));
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host_is_v1_with_comounted_cpu() {
        let Some(Layout::V1(m)) = parse_mountinfo(HYBRID) else {
            panic!("not v1");
        };
        assert_eq!(
            m.cpu.as_deref(),
            Some("/sys/fs/cgroup/cpu,cpuacct".as_ref())
        );
        assert_eq!(m.cpu, m.cpuacct);
        assert_eq!(m.memory.as_deref(), Some("/sys/fs/cgroup/memory".as_ref()));
        assert_eq!(m.freezer, None);
        assert_eq!(m.others, vec![PathBuf::from("/sys/fs/cgroup/systemd")]);
        let all = parse_v1_hierarchies(HYBRID);
        assert_eq!(all.len(), 5, "{all:?}");
        assert_eq!(all[0].controllers, vec!["cpu", "cpuacct"]);
        assert_eq!(all[4].controllers, vec!["systemd"]);
    }

    #[test]
    fn pure_v2_prefers_sys_fs_cgroup() {
        let text = "\
25 1 0:22 / /mnt/other rw - cgroup2 cgroup2 rw
26 20 0:23 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate
27 1 0:24 / /mnt/x\\040y rw - cgroup2 cgroup2 rw
";
        assert_eq!(
            parse_mountinfo(text),
            Some(Layout::V2 {
                root: "/sys/fs/cgroup".into()
            })
        );
        assert_eq!(
            parse_mountinfo("27 1 0:24 / /mnt/x\\040y rw - cgroup2 cgroup2 rw\n"),
            Some(Layout::V2 {
                root: "/mnt/x y".into()
            })
        );
    }

    #[test]
    fn no_cgroup_mounts_is_none() {
        assert_eq!(parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/sda rw\n"), None);
    }

    #[test]
    fn this_host_is_detected() {
        // Whatever this machine is, detection must find something usable.
        assert!(detect().is_ok());
    }
}
