//! From a profile to the rules that apply to one container: Docker's `includes`/`excludes`
//! resolution (capabilities in the bounding set, the Go architecture name, the running
//! kernel's version), then runc's translation into per-syscall-number rules (unknown names
//! skipped as libseccomp does, repeated argument indexes turned into separate rules).

use std::collections::BTreeMap;

use super::profile::{Action, ArgCondition, Filter, Profile};
use super::{Arch, SeccompError};
use crate::engine::security::caps::CapSet;

/// `SECCOMP_RET_*` values (linux/seccomp.h).
pub(crate) mod ret {
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    pub const KILL_THREAD: u32 = 0x0000_0000;
    pub const TRAP: u32 = 0x0003_0000;
    pub const ERRNO: u32 = 0x0005_0000;
    pub const TRACE: u32 = 0x7ff0_0000;
    pub const LOG: u32 = 0x7ffc_0000;
    pub const ALLOW: u32 = 0x7fff_0000;
    /// The low 16 bits carry the errno or the tracer's data.
    pub const DATA: u32 = 0x0000_ffff;
}

/// A running kernel's `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion(pub u32, pub u32);

impl KernelVersion {
    /// Parses `6.1`, `6.18.44-fc-v445` ... (what follows `major.minor` is ignored).
    pub fn parse(text: &str) -> Option<KernelVersion> {
        let mut parts = text.trim().splitn(3, '.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts
            .next()?
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        Some(KernelVersion(major, minor.parse().ok()?))
    }

    /// The running kernel's version (`/proc/sys/kernel/osrelease`, what uname(2) reports).
    pub fn running() -> Result<KernelVersion, SeccompError> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_err(|e| SeccompError::Kernel(format!("reading kernel version: {e}")))?;
        KernelVersion::parse(&release)
            .ok_or_else(|| SeccompError::Kernel(format!("invalid kernel version: {release:?}")))
    }
}

/// What a container's filter is made from: who it is for and what the host is.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The container's bounding capabilities (decide `includes.caps` / `excludes.caps`).
    pub caps: CapSet,
    /// The architecture the filter is for.
    pub arch: Arch,
    /// The running kernel (decides `minKernel`).
    pub kernel: KernelVersion,
}

/// One rule for one syscall number: all `conditions` must hold for `action` (a
/// `SECCOMP_RET_*` value) to be returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Argument comparisons, ANDed; empty means always.
    pub conditions: Vec<ArgCondition>,
    /// The `SECCOMP_RET_*` value.
    pub action: u32,
}

/// The rules that apply, grouped by syscall number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The architecture they are numbered for.
    pub arch: Arch,
    /// What every other syscall gets.
    pub default_action: u32,
    /// Per syscall number, the rules in profile order. A number with an unconditional rule
    /// has exactly that one rule (libseccomp lets an unconditional rule supersede the
    /// conditional ones).
    pub rules: BTreeMap<u32, Vec<Rule>>,
    /// The highest syscall number named by a rule that applies: runc returns ENOSYS rather
    /// than the default action above it, so that programs fall back from syscalls newer
    /// than the profile.
    pub max_known_nr: Option<u32>,
}

/// The `SECCOMP_RET_*` value of an action, with runc's defaults (EPERM) for a missing errno.
pub fn action_value(action: Action, errno_ret: Option<u32>) -> Result<u32, SeccompError> {
    let data = errno_ret.unwrap_or(nix::libc::EPERM as u32) & ret::DATA;
    Ok(match action {
        Action::KillThread => ret::KILL_THREAD,
        Action::KillProcess => ret::KILL_PROCESS,
        Action::Trap => ret::TRAP,
        Action::Errno => ret::ERRNO | data,
        Action::Trace => ret::TRACE | data,
        Action::Allow => ret::ALLOW,
        Action::Log => ret::LOG,
        Action::Notify => {
            return Err(SeccompError::Unsupported(
                "SCMP_ACT_NOTIFY is not supported".to_string(),
            ))
        }
    })
}

/// Whether the running kernel is at least `min` (`major.minor`), as Docker's
/// `kernelGreaterEqualThan`.
fn kernel_at_least(kernel: KernelVersion, min: &str) -> Result<bool, SeccompError> {
    let min = KernelVersion::parse(min)
        .ok_or_else(|| SeccompError::Kernel(format!("invalid kernel version: {min:?}")))?;
    Ok(kernel >= min)
}

/// Docker's `includes`/`excludes` test for one profile entry.
fn applies(includes: &Filter, excludes: &Filter, target: &Target) -> Result<bool, SeccompError> {
    let go_arch = target.arch.go_name();
    let has_cap = |c: &String| target.caps.contains_name(c);
    if let Some(arches) = &excludes.arches {
        if arches.iter().any(|a| a == go_arch) {
            return Ok(false);
        }
    }
    if let Some(caps) = &excludes.caps {
        if caps.iter().any(has_cap) {
            return Ok(false);
        }
    }
    if let Some(min) = &excludes.min_kernel {
        if kernel_at_least(target.kernel, min)? {
            return Ok(false);
        }
    }
    if let Some(arches) = &includes.arches {
        if !arches.is_empty() && !arches.iter().any(|a| a == go_arch) {
            return Ok(false);
        }
    }
    if let Some(caps) = &includes.caps {
        if !caps.iter().all(has_cap) {
            return Ok(false);
        }
    }
    if let Some(min) = &includes.min_kernel {
        if !kernel_at_least(target.kernel, min)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Resolves `profile` for `target`.
pub fn resolve(profile: &Profile, target: &Target) -> Result<Resolved, SeccompError> {
    let default_action = action_value(profile.default_action, profile.default_errno_ret)?;
    let mut rules: BTreeMap<u32, Vec<Rule>> = BTreeMap::new();
    let mut max_known_nr = None;
    for entry in &profile.syscalls {
        if !applies(&entry.includes, &entry.excludes, target)? {
            continue;
        }
        let action = action_value(entry.action, entry.errno_ret)?;
        let conditions = entry.args.clone().unwrap_or_default();
        if let Some(bad) = conditions.iter().find(|c| c.index > 5) {
            return Err(SeccompError::Decode(format!(
                "invalid argument index {} in seccomp profile",
                bad.index
            )));
        }
        let names = if entry.name.is_empty() {
            &entry.names[..]
        } else {
            std::slice::from_ref(&entry.name)
        };
        for name in names {
            // libseccomp resolves names per architecture; one it does not know is skipped.
            let Some(nr) = target.arch.syscall_number(name) else {
                continue;
            };
            max_known_nr = max_known_nr.max(Some(nr));
            if action == default_action {
                // libseccomp refuses a rule that repeats the default action; runc skips it.
                continue;
            }
            for rule in split(&conditions, action) {
                add_rule(rules.entry(nr).or_default(), rule);
            }
        }
    }
    Ok(Resolved {
        arch: target.arch,
        default_action,
        rules,
        max_known_nr,
    })
}

/// runc's reading of `args`: ANDed in one rule, unless an argument index repeats, in which
/// case each comparison is a rule of its own (ORed).
fn split(conditions: &[ArgCondition], action: u32) -> Vec<Rule> {
    let repeats = (0..6).any(|i| conditions.iter().filter(|c| c.index == i).count() > 1);
    if repeats {
        conditions
            .iter()
            .map(|c| Rule {
                conditions: vec![c.clone()],
                action,
            })
            .collect()
    } else {
        vec![Rule {
            conditions: conditions.to_vec(),
            action,
        }]
    }
}

/// Adds a rule for one syscall the way libseccomp merges them: an unconditional rule
/// replaces the conditional ones, and nothing is added after an unconditional rule.
fn add_rule(existing: &mut Vec<Rule>, rule: Rule) {
    if existing.iter().any(|r| r.conditions.is_empty()) {
        return;
    }
    if rule.conditions.is_empty() {
        existing.clear();
    }
    if !existing.contains(&rule) {
        existing.push(rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::security::caps::parse_name;

    fn target(extra_caps: &[&str], arch: Arch, kernel: KernelVersion) -> Target {
        let mut caps = CapSet::docker_default();
        for c in extra_caps {
            caps.insert(parse_name(c).unwrap());
        }
        Target { caps, arch, kernel }
    }

    fn resolved(extra_caps: &[&str], arch: Arch) -> Resolved {
        let profile = Profile::docker_default().unwrap();
        resolve(&profile, &target(extra_caps, arch, KernelVersion(6, 1))).unwrap()
    }

    fn nr(arch: Arch, name: &str) -> u32 {
        arch.syscall_number(name).unwrap()
    }

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(
            KernelVersion::parse("6.18.44-fc-v445"),
            Some(KernelVersion(6, 18))
        );
        assert_eq!(KernelVersion::parse("4.8"), Some(KernelVersion(4, 8)));
        assert_eq!(KernelVersion::parse("5.10-rc1"), Some(KernelVersion(5, 10)));
        assert_eq!(KernelVersion::parse("x"), None);
        assert!(KernelVersion(4, 10) > KernelVersion(4, 8));
        assert!(KernelVersion::running().is_ok());
    }

    #[test]
    fn sys_admin_decides_mount_and_clone() {
        let x = Arch::X86_64;
        let plain = resolved(&[], x);
        assert_eq!(plain.default_action, ret::ERRNO | 1);
        assert!(!plain.rules.contains_key(&nr(x, "mount")));
        assert!(!plain.rules.contains_key(&nr(x, "unshare")));
        let clone = &plain.rules[&nr(x, "clone")];
        assert_eq!(clone.len(), 1);
        assert_eq!(clone[0].conditions[0].value, 0x7E02_0000);
        assert_eq!(plain.rules[&nr(x, "clone3")][0].action, ret::ERRNO | 38);

        let admin = resolved(&["SYS_ADMIN"], x);
        assert_eq!(admin.rules[&nr(x, "mount")][0].action, ret::ALLOW);
        let clone = &admin.rules[&nr(x, "clone")];
        assert_eq!(
            clone,
            &vec![Rule {
                conditions: vec![],
                action: ret::ALLOW
            }]
        );
        assert_eq!(admin.rules[&nr(x, "clone3")][0].action, ret::ALLOW);
    }

    #[test]
    fn arches_pick_their_own_rules() {
        let x = resolved(&[], Arch::X86_64);
        assert!(x.rules.contains_key(&nr(Arch::X86_64, "arch_prctl")));
        assert!(x.rules.contains_key(&nr(Arch::X86_64, "modify_ldt")));
        let a = resolved(&[], Arch::Aarch64);
        assert!(Arch::Aarch64.syscall_number("arch_prctl").is_none());
        // `open` does not exist on arm64 and is skipped; openat is allowed.
        assert!(Arch::Aarch64.syscall_number("open").is_none());
        assert!(a.rules.contains_key(&nr(Arch::Aarch64, "openat")));
        assert_eq!(nr(Arch::Aarch64, "read"), 63);
    }

    #[test]
    fn min_kernel_and_caps_conditions() {
        let profile = Profile::docker_default().unwrap();
        let x = Arch::X86_64;
        let old = resolve(&profile, &target(&[], x, KernelVersion(4, 4))).unwrap();
        assert!(!old.rules.contains_key(&nr(x, "ptrace")));
        let new = resolve(&profile, &target(&[], x, KernelVersion(4, 8))).unwrap();
        assert!(new.rules.contains_key(&nr(x, "ptrace")));
        // CAP_SYS_PTRACE allows ptrace on old kernels too.
        let traced = resolve(&profile, &target(&["SYS_PTRACE"], x, KernelVersion(4, 4))).unwrap();
        assert!(traced.rules.contains_key(&nr(x, "ptrace")));
        assert!(traced.rules.contains_key(&nr(x, "kcmp")));
    }

    #[test]
    fn repeated_argument_index_gives_separate_rules() {
        let x = resolved(&[], Arch::X86_64);
        let personality = &x.rules[&nr(Arch::X86_64, "personality")];
        assert_eq!(personality.len(), 5);
        let p = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[
                    {"index":1,"value":9,"op":"SCMP_CMP_EQ"},
                    {"index":1,"value":15,"op":"SCMP_CMP_EQ"}]},
                {"names":["tgkill"],"action":"SCMP_ACT_ERRNO","args":[
                    {"index":0,"value":1,"op":"SCMP_CMP_EQ"},
                    {"index":2,"value":9,"op":"SCMP_CMP_EQ"}]},
                {"names":["getpid"],"action":"SCMP_ACT_ALLOW"},
                {"names":["no_such_call"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )
        .unwrap();
        let t = target(&[], Arch::X86_64, KernelVersion(6, 1));
        let r = resolve(&p, &t).unwrap();
        assert_eq!(r.default_action, ret::ALLOW);
        assert_eq!(r.rules[&62].len(), 2, "kill: one rule per condition");
        assert_eq!(r.rules[&234].len(), 1, "tgkill: one ANDed rule");
        assert_eq!(r.rules[&234][0].conditions.len(), 2);
        assert!(!r.rules.contains_key(&39), "getpid repeats the default");
        assert_eq!(r.rules.len(), 2);
    }

    #[test]
    fn notify_and_bad_kernel_versions_are_errors() {
        let t = target(&[], Arch::X86_64, KernelVersion(6, 1));
        let p = Profile::from_json(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#).unwrap();
        assert!(resolve(&p, &t).is_err());
        let p = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],
                "action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}"#,
        )
        .unwrap();
        assert!(resolve(&p, &t).unwrap_err().to_string().contains("\"new\""));
    }
}
