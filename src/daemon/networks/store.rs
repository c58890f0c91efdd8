//! Network records on disk: one JSON file per network, `<root>/network/<id>.json`, written
//! atomically (temp + rename), holding the settings, the IPAM state (so an address is never
//! handed out twice across restarts) and the endpoints of containers.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::EndpointState;
use crate::net::ipam::SubnetPool;

/// One network as the daemon keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct NetworkRecord {
    /// 64 hex.
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: bool,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// `IPAM.Options` as given (`None`: Docker shows `null`).
    pub ipam_options: Option<BTreeMap<String, String>>,
    /// The Linux bridge device; empty for `host` and `null`.
    pub bridge: String,
    pub mtu: u32,
    /// `bridge`, `host`, `none`.
    pub predefined: bool,
    /// The predefined `bridge`.
    pub default_bridge: bool,
    /// IPv4 first, then IPv6.
    pub subnets: Vec<SubnetPool>,
    /// Container ID → endpoint.
    pub endpoints: BTreeMap<String, EndpointRecord>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct EndpointRecord {
    /// Without the leading `/`.
    pub container_name: String,
    pub state: EndpointState,
}

impl NetworkRecord {
    pub fn subnet_v4(&self) -> Option<&SubnetPool> {
        self.subnets.iter().find(|s| s.is_v4())
    }
}

const SUFFIX: &str = ".json";

/// Writes `<dir>/<id>.json`, synced to disk.
pub(crate) fn save(dir: &Path, record: &NetworkRecord) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("encoding a network record")?;
    crate::daemon::atomic::write_synced(&dir.join(format!("{}{SUFFIX}", record.id)), &bytes)
}

/// Writes `<dir>/<id>.json` without a disk flush: for the endpoints and addresses, which
/// change with every container start and which a restarted daemon reconciles with the
/// running containers anyway (a killed daemon still finds the old or the new file).
pub(crate) fn save_quick(dir: &Path, record: &NetworkRecord) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("encoding a network record")?;
    crate::daemon::atomic::write_replace(&dir.join(format!("{}{SUFFIX}", record.id)), &bytes)
}

/// Deletes `<dir>/<id>.json`; absent is fine.
pub(crate) fn delete(dir: &Path, id: &str) -> anyhow::Result<()> {
    match std::fs::remove_file(dir.join(format!("{id}{SUFFIX}"))) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing the record of network {id}"))
        }
        _ => Ok(()),
    }
}

/// Every record in `dir`; a record that cannot be read is logged and skipped, so one
/// damaged file does not keep the daemon from starting.
pub(crate) fn load_all(dir: &Path) -> anyhow::Result<Vec<NetworkRecord>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let is_record = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(SUFFIX) && n.len() == 64 + SUFFIX.len());
        if !is_record {
            continue;
        }
        let parsed = std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|b| serde_json::from_slice::<NetworkRecord>(&b).map_err(Into::into));
        match parsed {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!("skipping network record {}: {e:#}", path.display()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut r = NetworkRecord {
            id: "a".repeat(64),
            name: "front".into(),
            driver: "bridge".into(),
            ..NetworkRecord::default()
        };
        r.subnets
            .push(SubnetPool::new("10.9.0.0/24".parse().expect("net")));
        save(dir.path(), &r).expect("save");
        std::fs::write(dir.path().join("junk.json"), "{").expect("junk");
        assert_eq!(load_all(dir.path()).expect("load"), vec![r.clone()]);
        delete(dir.path(), &r.id).expect("delete");
        delete(dir.path(), &r.id).expect("absent is fine");
        assert!(load_all(dir.path()).expect("load").is_empty());
    }
}
