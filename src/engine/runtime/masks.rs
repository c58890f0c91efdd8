//! Docker's masked paths (`/dev/null` bound over files, an empty read-only tmpfs over
//! directories) and read-only paths (bound onto themselves, remounted read-only), applied
//! after `pivot_root` so every path is the container's. Paths that do not exist are
//! skipped, as runc does.

use std::fs;
use std::io::ErrorKind;

use nix::mount::{mount, MsFlags};

use super::{RuntimeError, Step};

const NONE: Option<&str> = None;

/// Masks then makes read-only, in the spec's order.
pub(super) fn apply(masked: &[String], readonly: &[String]) -> Result<(), RuntimeError> {
    for path in masked {
        if is_thermal_throttle(path) {
            for cpu in every_cpu_thermal_throttle() {
                mask(&cpu)?;
            }
        } else {
            mask(path)?;
        }
    }
    for path in readonly {
        make_readonly(path)?;
    }
    Ok(())
}

/// Docker 28 masks `thermal_throttle` of every CPU; the list names cpu0 as the pattern.
fn is_thermal_throttle(path: &str) -> bool {
    path.strip_prefix("/sys/devices/system/cpu/cpu")
        .and_then(|rest| rest.strip_suffix("/thermal_throttle"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `/sys/devices/system/cpu/cpu<N>/thermal_throttle` for every CPU (existing or not: a
/// missing one is skipped by [`mask`]).
fn every_cpu_thermal_throttle() -> Vec<String> {
    let Ok(entries) = fs::read_dir("/sys/devices/system/cpu") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|name| format!("/sys/devices/system/cpu/{name}/thermal_throttle"))
        .filter(|p| is_thermal_throttle(p))
        .collect()
}

fn mask(path: &str) -> Result<(), RuntimeError> {
    let step = || format!("masking {path}");
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(RuntimeError::new(step(), e)),
    };
    if meta.is_dir() {
        mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, NONE).step(step())
    } else {
        mount(Some("/dev/null"), path, NONE, MsFlags::MS_BIND, NONE).step(step())
    }
}

fn make_readonly(path: &str) -> Result<(), RuntimeError> {
    let step = || format!("making {path} read-only");
    match fs::symlink_metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(RuntimeError::new(step(), e)),
    }
    mount(
        Some(path),
        path,
        NONE,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        NONE,
    )
    .step(step())?;
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(NONE, path, NONE, flags, NONE).step(step())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thermal_throttle_pattern() {
        assert!(is_thermal_throttle(
            "/sys/devices/system/cpu/cpu0/thermal_throttle"
        ));
        assert!(is_thermal_throttle(
            "/sys/devices/system/cpu/cpu17/thermal_throttle"
        ));
        assert!(!is_thermal_throttle(
            "/sys/devices/system/cpu/cpufreq/thermal_throttle"
        ));
        assert!(!is_thermal_throttle("/proc/kcore"));
    }
}
