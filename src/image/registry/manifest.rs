//! Manifests and indexes: media types, the documents' shapes, fetching them with their raw
//! bytes and verified digest, and choosing a platform from an index.
//!
//! The raw bytes are kept because the digest is over them: re-serialising a parsed manifest
//! would change it. Schema 1 manifests are recognised only to be refused.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{verify_digest, RegistryError, Session};
use crate::image::digest::Digest;
use crate::image::platform::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Manifests bigger than this are refused (containerd's limit), so a hostile registry cannot
/// make us buffer gigabytes.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Every manifest type we can read, most preferred first, for `Accept`.
const ACCEPT: [&str; 6] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1_SIGNED,
    DOCKER_SCHEMA1,
];

/// A content descriptor (`mediaType`, `digest`, `size`, and for index entries `platform`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

/// An index entry's `platform`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformField {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// An image index or Docker manifest list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A manifest as the registry served it.
#[derive(Clone, Debug)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
}

/// What a manifest turned out to be.
#[derive(Clone, Debug)]
pub enum Document {
    Index(ImageIndex),
    Manifest(ImageManifest),
    /// Docker schema 1, which we refuse.
    Schema1,
}

impl Session {
    /// GETs the manifest `tag_or_digest`; its bytes must hash to `expected` (pull by digest)
    /// and to the `Docker-Content-Digest` the registry claims.
    pub async fn fetch_manifest(
        &self,
        tag_or_digest: &str,
        expected: Option<&Digest>,
    ) -> Result<RawManifest, RegistryError> {
        let url = self.url(&format!("manifests/{tag_or_digest}"));
        let accept = ACCEPT.join(", ");
        let mut response = self
            .send_ok(Method::GET, &url, |r| {
                r.header(reqwest::header::ACCEPT, &accept)
            })
            .await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let claimed = header("docker-content-digest").and_then(|d| Digest::parse(&d).ok());
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| super::session::transport_error("Get", &url, &e))?
        {
            if bytes.len() + chunk.len() > MAX_MANIFEST_BYTES {
                return Err(RegistryError::Invalid(format!(
                    "manifest {tag_or_digest} is larger than {MAX_MANIFEST_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let digest = match expected.or(claimed.as_ref()) {
            Some(d) => verify_digest(&bytes, d)?,
            None => Digest::of_bytes(&bytes),
        };
        let media_type = media_type_of(&content_type, &bytes);
        Ok(RawManifest {
            bytes,
            digest,
            media_type,
        })
    }
}

/// The media type from `Content-Type` when it names a manifest, else from the body.
pub fn media_type_of(content_type: &str, bytes: &[u8]) -> String {
    let header = content_type.split(';').next().unwrap_or("").trim();
    if ACCEPT.contains(&header) {
        return header.to_string();
    }
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType", default)]
        media_type: String,
        #[serde(rename = "schemaVersion", default)]
        schema_version: u32,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(p) if !p.media_type.is_empty() => p.media_type,
        Ok(p) if p.schema_version == 1 => DOCKER_SCHEMA1.to_string(),
        Ok(p) if p.manifests.is_some() => OCI_INDEX.to_string(),
        _ => OCI_MANIFEST.to_string(),
    }
}

/// Parses `raw` by its media type.
pub fn classify(raw: &RawManifest) -> Result<Document, RegistryError> {
    let invalid = |e: serde_json::Error| {
        RegistryError::Invalid(format!("invalid manifest {}: {e}", raw.digest))
    };
    match raw.media_type.as_str() {
        DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => Ok(Document::Schema1),
        OCI_INDEX | DOCKER_MANIFEST_LIST => serde_json::from_slice(&raw.bytes)
            .map(Document::Index)
            .map_err(invalid),
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let m: ImageManifest = serde_json::from_slice(&raw.bytes).map_err(invalid)?;
            if m.schema_version == 1 {
                return Ok(Document::Schema1);
            }
            Ok(Document::Manifest(m))
        }
        other => Err(RegistryError::Invalid(format!(
            "unsupported manifest media type {other}"
        ))),
    }
}

/// The best entry of `index` for `want`: attestations and `unknown/unknown` entries are
/// skipped; an exact variant beats an older arm variant; an entry without a platform is a
/// last resort. `None` when nothing fits.
pub fn select_platform(index: &ImageIndex, want: &Platform) -> Option<Descriptor> {
    index
        .manifests
        .iter()
        .filter(|d| !is_attestation(d))
        .filter_map(|d| {
            let rank = match &d.platform {
                Some(p) if p.os == "unknown" || p.architecture == "unknown" => return None,
                Some(p) => {
                    let candidate =
                        Platform::normalized(&p.os, &p.architecture, p.variant.as_deref());
                    want.match_rank(&candidate)?
                }
                None => u32::MAX,
            };
            Some((rank, d))
        })
        // min_by_key keeps the first of equal ranks: the registry's order decides ties.
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, d)| d.clone())
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8, os: &str, arch: &str, variant: Option<&str>) -> serde_json::Value {
        let mut platform = serde_json::json!({"os": os, "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": Digest::of_bytes(&[n]).to_string(),
            "size": 10,
            "platform": platform,
        })
    }

    fn index(entries: Vec<serde_json::Value>) -> ImageIndex {
        serde_json::from_value(serde_json::json!({"schemaVersion": 2, "manifests": entries}))
            .expect("index")
    }

    #[test]
    fn picks_the_host_entry_and_skips_attestations() {
        let mut attestation = entry(9, "linux", "amd64", None);
        attestation["annotations"] =
            serde_json::json!({"vnd.docker.reference.type": "attestation-manifest"});
        let idx = index(vec![
            attestation,
            entry(1, "unknown", "unknown", None),
            entry(2, "linux", "arm64", None),
            entry(3, "linux", "amd64", None),
        ]);
        let amd =
            select_platform(&idx, &Platform::parse("linux/amd64").expect("p")).expect("match");
        assert_eq!(amd.digest, Digest::of_bytes(&[3]));
        let arm =
            select_platform(&idx, &Platform::parse("linux/arm64/v8").expect("p")).expect("match");
        assert_eq!(arm.digest, Digest::of_bytes(&[2]));
        assert!(select_platform(&idx, &Platform::parse("linux/s390x").expect("p")).is_none());
    }

    #[test]
    fn exact_arm_variant_beats_an_older_one() {
        let idx = index(vec![
            entry(1, "linux", "arm", Some("v6")),
            entry(2, "linux", "arm", Some("v7")),
        ]);
        let got =
            select_platform(&idx, &Platform::parse("linux/arm/v7").expect("p")).expect("match");
        assert_eq!(got.digest, Digest::of_bytes(&[2]));
    }

    #[test]
    fn media_type_comes_from_header_or_body() {
        assert_eq!(
            media_type_of(
                "application/vnd.oci.image.index.v1+json; charset=utf-8",
                b"{}"
            ),
            OCI_INDEX
        );
        assert_eq!(
            media_type_of("application/json", br#"{"schemaVersion":1,"fsLayers":[]}"#),
            DOCKER_SCHEMA1
        );
        assert_eq!(
            media_type_of("", br#"{"schemaVersion":2,"manifests":[]}"#),
            OCI_INDEX
        );
        assert_eq!(
            media_type_of("", br#"{"schemaVersion":2,"mediaType":"x"}"#),
            "x"
        );
    }

    #[test]
    fn schema1_is_recognised() {
        let raw = RawManifest {
            bytes: br#"{"schemaVersion":1}"#.to_vec(),
            digest: Digest::of_bytes(b"x"),
            media_type: DOCKER_SCHEMA1_SIGNED.to_string(),
        };
        assert!(matches!(classify(&raw), Ok(Document::Schema1)));
    }
}
