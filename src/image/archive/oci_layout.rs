//! The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): each index entry
//! is an image manifest, or a nested index from which the host's platform is picked.
//!
//! Tags come from the entry's annotations: `io.containerd.image.name` (a full reference, as
//! Docker and containerd write it) or else `org.opencontainers.image.ref.name` when that is
//! a reference rather than a bare tag (skopeo writes just `latest`: such an image is loaded
//! untagged, by ID). Only plans are made here; nothing is unpacked.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::image::digest::Digest;
use crate::image::reference::Reference;
use crate::image::store::ImageStore;

use super::load::{ImagePlan, LayerPlan};
use super::spool::Spooled;
use super::{media, ArchiveError};

const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An image index (or Docker manifest list), lenient: only what we use.
#[derive(Debug, Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Clone, Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: Digest,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    platform: Option<PlatformField>,
}

#[derive(Clone, Debug, Deserialize)]
struct PlatformField {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// The images `index.json` names, one plan per index entry (the caller merges duplicates).
pub(super) fn plans(store: &ImageStore, spooled: &Spooled) -> Result<Vec<ImagePlan>, ArchiveError> {
    let bytes = spooled.meta("index.json").ok_or_else(|| {
        ArchiveError::Invalid("open index.json: no such file or directory".into())
    })?;
    let index: Index = serde_json::from_slice(bytes)
        .map_err(|e| ArchiveError::Invalid(format!("invalid index.json: {e}")))?;
    let mut plans = Vec::new();
    for entry in &index.manifests {
        let manifest = resolve_manifest(store, entry)?;
        let mut plan = plan_manifest(store, &manifest)?;
        plan.tags = tags_of(entry);
        plans.push(plan);
    }
    Ok(plans)
}

/// Follows a nested index down to the one manifest this host would run.
fn resolve_manifest(store: &ImageStore, entry: &Descriptor) -> Result<Descriptor, ArchiveError> {
    if !is_index(&entry.media_type) {
        return Ok(entry.clone());
    }
    let nested: Index = serde_json::from_slice(&read(store, &entry.digest)?)
        .map_err(|e| ArchiveError::Invalid(format!("invalid index {}: {e}", entry.digest)))?;
    let (os, arch, variant) = super::import::host_platform();
    let runnable: Vec<&Descriptor> = nested
        .manifests
        .iter()
        .filter(|d| !is_index(&d.media_type) && !is_attestation(d))
        .collect();
    let matches = |d: &&&Descriptor, want_variant: bool| {
        d.platform.as_ref().is_some_and(|p| {
            p.os == os
                && p.architecture == arch
                && (!want_variant || variant.is_none() || p.variant == variant)
        })
    };
    let chosen = runnable
        .iter()
        .find(|d| matches(d, true))
        .or_else(|| runnable.iter().find(|d| matches(d, false)))
        .ok_or_else(|| {
            ArchiveError::Invalid(format!(
                "no match for platform in manifest {}: not found",
                entry.digest
            ))
        })?;
    Ok((*chosen).clone())
}

/// Build attestations (`unknown/unknown` entries) are not images.
fn is_attestation(d: &Descriptor) -> bool {
    d.annotations.contains_key("vnd.docker.reference.type")
        || d.platform.as_ref().is_some_and(|p| p.os == "unknown")
}

fn is_index(media_type: &str) -> bool {
    media_type == media::OCI_INDEX || media_type == media::DOCKER_LIST
}

/// Reads an image manifest from the store and lists its config and layers.
fn plan_manifest(store: &ImageStore, entry: &Descriptor) -> Result<ImagePlan, ArchiveError> {
    let bytes = read(store, &entry.digest)?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| ArchiveError::Invalid(format!("invalid manifest {}: {e}", entry.digest)))?;
    if !store.has_blob(&manifest.config.digest) {
        return Err(not_found(&manifest.config.digest));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for layer in &manifest.layers {
        if !store.has_blob(&layer.digest) {
            return Err(not_found(&layer.digest));
        }
        layers.push(LayerPlan {
            blob: layer.digest.clone(),
            size: layer.size,
            media_type: Some(layer.media_type.clone()),
        });
    }
    let media_type = manifest
        .media_type
        .filter(|m| !m.is_empty())
        .or_else(|| Some(entry.media_type.clone()).filter(|m| !m.is_empty()))
        .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
    Ok(ImagePlan {
        config: manifest.config.digest,
        layers,
        manifest: Some((entry.digest.clone(), media_type)),
        tags: Vec::new(),
    })
}

/// The references an index entry names (see the module comment).
fn tags_of(entry: &Descriptor) -> Vec<Reference> {
    if let Some(name) = entry.annotations.get(ANNOTATION_IMAGE_NAME) {
        if let Some(r) = tagged_reference(name) {
            return vec![r];
        }
    }
    match entry.annotations.get(ANNOTATION_REF_NAME) {
        Some(name) if name.contains(['/', ':']) => tagged_reference(name).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn tagged_reference(name: &str) -> Option<Reference> {
    let r = Reference::parse_normalized(name).ok()?.with_default_tag();
    r.tag.is_some().then_some(r)
}

fn read(store: &ImageStore, digest: &Digest) -> Result<Vec<u8>, ArchiveError> {
    if !store.has_blob(digest) {
        return Err(not_found(digest));
    }
    Ok(store.read_blob(digest)?)
}

/// containerd's words for a blob an index names but the archive lacks.
fn not_found(digest: &Digest) -> ArchiveError {
    ArchiveError::Invalid(format!("content digest {digest}: not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(json: &str) -> Descriptor {
        serde_json::from_str(json).unwrap()
    }

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn bare_tag_ref_names_give_no_tag() {
        let d = descriptor(&format!(
            r#"{{"mediaType":"{}","digest":"{D}","size":1,
                "annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}"#,
            media::OCI_MANIFEST
        ));
        assert!(tags_of(&d).is_empty());
    }

    #[test]
    fn attestations_are_skipped() {
        let d = descriptor(&format!(
            r#"{{"mediaType":"{}","digest":"{D}","platform":{{"os":"unknown","architecture":"unknown"}}}}"#,
            media::OCI_MANIFEST
        ));
        assert!(is_attestation(&d));
        let d = descriptor(&format!(
            r#"{{"mediaType":"{}","digest":"{D}","platform":{{"os":"linux","architecture":"amd64"}}}}"#,
            media::OCI_MANIFEST
        ));
        assert!(!is_attestation(&d));
        assert!(is_index(media::DOCKER_LIST));
    }

    #[test]
    fn manifests_parse_oci_and_docker_shapes() {
        let m: Manifest = serde_json::from_str(&format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","digest":"{D}","size":2}},
                "layers":[{{"mediaType":"{}","digest":"{D}","size":3}}]}}"#,
            media::OCI_LAYER
        ))
        .unwrap();
        assert_eq!(m.media_type, None);
        assert_eq!(m.layers[0].size, 3);
    }
}
