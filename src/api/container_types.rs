//! Docker Engine API wire types for containers and exec (v1.43 names and shapes).
//!
//! CONTRACT: the container-manager helper fills these in (serde, Docker's field names);
//! the API server serializes them, the CLI deserializes them.

use serde::{Deserialize, Serialize};

/// `POST /containers/create` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

/// `GET /containers/{id}/json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerInspect {}

/// One entry of `GET /containers/json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerSummary {}

/// `GET /containers/{id}/top`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerTop {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// One sample of `GET /containers/{id}/stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSample {}

/// One entry of `GET /containers/{id}/changes` (`Kind`: 0 modified, 1 added, 2 deleted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilesystemChange {
    pub path: String,
    pub kind: u8,
}

/// The `X-Docker-Container-Path-Stat` header (base64 JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode` bits.
    pub mode: u32,
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// `POST /containers/prune` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PruneReport {
    pub containers_deleted: Option<Vec<String>>,
    pub space_reclaimed: u64,
}

/// `POST /containers/{id}/exec` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecCreateRequest {}

/// `GET /exec/{id}/json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecInspect {}
