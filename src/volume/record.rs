//! One volume on disk: `<root>/volumes/<name>/volume.json` (written atomically: temp file,
//! fsync, rename) beside the data directory `_data`, and Docker's rules for names.

use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The metadata file's name inside a volume's directory.
pub const RECORD_FILE: &str = "volume.json";
/// The data directory's name inside a volume's directory.
pub const DATA_DIR: &str = "_data";
/// The label Docker 23+ puts on anonymous volumes (prune removes only those by default).
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";
/// Docker's `RestrictedNameChars`, quoted in its error text.
const NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// What berth keeps about one volume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VolumeRecord {
    pub name: String,
    /// Always `local`.
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// `type`, `device`, `o`.
    pub options: BTreeMap<String, String>,
    /// RFC 3339, seconds.
    pub created_at: String,
    /// Made for a container (image `VOLUME`, `-v /path`): `rm -v` and prune remove it.
    pub anonymous: bool,
}

/// Docker's local driver name check: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, so at least two
/// characters.
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest: Vec<char> = chars.collect();
    let rest_ok = !rest.is_empty()
        && rest
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(*c));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} includes invalid characters for a local volume name, only \
             {NAME_CHARS:?} are allowed. If you intended to pass a host directory, use \
             absolute path"
        ))
    }
}

/// A fresh anonymous volume name: 64 random hex digits, as Docker's.
pub fn anonymous_name() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| anyhow::anyhow!("generating a volume name: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The current time as the local driver records it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `<volumes>/<name>/_data`.
pub fn data_dir(volumes: &Path, name: &str) -> PathBuf {
    volumes.join(name).join(DATA_DIR)
}

/// Makes the volume's directory and `_data`, then writes its record.
pub fn create_on_disk(volumes: &Path, record: &VolumeRecord) -> anyhow::Result<()> {
    let data = data_dir(volumes, &record.name);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&data)
        .with_context(|| format!("creating {}", data.display()))?;
    save(&volumes.join(&record.name), record)
}

/// Writes `<dir>/volume.json` atomically.
pub fn save(dir: &Path, record: &VolumeRecord) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("encoding the volume record")?;
    crate::daemon::atomic::write_synced(&dir.join(RECORD_FILE), &bytes)
}

/// Every volume under `volumes`. A directory without a readable record but with `_data`
/// (a volume made by a daemon that died before writing it) is kept as a plain volume, as
/// Docker's local driver lists every directory.
pub fn load_all(volumes: &Path) -> anyhow::Result<Vec<VolumeRecord>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(volumes).with_context(|| format!("reading {}", volumes.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", volumes.display()))?;
        let dir = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !dir.is_dir() || validate_name(&name).is_err() {
            continue;
        }
        let path = dir.join(RECORD_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<VolumeRecord>(&bytes) {
                Ok(mut r) => {
                    r.name = name;
                    out.push(r);
                }
                Err(e) => tracing::warn!(path = %path.display(), "skipping a volume: {e}"),
            },
            Err(_) if dir.join(DATA_DIR).is_dir() => out.push(VolumeRecord {
                name,
                driver: "local".into(),
                ..VolumeRecord::default()
            }),
            Err(_) => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_pattern() {
        assert!(validate_name("data").is_ok());
        assert!(validate_name("a.b_c-1").is_ok());
        assert!(validate_name("ab").is_ok());
        for bad in ["a", "", "_x", "-x", "a/b", "a b", "/abs"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate_name("a/b").unwrap_err(),
            "\"a/b\" includes invalid characters for a local volume name, only \
             \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host \
             directory, use absolute path"
        );
    }

    #[test]
    fn anonymous_names_are_64_hex() {
        let n = anonymous_name().unwrap();
        assert_eq!(n.len(), 64);
        assert!(n.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(n, anonymous_name().unwrap());
    }

    #[test]
    fn records_round_trip_through_the_disk() {
        let d = tempfile::tempdir().unwrap();
        let r = VolumeRecord {
            name: "data".into(),
            driver: "local".into(),
            labels: [("a".to_string(), "b".to_string())].into(),
            created_at: now(),
            ..VolumeRecord::default()
        };
        create_on_disk(d.path(), &r).unwrap();
        assert!(data_dir(d.path(), "data").is_dir());
        // A bare directory with `_data` is a volume too; one without is ignored.
        std::fs::create_dir_all(d.path().join("bare/_data")).unwrap();
        std::fs::create_dir_all(d.path().join("junk")).unwrap();
        let mut all = load_all(d.path()).unwrap();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "bare");
        assert_eq!(all[1], r);
    }
}
