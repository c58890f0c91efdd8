//! Linux capabilities: names and numbers, Docker's default set, `--cap-add`/`--cap-drop`
//! exactly as Docker's `caps.TweakCapabilities` combines them, `--privileged`, and applying a
//! set to the calling process (bounding set, then effective/permitted; inheritable and ambient
//! are emptied, as Docker has done since CVE-2022-24769).

use std::fmt;
use std::io;

use nix::libc;

/// Capability names indexed by number (`linux/capability.h`), without the `CAP_` prefix.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default capabilities (`oci/caps.DefaultCapabilities`).
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// The word that means "every capability" in `--cap-add`/`--cap-drop`.
const ALL: &str = "ALL";

/// A capability name that is neither `ALL` nor a known capability.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability: {0:?}")]
pub struct UnknownCapability(pub String);

/// A set of capabilities, bit `n` standing for capability number `n`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapSet(pub u64);

impl CapSet {
    /// No capabilities.
    pub const EMPTY: CapSet = CapSet(0);

    /// Docker's default set of 14 (bit mask `0xa80425fb`).
    pub fn docker_default() -> CapSet {
        let mut set = CapSet::EMPTY;
        for name in DOCKER_DEFAULT {
            if let Some(n) = number_of(name) {
                set.insert(n);
            }
        }
        set
    }

    /// Every capability up to and including `last_cap` (what `--privileged` gets).
    pub fn all_up_to(last_cap: u32) -> CapSet {
        let last = last_cap.min(63);
        CapSet(u64::MAX >> (63 - last))
    }

    /// Adds capability number `n` (numbers over 63 are ignored: no kernel has them).
    pub fn insert(&mut self, n: u32) {
        if n < 64 {
            self.0 |= 1 << n;
        }
    }

    /// Removes capability number `n`.
    pub fn remove(&mut self, n: u32) {
        if n < 64 {
            self.0 &= !(1 << n);
        }
    }

    /// Whether capability number `n` is in the set.
    pub fn contains(&self, n: u32) -> bool {
        n < 64 && self.0 & (1 << n) != 0
    }

    /// Whether the capability with this name (`CAP_SYS_ADMIN`, `sys_admin`...) is in the set;
    /// unknown names are never in it.
    pub fn contains_name(&self, name: &str) -> bool {
        parse_name(name).is_ok_and(|n| self.contains(n))
    }

    /// The numbers in the set, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64).filter(|n| self.contains(*n))
    }

    /// The names in the set as Docker spells them (`CAP_CHOWN`), by number; a bit with no
    /// known name shows as `CAP_<n>`.
    pub fn names(&self) -> Vec<String> {
        self.numbers()
            .map(|n| match NAMES.get(n as usize) {
                Some(name) => format!("CAP_{name}"),
                None => format!("CAP_{n}"),
            })
            .collect()
    }

    /// Sets the calling thread's capabilities to exactly this set: drops everything else from
    /// the bounding set (0..=`last_cap`), empties the ambient set, then sets effective and
    /// permitted to the set and inheritable to nothing (Docker stopped granting inheritable
    /// capabilities in 20.10.14). A root process that then execs keeps exactly this set.
    ///
    /// Makes only system calls and allocates nothing, so it may run between fork and exec.
    /// Needs CAP_SETPCAP to shrink the bounding set.
    pub fn apply_to_current_thread(&self, last_cap: u32) -> io::Result<()> {
        for n in 0..=last_cap.min(63) {
            if !self.contains(n) {
                // SAFETY: prctl(PR_CAPBSET_DROP, n) takes plain integers and touches no memory
                // of ours.
                let rc =
                    unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(n), 0, 0, 0) };
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        // SAFETY: PR_CAP_AMBIENT_CLEAR_ALL takes plain integers and touches no memory of ours.
        let rc = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
                0,
                0,
                0,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        capset(self.0, self.0, 0)
    }
}

impl fmt::Debug for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapSet({:#018x} {:?})", self.0, self.names())
    }
}

/// `struct __user_cap_header_struct` (linux/capability.h).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct` (linux/capability.h); version 3 takes two of them, the low
/// and the high 32 capabilities.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets.
const CAP_VERSION_3: u32 = 0x2008_0522;

/// Sets the calling thread's effective, permitted and inheritable sets.
fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    let header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let half = |v: u64, high: bool| if high { (v >> 32) as u32 } else { v as u32 };
    let data = [false, true].map(|high| CapData {
        effective: half(effective, high),
        permitted: half(permitted, high),
        inheritable: half(inheritable, high),
    });
    // SAFETY: capset reads one header and, for version 3, exactly two data structs; both live
    // on this stack frame for the whole call and have the kernel's C layout (repr(C)).
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The number of a capability name without prefix, upper case (`SYS_ADMIN`).
fn number_of(bare: &str) -> Option<u32> {
    NAMES.iter().position(|n| *n == bare).map(|p| p as u32)
}

/// Parses one capability name: case-insensitive, with or without `CAP_`.
pub fn parse_name(name: &str) -> Result<u32, UnknownCapability> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    number_of(&full["CAP_".len()..]).ok_or(UnknownCapability(full))
}

/// The highest capability number this kernel knows (`/proc/sys/kernel/cap_last_cap`); falls
/// back to the highest name we know when the file cannot be read.
pub fn kernel_last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(NAMES.len() as u32 - 1)
}

/// One `--cap-add`/`--cap-drop` entry after Docker's normalisation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    All,
    Cap(u32),
}

/// Docker's `normalizeCaps`: upper case, `ALL` kept, `CAP_` prefixed, unknown ones refused.
fn normalize(caps: &[String]) -> Result<Vec<Entry>, UnknownCapability> {
    caps.iter()
        .map(|c| {
            if c.eq_ignore_ascii_case(ALL) {
                Ok(Entry::All)
            } else {
                parse_name(c).map(Entry::Cap)
            }
        })
        .collect()
}

/// The capabilities a container gets, exactly as Docker's `caps.TweakCapabilities`:
/// privileged gets every capability the kernel knows (0..=`last_cap`); no adds and no drops
/// keep `basics`; `--cap-add ALL` gives everything but the drops; `--cap-drop ALL` gives only
/// the adds; otherwise the drops come out of `basics` and the adds go in.
pub fn tweak(
    basics: CapSet,
    adds: &[String],
    drops: &[String],
    privileged: bool,
    last_cap: u32,
) -> Result<CapSet, UnknownCapability> {
    if privileged {
        return Ok(CapSet::all_up_to(last_cap));
    }
    if adds.is_empty() && drops.is_empty() {
        return Ok(basics);
    }
    // Docker normalises the drops first, so a bad drop is the error reported.
    let drops = normalize(drops)?;
    let adds = normalize(adds)?;
    let dropped = |n: u32| drops.contains(&Entry::Cap(n));
    let mut set = CapSet::EMPTY;
    if adds.contains(&Entry::All) {
        for n in CapSet::all_up_to(last_cap).numbers() {
            if !dropped(n) {
                set.insert(n);
            }
        }
        return Ok(set);
    }
    if !drops.contains(&Entry::All) {
        for n in basics.numbers() {
            if !dropped(n) {
                set.insert(n);
            }
        }
    }
    for add in adds {
        if let Entry::Cap(n) = add {
            set.insert(n);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn tw(adds: &[&str], drops: &[&str]) -> Result<CapSet, UnknownCapability> {
        tweak(
            CapSet::docker_default(),
            &strs(adds),
            &strs(drops),
            false,
            40,
        )
    }

    #[test]
    fn default_set_is_dockers_mask() {
        let set = CapSet::docker_default();
        assert_eq!(set.0, 0xa804_25fb);
        assert_eq!(set.numbers().count(), 14);
        assert!(set.names().contains(&"CAP_AUDIT_WRITE".to_string()));
    }

    #[test]
    fn names_parse_with_or_without_prefix_any_case() {
        assert_eq!(parse_name("CAP_SYS_ADMIN"), Ok(21));
        assert_eq!(parse_name("sys_admin"), Ok(21));
        assert_eq!(parse_name("cap_net_admin"), Ok(12));
        assert_eq!(parse_name("checkpoint_restore"), Ok(40));
        assert_eq!(
            parse_name("foo").unwrap_err().to_string(),
            "unknown capability: \"CAP_FOO\""
        );
    }

    #[test]
    fn no_tweaks_keep_the_basics() {
        assert_eq!(tw(&[], &[]), Ok(CapSet::docker_default()));
    }

    #[test]
    fn add_and_drop_single_capabilities() {
        let set = tw(&["NET_ADMIN", "cap_sys_time"], &["chown", "CAP_MKNOD"]).unwrap();
        assert!(set.contains(12) && set.contains(25));
        assert!(!set.contains(0) && !set.contains(27));
        assert_eq!(set.numbers().count(), 14);
    }

    #[test]
    fn drop_all_then_add_gives_only_the_adds() {
        // docker run --cap-drop=all --cap-add=chown --cap-add=setuid (Docker's docs).
        let set = tw(&["chown", "setuid"], &["all"]).unwrap();
        assert_eq!(set, CapSet((1 << 0) | (1 << 7)));
        assert_eq!(tw(&[], &["ALL"]), Ok(CapSet::EMPTY));
    }

    #[test]
    fn add_all_keeps_everything_but_the_drops() {
        // docker run --cap-add=ALL --cap-drop=MKNOD (Docker's docs).
        let set = tw(&["ALL"], &["MKNOD"]).unwrap();
        assert_eq!(set, CapSet(CapSet::all_up_to(40).0 & !(1 << 27)));
        // ALL in adds wins over ALL in drops, as in Docker's switch order.
        assert_eq!(tw(&["all"], &["all"]), Ok(CapSet::all_up_to(40)));
    }

    #[test]
    fn unknown_capability_is_refused() {
        let err = tw(&["foo"], &[]).unwrap_err();
        assert_eq!(err.to_string(), "unknown capability: \"CAP_FOO\"");
        let err = tw(&["bar"], &["baz"]).unwrap_err();
        assert_eq!(err.0, "CAP_BAZ", "drops are normalised first");
    }

    #[test]
    fn privileged_gets_every_capability_the_kernel_knows() {
        let set = tweak(CapSet::EMPTY, &strs(&["foo"]), &[], true, 40).unwrap();
        assert_eq!(set.0, 0x1ff_ffff_ffff);
        assert_eq!(CapSet::all_up_to(63).0, u64::MAX);
        assert_eq!(CapSet::all_up_to(0).0, 1);
    }

    #[test]
    fn unnamed_bits_show_their_number() {
        assert_eq!(CapSet(1 << 45).names(), vec!["CAP_45".to_string()]);
        assert!(CapSet(1 << 21).contains_name("CAP_SYS_ADMIN"));
        assert!(!CapSet(1 << 21).contains_name("CAP_NOPE"));
    }
}
