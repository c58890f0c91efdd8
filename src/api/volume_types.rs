//! Bodies of the `/volumes` endpoints, as the Docker Engine API v1.43 spec names them.
//! Shared by the daemon (which answers them) and the CLI (which sends them).
//!
//! Not here: swarm's `ClusterVolume` fields and `UsageData` (only `system df` fills it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /volumes/{name}` and one entry of `GET /volumes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Volume {
    pub name: String,
    /// Always `local`.
    pub driver: String,
    /// `<root>/volumes/<name>/_data`.
    pub mountpoint: String,
    /// RFC 3339, seconds, as Docker's local driver keeps it.
    pub created_at: String,
    /// Docker's local driver reports none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, serde_json::Value>>,
    /// `null` when the volume has none, as Docker's nil map.
    pub labels: Option<BTreeMap<String, String>>,
    /// Always `local`.
    pub scope: String,
    /// The driver options (`type`, `device`, `o`); `null` when none.
    pub options: Option<BTreeMap<String, String>>,
}

/// `GET /volumes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeListResponse {
    /// `[]` when there is none (Docker makes the slice).
    pub volumes: Vec<Volume>,
    pub warnings: Option<Vec<String>>,
}

/// `POST /volumes/create`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateRequest {
    /// Empty: a generated (anonymous-style) 64-hex name.
    pub name: String,
    /// Empty means `local`.
    pub driver: String,
    /// `null` from some clients.
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// `POST /volumes/prune`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumePruneReport {
    /// `null` when nothing was removed, as Docker's nil slice.
    pub volumes_deleted: Option<Vec<String>>,
    pub space_reclaimed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_serialise_with_dockers_names_and_nulls() {
        let v = Volume {
            name: "data".into(),
            driver: "local".into(),
            mountpoint: "/var/lib/berth/volumes/data/_data".into(),
            created_at: "2024-01-02T03:04:05Z".into(),
            scope: "local".into(),
            ..Volume::default()
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["Labels"], serde_json::Value::Null);
        assert_eq!(json["Options"], serde_json::Value::Null);
        assert_eq!(json["CreatedAt"], "2024-01-02T03:04:05Z");
        assert!(json.get("Status").is_none());
        let list = serde_json::to_string(&VolumeListResponse::default()).unwrap();
        assert_eq!(list, r#"{"Volumes":[],"Warnings":null}"#);
    }

    #[test]
    fn create_requests_accept_nulls_and_missing_fields() {
        let r: VolumeCreateRequest =
            serde_json::from_str(r#"{"Name":"x","DriverOpts":null,"Labels":{"a":"b"}}"#).unwrap();
        assert_eq!(r.name, "x");
        assert!(r.driver.is_empty());
        assert_eq!(r.labels.unwrap()["a"], "b");
    }
}
