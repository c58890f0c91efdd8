//! `import`: a root filesystem tarball becomes a one-layer image, as `docker import`.
//!
//! The layer is stored uncompressed (as Docker's layer store keeps it), so its blob digest is
//! its diff ID and `save` can write it as it is. The config is new: host platform, `created`
//! now, one history entry, and the run config the `--change` lines describe. Nothing here
//! parses those lines (`changes`) or reads archives of images (`load`).

use std::io::{self, Read};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;

use crate::image::digest::Digest;
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, ImageStore, LayerRecord};

use super::changes::{apply_changes, RunConfig};
use super::{media, spool, ArchiveError};
use crate::image::platform::Platform;

/// The image config `import` writes (fields sorted as serde_json writes a map, which is
/// all a digest needs: one fixed order).
#[derive(Serialize)]
struct ImageConfig {
    architecture: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    comment: String,
    config: RunConfig,
    created: String,
    history: Vec<History>,
    os: String,
    rootfs: RootFs,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

#[derive(Serialize)]
struct History {
    created: String,
    created_by: String,
    comment: String,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<Digest>,
}

pub(super) fn import(
    store: &ImageStore,
    tar: impl Read,
    reference: Option<&Reference>,
    changes: &[String],
    message: &str,
) -> Result<ImageRecord, ArchiveError> {
    // Changes first: a typo must not cost a whole upload's worth of unpacking.
    let mut run_config = RunConfig::default();
    apply_changes(&mut run_config, changes).map_err(ArchiveError::Invalid)?;
    let layer = store_layer(store, tar)?;
    let comment = if message.is_empty() {
        "Imported from -".to_string()
    } else {
        message.to_string()
    };
    let created = now_rfc3339();
    let (os, architecture, variant) = host_platform();
    let config = ImageConfig {
        architecture,
        comment: message.to_string(),
        config: run_config,
        created: created.clone(),
        history: vec![History {
            created: created.clone(),
            created_by: String::new(),
            comment,
        }],
        os,
        rootfs: RootFs {
            kind: "layers",
            diff_ids: vec![layer.diff_id.clone()],
        },
        variant,
    };
    let bytes = serde_json::to_vec(&config).map_err(|e| ArchiveError::Invalid(e.to_string()))?;
    let id = store.write_blob(&bytes)?;
    let image = ImageRecord {
        id,
        manifest: None,
        manifest_media_type: None,
        repo_digests: Vec::new(),
        size: layer.size,
        layers: vec![layer],
        added: created,
    };
    let tags: Vec<Reference> = reference.cloned().into_iter().collect();
    store.put_image(&image, &tags)?;
    Ok(image)
}

/// Stores the decompressed tarball as a blob and unpacks it.
fn store_layer(store: &ImageStore, tar: impl Read) -> Result<LayerRecord, ArchiveError> {
    let mut input = spool::decompressed(tar)?;
    let mut ingest = store.ingest()?;
    io::copy(&mut input, &mut ingest)?;
    let blob_size = ingest.written();
    let blob = ingest.commit(None)?;
    let (diff_id, chain_id, size) = store.unpack_layer(&blob, None)?;
    if diff_id != blob {
        return Err(ArchiveError::Invalid(format!(
            "layer {blob} unpacked with diff ID {diff_id}"
        )));
    }
    Ok(LayerRecord {
        blob,
        media_type: media::OCI_LAYER.to_string(),
        blob_size,
        diff_id,
        chain_id,
        size,
    })
}

/// Now, as Go's RFC 3339 with nanoseconds (trailing fraction zeros dropped).
pub(super) fn now_rfc3339() -> String {
    let text = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    trim_fraction(&text)
}

fn trim_fraction(text: &str) -> String {
    let Some((main, fraction)) = text.strip_suffix('Z').and_then(|t| t.split_once('.')) else {
        return text.to_string();
    };
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{main}Z")
    } else {
        format!("{main}.{fraction}Z")
    }
}

/// The host's OCI platform (os, architecture, variant), with Go's names.
pub(super) fn host_platform() -> (String, String, Option<String>) {
    let host = Platform::host();
    (host.os, host.architecture, host.variant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_lose_trailing_zeros_like_go() {
        assert_eq!(
            trim_fraction("2024-01-02T03:04:05.120000000Z"),
            "2024-01-02T03:04:05.12Z"
        );
        assert_eq!(
            trim_fraction("2024-01-02T03:04:05.000000000Z"),
            "2024-01-02T03:04:05Z"
        );
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn host_platform_uses_go_names() {
        let (os, arch, _) = host_platform();
        assert_eq!(os, "linux");
        assert_ne!(arch, "x86_64");
        assert_ne!(arch, "aarch64");
    }
}
