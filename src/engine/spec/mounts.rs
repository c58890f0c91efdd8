//! `-v` strings (`HostConfig.Binds`), `--mount` entries (`HostConfig.Mounts`), `--tmpfs`
//! (`HostConfig.Tmpfs`) and the image's anonymous volumes, turned into [`MountSpec`]s with
//! Docker's Linux parser rules and error texts.

use std::collections::{BTreeMap, BTreeSet};

use super::create_request::{HostConfig, Mount};
use super::{MountSpec, SpecError};

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];
const DEFAULT_PROPAGATION: &str = "rprivate";
/// Options Docker puts before the user's on every tmpfs.
const TMPFS_DEFAULTS: [&str; 4] = ["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION];

/// All mounts of a container, Binds first, then Mounts, then `--tmpfs`, then anonymous
/// volumes for `volumes` destinations nothing else covers; sorted parents first.
pub(super) fn collect_mounts(
    hc: &HostConfig,
    volumes: &BTreeSet<String>,
) -> Result<Vec<MountSpec>, SpecError> {
    let mut mounts: Vec<MountSpec> = Vec::new();
    let push = |m: MountSpec, mounts: &mut Vec<MountSpec>| {
        if mounts.iter().any(|o| o.destination() == m.destination()) {
            return Err(SpecError::invalid(format!(
                "Duplicate mount point: {}",
                m.destination()
            )));
        }
        mounts.push(m);
        Ok(())
    };
    for raw in &hc.binds {
        push(parse_bind(raw)?, &mut mounts)?;
    }
    for m in &hc.mounts {
        push(parse_mount(m)?, &mut mounts)?;
    }
    for (dest, data) in &hc.tmpfs {
        push(parse_tmpfs(dest, data)?, &mut mounts)?;
    }
    for dest in volumes {
        let destination = clean_path(dest);
        if !mounts.iter().any(|m| m.destination() == destination) {
            mounts.push(MountSpec::Volume {
                name: None,
                destination,
                read_only: false,
                copy_data: true,
            });
        }
    }
    // Docker sorts by the number of path components so that `/a` is mounted before `/a/b`.
    mounts.sort_by_key(|m| m.destination().split('/').filter(|p| !p.is_empty()).count());
    Ok(mounts)
}

/// One `-v` string: `/ctr`, `src:/ctr` or `src:/ctr:mode`. An absolute `src` is a bind,
/// anything else names a volume.
fn parse_bind(raw: &str) -> Result<MountSpec, SpecError> {
    let invalid_spec = || format!("invalid volume specification: '{raw}'");
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts[0].is_empty() {
        return Err(SpecError::invalid(invalid_spec()));
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        // `/foo:rw` is a destination with a mode, which volumes cannot have.
        [_, mode] if is_valid_mode(mode) => return Err(SpecError::invalid(invalid_spec())),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(SpecError::invalid(invalid_spec())),
    };
    if !is_valid_mode(mode) {
        return Err(SpecError::invalid(format!("invalid mode: {mode}")));
    }
    let options: Vec<&str> = mode.split(',').filter(|o| !o.is_empty()).collect();
    let propagation = options.iter().find(|o| PROPAGATIONS.contains(o));
    let nocopy = options.contains(&"nocopy");
    let mount = Mount {
        r#type: if source.starts_with('/') {
            "bind"
        } else {
            "volume"
        }
        .to_string(),
        source: source.to_string(),
        target: target.to_string(),
        read_only: options.contains(&"ro"),
        bind_options: propagation.map(|p| super::create_request::BindOptions {
            propagation: p.to_string(),
            non_recursive: false,
        }),
        // Only the presence matters to the validation (`nocopy` on a bind is refused).
        volume_options: nocopy.then(|| serde_json::json!({"NoCopy": true})),
        ..Mount::default()
    };
    parse_mount(&mount).map_err(|e| SpecError::invalid(format!("{}: {e}", invalid_spec())))
}

/// Docker's `ValidMountMode`: comma-separated, at most one of each kind.
fn is_valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0u8; 5];
    for o in mode.split(',') {
        let kind = match o {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            _ if PROPAGATIONS.contains(&o) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[kind] += 1;
    }
    counts.iter().all(|c| *c <= 1)
}

/// One `--mount` entry, Docker's `validateMountConfig` then `parseMountSpec`.
fn parse_mount(m: &Mount) -> Result<MountSpec, SpecError> {
    let fail = |detail: String| {
        SpecError::invalid(format!(
            "invalid mount config for type \"{}\": {detail}",
            m.r#type
        ))
    };
    if m.target.is_empty() {
        return Err(fail("field Target must not be empty".into()));
    }
    validate_destination(&m.target).map_err(fail)?;
    let destination = clean_path(&m.target);
    match m.r#type.as_str() {
        "bind" => {
            if m.source.is_empty() {
                return Err(fail("field Source must not be empty".into()));
            }
            let options = m.bind_options.clone().unwrap_or_default();
            if !options.propagation.is_empty()
                && !PROPAGATIONS.contains(&options.propagation.as_str())
            {
                return Err(fail(format!(
                    "invalid propagation mode: {}",
                    options.propagation
                )));
            }
            if m.volume_options.is_some() {
                return Err(fail("field VolumeOptions must not be specified".into()));
            }
            validate_absolute(&m.source).map_err(fail)?;
            let propagation = if options.propagation.is_empty() {
                DEFAULT_PROPAGATION.to_string()
            } else {
                options.propagation
            };
            Ok(MountSpec::Bind {
                source: clean_path(&m.source),
                destination,
                read_only: m.read_only,
                propagation,
                recursive: !options.non_recursive,
            })
        }
        "volume" => {
            if m.bind_options.is_some() {
                return Err(fail("field BindOptions must not be specified".into()));
            }
            if m.read_only && m.source.is_empty() {
                return Err(fail(
                    "must not set ReadOnly mode when using anonymous volumes".into(),
                ));
            }
            let no_copy = m
                .volume_options
                .as_ref()
                .and_then(|o| o.get("NoCopy"))
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            Ok(MountSpec::Volume {
                name: (!m.source.is_empty()).then(|| m.source.clone()),
                destination,
                read_only: m.read_only,
                copy_data: !no_copy,
            })
        }
        "tmpfs" => {
            if m.bind_options.is_some() {
                return Err(fail("field BindOptions must not be specified".into()));
            }
            if !m.source.is_empty() {
                return Err(fail("field Source must not be specified".into()));
            }
            let data = tmpfs_data(m);
            Ok(MountSpec::Tmpfs {
                destination,
                options: merge_tmpfs_options(&data)?,
            })
        }
        _ => Err(fail("mount type unknown".into())),
    }
}

/// `TmpfsOptions` as mount data: `ro`, `mode=` in octal, `size=` with the largest unit
/// that divides it (Docker's `ConvertTmpfsOptions`).
fn tmpfs_data(m: &Mount) -> String {
    let mut opts = Vec::new();
    if m.read_only {
        opts.push("ro".to_string());
    }
    if let Some(t) = &m.tmpfs_options {
        if t.mode != 0 {
            opts.push(format!("mode={:o}", t.mode));
        }
        if t.size_bytes != 0 {
            opts.push(format!("size={}", tmpfs_options_from_bytes(t.size_bytes)));
        }
    }
    opts.join(",")
}

/// `1073741824` → `1g`, `65536` → `64k`, `1000` → `1000`.
pub fn tmpfs_options_from_bytes(size: i64) -> String {
    for (suffix, divisor) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if size % divisor == 0 {
            return format!("{}{suffix}", size / divisor);
        }
    }
    size.to_string()
}

/// One `--tmpfs /dest:options` entry (the API carries it as a map).
fn parse_tmpfs(dest: &str, data: &str) -> Result<MountSpec, SpecError> {
    validate_destination(dest).map_err(SpecError::Invalid)?;
    Ok(MountSpec::Tmpfs {
        destination: clean_path(dest),
        options: merge_tmpfs_options(data)?,
    })
}

/// Which mount flag an option sets or clears; options sharing a key override each other.
fn flag_key(option: &str) -> Option<&'static str> {
    Some(match option {
        "ro" | "rw" => "rdonly",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "bind" => "bind",
        "rbind" => "rbind",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave" | "unbindable"
        | "runbindable" => "propagation",
        _ => return None,
    })
}

const TMPFS_DATA_KEYS: [&str; 7] = [
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

/// Docker's defaults then `data`, the last occurrence of each flag or key winning, order
/// kept (Docker's `MergeTmpfsOptions`).
fn merge_tmpfs_options(data: &str) -> Result<Vec<String>, SpecError> {
    let all: Vec<&str> = TMPFS_DEFAULTS
        .iter()
        .copied()
        .chain(data.split(',').filter(|o| !o.is_empty()))
        .collect();
    let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
    let mut merged = Vec::new();
    for option in all.iter().rev() {
        if *option == "defaults" {
            continue;
        }
        let key = match flag_key(option) {
            Some(key) => key,
            None => match option.split_once('=') {
                Some((k, _)) if TMPFS_DATA_KEYS.contains(&k) => k,
                _ => {
                    let parts: Vec<String> =
                        option.splitn(2, '=').map(|p| format!("{p:?}")).collect();
                    return Err(SpecError::invalid(format!(
                        "Invalid tmpfs option [{}]",
                        parts.join(" ")
                    )));
                }
            },
        };
        if seen.insert(key, ()).is_none() {
            merged.push(option.to_string());
        }
    }
    merged.reverse();
    Ok(merged)
}

/// Docker's `ValidateTmpfsMountDestination` and the target checks of `validateMountConfig`.
fn validate_destination(dest: &str) -> Result<(), String> {
    if dest == "/" {
        return Err("invalid specification: destination can't be '/'".into());
    }
    validate_absolute(dest)
}

fn validate_absolute(p: &str) -> Result<(), String> {
    if p.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "invalid mount path: '{p}' mount path must be absolute"
        ))
    }
}

/// Go's `path.Clean` for slash paths: no `.`, no `..` that can be resolved, no double or
/// trailing slashes.
pub(super) fn clean_path(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::super::create_request::{BindOptions, TmpfsOptions};
    use super::*;

    fn bind(raw: &str) -> Result<MountSpec, String> {
        parse_bind(raw).map_err(|e| e.to_string())
    }

    fn bind_spec(source: &str, destination: &str, read_only: bool, propagation: &str) -> MountSpec {
        MountSpec::Bind {
            source: source.into(),
            destination: destination.into(),
            read_only,
            propagation: propagation.into(),
            recursive: true,
        }
    }

    #[test]
    fn parses_a_bind_with_defaults() {
        assert_eq!(
            bind("/host:/ctr"),
            Ok(bind_spec("/host", "/ctr", false, "rprivate"))
        );
    }

    #[test]
    fn parses_a_read_only_bind_with_propagation_and_cleans_paths() {
        assert_eq!(
            bind("/host//a/../b:/ctr/./x/:ro,rshared"),
            Ok(bind_spec("/host/b", "/ctr/x", true, "rshared"))
        );
    }

    #[test]
    fn accepts_label_and_consistency_modes_on_binds() {
        assert_eq!(
            bind("/h:/c:rw,z,cached"),
            Ok(bind_spec("/h", "/c", false, "rprivate"))
        );
    }

    #[test]
    fn a_relative_source_names_a_volume() {
        assert_eq!(
            bind("data:/var/lib/data:ro,nocopy"),
            Ok(MountSpec::Volume {
                name: Some("data".into()),
                destination: "/var/lib/data".into(),
                read_only: true,
                copy_data: false,
            })
        );
    }

    #[test]
    fn a_lone_destination_is_an_anonymous_volume() {
        assert_eq!(
            bind("/data"),
            Ok(MountSpec::Volume {
                name: None,
                destination: "/data".into(),
                read_only: false,
                copy_data: true
            })
        );
    }

    #[test]
    fn refuses_malformed_binds_with_dockers_texts() {
        assert_eq!(
            bind(":/c"),
            Err("invalid volume specification: ':/c'".into())
        );
        assert_eq!(
            bind("/c:rw"),
            Err("invalid volume specification: '/c:rw'".into())
        );
        assert_eq!(
            bind("/a:/b:/c:ro"),
            Err("invalid volume specification: '/a:/b:/c:ro'".into())
        );
        assert_eq!(bind("/a:/b:bogus"), Err("invalid mode: bogus".into()));
        assert_eq!(bind("/a:/b:ro,rw"), Err("invalid mode: ro,rw".into()));
    }

    #[test]
    fn refuses_bad_bind_targets_with_dockers_texts() {
        assert_eq!(
            bind("/a:b"),
            Err(
                "invalid volume specification: '/a:b': invalid mount config for type \"bind\": \
                 invalid mount path: 'b' mount path must be absolute"
                    .into()
            )
        );
        assert_eq!(
            bind("/a:/"),
            Err(
                "invalid volume specification: '/a:/': invalid mount config for type \"bind\": \
                 invalid specification: destination can't be '/'"
                    .into()
            )
        );
    }

    #[test]
    fn refuses_nocopy_on_a_bind_and_propagation_on_a_volume() {
        assert_eq!(
            bind("/a:/b:nocopy"),
            Err(
                "invalid volume specification: '/a:/b:nocopy': invalid mount config for type \
                 \"bind\": field VolumeOptions must not be specified"
                    .into()
            )
        );
        assert_eq!(
            bind("vol:/b:rshared"),
            Err(
                "invalid volume specification: 'vol:/b:rshared': invalid mount config for type \
                 \"volume\": field BindOptions must not be specified"
                    .into()
            )
        );
    }

    fn mount(kind: &str, source: &str, target: &str) -> Mount {
        Mount {
            r#type: kind.into(),
            source: source.into(),
            target: target.into(),
            ..Mount::default()
        }
    }

    fn mount_err(m: &Mount) -> String {
        parse_mount(m).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_non_recursive_bind_mount() {
        let m = Mount {
            bind_options: Some(BindOptions {
                propagation: "slave".into(),
                non_recursive: true,
            }),
            read_only: true,
            ..mount("bind", "/src", "/dst")
        };
        assert_eq!(
            parse_mount(&m),
            Ok(MountSpec::Bind {
                source: "/src".into(),
                destination: "/dst".into(),
                read_only: true,
                propagation: "slave".into(),
                recursive: false,
            })
        );
    }

    #[test]
    fn refuses_bad_mounts_with_dockers_texts() {
        assert_eq!(
            mount_err(&mount("bind", "/a", "")),
            "invalid mount config for type \"bind\": field Target must not be empty"
        );
        assert_eq!(
            mount_err(&mount("bind", "", "/b")),
            "invalid mount config for type \"bind\": field Source must not be empty"
        );
        assert_eq!(
            mount_err(&mount("bind", "rel", "/b")),
            "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"
        );
        assert_eq!(
            mount_err(&mount("tmpfs", "x", "/b")),
            "invalid mount config for type \"tmpfs\": field Source must not be specified"
        );
        assert_eq!(
            mount_err(&mount("npipe", "", "/b")),
            "invalid mount config for type \"npipe\": mount type unknown"
        );
        let ro_anon = Mount {
            read_only: true,
            ..mount("volume", "", "/v")
        };
        assert_eq!(
            mount_err(&ro_anon),
            "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes"
        );
        let bad_prop = Mount {
            bind_options: Some(BindOptions {
                propagation: "weird".into(),
                non_recursive: false,
            }),
            ..mount("bind", "/a", "/b")
        };
        assert_eq!(
            mount_err(&bad_prop),
            "invalid mount config for type \"bind\": invalid propagation mode: weird"
        );
    }

    #[test]
    fn converts_tmpfs_options_like_docker() {
        let m = Mount {
            read_only: true,
            tmpfs_options: Some(TmpfsOptions {
                size_bytes: 64 << 20,
                mode: 0o1777,
            }),
            ..mount("tmpfs", "", "/run")
        };
        assert_eq!(
            parse_mount(&m),
            Ok(MountSpec::Tmpfs {
                destination: "/run".into(),
                options: [
                    "noexec",
                    "nosuid",
                    "nodev",
                    "rprivate",
                    "ro",
                    "mode=1777",
                    "size=64m"
                ]
                .map(String::from)
                .to_vec(),
            })
        );
        assert_eq!(tmpfs_options_from_bytes(1 << 30), "1g");
        assert_eq!(tmpfs_options_from_bytes(3 << 10), "3k");
        assert_eq!(tmpfs_options_from_bytes(1000), "1000");
    }

    #[test]
    fn merges_tmpfs_options_later_ones_winning() {
        assert_eq!(
            merge_tmpfs_options("exec,size=1m,size=2m,shared").map_err(|e| e.to_string()),
            Ok(["nosuid", "nodev", "exec", "size=2m", "shared"]
                .map(String::from)
                .to_vec())
        );
    }

    #[test]
    fn refuses_unknown_tmpfs_options_with_dockers_text() {
        assert_eq!(
            merge_tmpfs_options("foo").map_err(|e| e.to_string()),
            Err("Invalid tmpfs option [\"foo\"]".into())
        );
        assert_eq!(
            merge_tmpfs_options("color=red").map_err(|e| e.to_string()),
            Err("Invalid tmpfs option [\"color\" \"red\"]".into())
        );
    }

    #[test]
    fn collects_sorts_and_skips_covered_anonymous_volumes() {
        let hc = HostConfig {
            binds: vec!["/h/a:/a/b".into(), "/h:/a".into()],
            tmpfs: BTreeMap::from([("/t".to_string(), "size=1k".to_string())]),
            ..HostConfig::default()
        };
        let volumes = BTreeSet::from(["/a".to_string(), "/var/lib/x/".to_string()]);
        let mounts = collect_mounts(&hc, &volumes).expect("valid");
        let dests: Vec<&str> = mounts.iter().map(|m| m.destination()).collect();
        assert_eq!(dests, ["/a", "/t", "/a/b", "/var/lib/x"]);
        assert!(matches!(mounts[0], MountSpec::Bind { .. }));
        assert!(matches!(mounts[3], MountSpec::Volume { name: None, .. }));
    }

    #[test]
    fn refuses_duplicate_destinations_with_dockers_text() {
        let hc = HostConfig {
            binds: vec!["/h:/a".into()],
            mounts: vec![mount("bind", "/x", "/a/")],
            ..HostConfig::default()
        };
        assert_eq!(
            collect_mounts(&hc, &BTreeSet::new()),
            Err(SpecError::invalid("Duplicate mount point: /a"))
        );
        let hc = HostConfig {
            binds: vec!["/h:/a".into()],
            tmpfs: BTreeMap::from([("/a".to_string(), String::new())]),
            ..HostConfig::default()
        };
        assert!(collect_mounts(&hc, &BTreeSet::new()).is_err());
    }

    #[test]
    fn refuses_bad_tmpfs_destinations() {
        assert_eq!(
            parse_tmpfs("/", ""),
            Err(SpecError::invalid(
                "invalid specification: destination can't be '/'"
            ))
        );
        assert_eq!(
            parse_tmpfs("run", ""),
            Err(SpecError::invalid(
                "invalid mount path: 'run' mount path must be absolute"
            ))
        );
    }

    #[test]
    fn cleans_paths_like_go() {
        assert_eq!(clean_path("/a//b/./c/.."), "/a/b");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path(""), ".");
    }
}
