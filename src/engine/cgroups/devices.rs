//! The device cgroup's rules: which device nodes a container may create (`m`), read and
//! write. Docker's default is runc's allow list (null, zero, full, random, urandom, tty,
//! console, ptmx, pts, tun, and `mknod` of anything); `--privileged` allows everything;
//! each `--device` adds its host node's `major:minor` with the given permissions.
//!
//! On v1 the rules go to `devices.deny` / `devices.allow`. Not done yet: v2, where device
//! access is an eBPF program (`BPF_PROG_TYPE_CGROUP_DEVICE`) attached to the cgroup; there
//! the rules are not enforced.

use std::fmt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::{Error, Result};

/// Block, character or any device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    All,
    Char,
    Block,
}

/// One allow rule, as the v1 `devices.allow` file spells it (`c 1:3 rwm`); `None` is `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u64>,
    pub minor: Option<u64>,
    /// Some of `r`, `w`, `m`.
    pub access: String,
}

impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        };
        let num = |n: Option<u64>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        write!(
            f,
            "{kind} {}:{} {}",
            num(self.major),
            num(self.minor),
            self.access
        )
    }
}

/// Everything is denied except `allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRules {
    pub allow: Vec<DeviceRule>,
}

/// runc's `AllowedDevices` plus Docker's default `/dev/console` (`c 5:1`).
const DEFAULT_ALLOWED: &[(DeviceKind, Option<u64>, Option<u64>, &str)] = &[
    (DeviceKind::Char, None, None, "m"),
    (DeviceKind::Block, None, None, "m"),
    (DeviceKind::Char, Some(1), Some(3), "rwm"), // null
    (DeviceKind::Char, Some(1), Some(8), "rwm"), // random
    (DeviceKind::Char, Some(1), Some(7), "rwm"), // full
    (DeviceKind::Char, Some(5), Some(0), "rwm"), // tty
    (DeviceKind::Char, Some(1), Some(5), "rwm"), // zero
    (DeviceKind::Char, Some(1), Some(9), "rwm"), // urandom
    (DeviceKind::Char, Some(5), Some(1), "rwm"), // console
    (DeviceKind::Char, Some(136), None, "rwm"),  // pts
    (DeviceKind::Char, Some(5), Some(2), "rwm"), // ptmx
    (DeviceKind::Char, Some(10), Some(200), "rwm"), // tun
];

impl DeviceRules {
    /// Docker's rules for a container: everything for `--privileged`, else the default list.
    pub fn for_container(privileged: bool) -> DeviceRules {
        if privileged {
            return DeviceRules {
                allow: vec![DeviceRule {
                    kind: DeviceKind::All,
                    major: None,
                    minor: None,
                    access: "rwm".into(),
                }],
            };
        }
        let allow = DEFAULT_ALLOWED
            .iter()
            .map(|&(kind, major, minor, access)| DeviceRule {
                kind,
                major,
                minor,
                access: access.into(),
            })
            .collect();
        DeviceRules { allow }
    }

    /// A container's rules: [`DeviceRules::for_container`] plus each `--device` given as
    /// (path on the host, cgroup permissions).
    pub fn for_devices<'a>(
        privileged: bool,
        devices: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<DeviceRules> {
        let mut rules = DeviceRules::for_container(privileged);
        for (path, permissions) in devices {
            rules.allow_host_device(Path::new(path), permissions)?;
        }
        Ok(rules)
    }

    /// `--device <path_on_host>:...:<permissions>`: allows the host node's numbers (every
    /// node below it, for a directory such as /dev/snd). Empty permissions mean `rwm`.
    pub fn allow_host_device(&mut self, path_on_host: &Path, permissions: &str) -> Result<()> {
        let access = if permissions.is_empty() {
            "rwm"
        } else {
            permissions
        };
        if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
            return Err(Error::Invalid(format!(
                "invalid device cgroup permissions {permissions:?}"
            )));
        }
        self.allow_below(path_on_host, access, 0)
    }

    fn allow_below(&mut self, path: &Path, access: &str, depth: u32) -> Result<()> {
        let step = "error gathering device information while adding custom device";
        let meta = std::fs::metadata(path).map_err(|e| Error::io(step, path, e))?;
        let ft = meta.file_type();
        let kind = if ft.is_char_device() {
            DeviceKind::Char
        } else if ft.is_block_device() {
            DeviceKind::Block
        } else if ft.is_dir() && depth < 8 {
            let entries = std::fs::read_dir(path).map_err(|e| Error::io(step, path, e))?;
            for entry in entries.flatten() {
                // Sub-entries that are neither devices nor directories are skipped, as
                // Docker does for a directory --device.
                let p = entry.path();
                match std::fs::metadata(&p) {
                    Ok(m) if m.is_dir() || is_device(&m) => {
                        self.allow_below(&p, access, depth + 1)?
                    }
                    _ => {}
                }
            }
            return Ok(());
        } else {
            return Err(Error::Invalid(format!(
                "error gathering device information while adding custom device {:?}: not a device node",
                path.display().to_string()
            )));
        };
        let rdev = meta.rdev();
        self.allow.push(DeviceRule {
            kind,
            major: Some(nix::sys::stat::major(rdev)),
            minor: Some(nix::sys::stat::minor(rdev)),
            access: access.into(),
        });
        Ok(())
    }
}

fn is_device(meta: &std::fs::Metadata) -> bool {
    meta.file_type().is_char_device() || meta.file_type().is_block_device()
}

/// Writes `rules` to a v1 devices cgroup directory: deny everything, then allow the list.
pub(super) fn apply_v1(dir: &Path, rules: &DeviceRules) -> Result<()> {
    super::files::write("set device rules", &dir.join("devices.deny"), "a")?;
    for rule in &rules.allow {
        super::files::write(
            "set device rules",
            &dir.join("devices.allow"),
            &rule.to_string(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_read_as_runc_writes_them() {
        let lines: Vec<String> = DeviceRules::for_container(false)
            .allow
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert!(lines.contains(&"c 1:3 rwm".to_string()));
        assert!(lines.contains(&"c 136:* rwm".to_string()));
        assert!(!lines.iter().any(|l| l.starts_with("b 8:")));
        let all = DeviceRules::for_container(true);
        assert_eq!(all.allow.len(), 1);
        assert_eq!(all.allow[0].to_string(), "a *:* rwm");
    }

    #[test]
    fn host_devices_add_their_numbers() {
        let mut rules = DeviceRules::for_container(false);
        let before = rules.allow.len();
        rules
            .allow_host_device(Path::new("/dev/null"), "rw")
            .expect("/dev/null is a device");
        assert_eq!(rules.allow[before].to_string(), "c 1:3 rw");
        assert!(rules
            .allow_host_device(Path::new("/dev/null"), "rwx")
            .is_err());
        assert!(rules
            .allow_host_device(Path::new("/etc/hostname-nope"), "")
            .is_err());
    }
}
