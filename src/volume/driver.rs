//! The local driver's options (`type`, `device`, `o`): checked at create, mounted on the
//! volume's `_data` with mount(2) when the first container using the volume starts, and
//! unmounted when the last one stops or the volume is removed, as Docker's local driver.
//!
//! Not done: `size` (an xfs project quota), NFS `addr=` host name resolution and CIFS
//! credential handling; such options reach mount(2) as written.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// The option keys Docker's local driver accepts.
const VALID_OPTIONS: [&str; 4] = ["type", "device", "o", "size"];

/// Docker's `validateOpts`.
pub fn validate_options(options: &BTreeMap<String, String>) -> Result<(), String> {
    for key in options.keys() {
        if !VALID_OPTIONS.contains(&key.as_str()) {
            return Err(format!("invalid option: {key:?}"));
        }
    }
    if options.contains_key("size") {
        return Err("quota size requested but no quota support".into());
    }
    Ok(())
}

/// Whether the options ask for a mount (any of `type`, `device`, `o`).
pub fn needs_mount(options: &BTreeMap<String, String>) -> bool {
    ["type", "device", "o"]
        .iter()
        .any(|k| options.get(*k).is_some_and(|v| !v.is_empty()))
}

/// Mounts the volume's device on `data` (Docker's `localVolume.mount`).
pub fn mount_device(data: &Path, options: &BTreeMap<String, String>) -> Result<(), String> {
    let fstype = options.get("type").map(String::as_str).unwrap_or("");
    let mut device = options.get("device").map(String::as_str).unwrap_or("");
    // Docker insists on a device; for tmpfs the conventional one is `tmpfs`.
    if device.is_empty() && fstype == "tmpfs" {
        device = "tmpfs";
    }
    if device.is_empty() {
        return Err("missing device in volume options".into());
    }
    let o = options.get("o").map(String::as_str).unwrap_or("");
    let (flags, propagation, data_opts) = parse_options(o);
    let fail = |e: nix::Error| {
        let shown = hide_password(&data_opts);
        format!(
            "failed to mount local volume: mount {device}:{}, flags: {:#x}, data: {shown}: {}",
            data.display(),
            flags.bits(),
            e.desc().to_ascii_lowercase()
        )
    };
    let fstype_arg = (!fstype.is_empty() && fstype != "none").then_some(fstype);
    let data_arg = (!data_opts.is_empty()).then_some(data_opts.as_str());
    if flags.contains(MsFlags::MS_BIND) {
        // A bind ignores the other flags on the first call: read-only needs a remount.
        mount(Some(device), data, fstype_arg, flags, data_arg).map_err(fail)?;
        let rest = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
        if !rest.is_empty() {
            let remount = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rest;
            if let Err(e) = mount(None::<&str>, data, None::<&str>, remount, None::<&str>) {
                let _ = umount2(data, MntFlags::MNT_DETACH);
                return Err(fail(e));
            }
        }
    } else {
        mount(Some(device), data, fstype_arg, flags, data_arg).map_err(fail)?;
    }
    if let Some(p) = propagation {
        let _ = mount(None::<&str>, data, None::<&str>, p, None::<&str>);
    }
    Ok(())
}

/// Unmounts `data` when something is mounted there (lazily: a process that still has a
/// file open there cannot keep the volume from going).
pub fn unmount_device(data: &Path) -> Result<(), String> {
    while is_mount_point(data) {
        umount2(data, MntFlags::MNT_DETACH)
            .map_err(|e| format!("unmounting {}: {}", data.display(), e.desc()))?;
    }
    Ok(())
}

/// Whether `path` is a mount point in this mount namespace (`/proc/self/mountinfo`).
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let wanted = path.to_string_lossy();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| unescape_mountinfo(m) == wanted)
}

/// mountinfo's octal escapes (`\040` for a space).
fn unescape_mountinfo(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some(Ok(v)) = s.get(i + 1..i + 4).map(|o| u8::from_str_radix(o, 8)) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Docker's `mount.parseOptions` of the `o` option: flag words to mount flags, propagation
/// words apart, the rest as the file system's data.
fn parse_options(o: &str) -> (MsFlags, Option<MsFlags>, String) {
    let words: Vec<&str> = o.split(',').collect();
    crate::engine::mount_options::parse(&words)
}

/// `password=secret` shown as `password=********` in errors, as Docker.
fn hide_password(data: &str) -> String {
    data.split(',')
        .map(|o| match o.split_once('=') {
            Some(("password", _)) => "password=********".to_string(),
            _ => o.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_are_checked_like_dockers_local_driver() {
        assert!(validate_options(&opts(&[("type", "tmpfs"), ("o", "size=1m")])).is_ok());
        assert_eq!(
            validate_options(&opts(&[("bogus", "1")])).unwrap_err(),
            "invalid option: \"bogus\""
        );
        assert!(!needs_mount(&opts(&[])));
        assert!(needs_mount(&opts(&[("type", "tmpfs")])));
    }

    #[test]
    fn mount_options_split_into_flags_propagation_and_data() {
        let (flags, prop, data) = parse_options("bind,ro,size=1m,rshared,uid=1000");
        assert!(flags.contains(MsFlags::MS_BIND | MsFlags::MS_RDONLY));
        assert_eq!(prop, Some(MsFlags::MS_SHARED | MsFlags::MS_REC));
        assert_eq!(data, "size=1m,uid=1000");
        let (flags, _, _) = parse_options("ro,rw");
        assert!(!flags.contains(MsFlags::MS_RDONLY));
        assert_eq!(
            hide_password("user=a,password=b"),
            "user=a,password=********"
        );
    }

    #[test]
    fn mountinfo_escapes_decode() {
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert!(is_mount_point(Path::new("/")));
        assert!(!is_mount_point(Path::new("/definitely/not/a/mount")));
    }
}
