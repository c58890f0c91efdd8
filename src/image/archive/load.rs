//! `load`: spool the tarball, let the format module say which images it holds, then unpack
//! every layer and check it against its config before recording anything.
//!
//! All images are unpacked and checked first and recorded afterwards, so an archive with one
//! bad image records none (no half load is ever listed).

use std::io::Read;

use serde::Deserialize;

use crate::image::digest::Digest;
use crate::image::progress::{ProgressMessage, ProgressSink};
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, ImageStore, LayerRecord};
use crate::image::unpack::{detect_compression, Compression};

use super::spool::{self, Spooled};
use super::{docker_archive, media, oci_layout, ArchiveError, LoadedImage};

/// One image an archive describes, before anything is unpacked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ImagePlan {
    /// The config blob (already in the store); its digest is the image ID.
    pub config: Digest,
    pub layers: Vec<LayerPlan>,
    /// The manifest blob and its media type, when the archive had one.
    pub manifest: Option<(Digest, String)>,
    pub tags: Vec<Reference>,
}

/// One layer blob of an image plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LayerPlan {
    pub blob: Digest,
    pub size: u64,
    /// From the manifest; `None` in a docker-archive (decided by the blob's magic bytes).
    pub media_type: Option<String>,
}

/// The part of an image config that loading checks.
#[derive(Deserialize)]
struct ConfigRootfs {
    rootfs: RootFs,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

pub(super) fn load(
    store: &ImageStore,
    tar: impl Read,
    progress: &ProgressSink,
) -> Result<Vec<LoadedImage>, ArchiveError> {
    let input = spool::decompressed(tar)?;
    let spooled = spool::spool(store, input)?;
    let plans = merge_plans(plans_of(store, &spooled)?);
    let mut prepared = Vec::with_capacity(plans.len());
    for plan in plans {
        let image = unpack_image(store, &plan)?;
        prepared.push(LoadedImage {
            image,
            tags: plan.tags,
        });
    }
    for loaded in &prepared {
        record_image(store, loaded, progress)?;
    }
    Ok(prepared)
}

/// Docker reads manifest.json when there is one (Docker 25+ archives have both); an OCI
/// layout is read through its index.
fn plans_of(store: &ImageStore, spooled: &Spooled) -> Result<Vec<ImagePlan>, ArchiveError> {
    if spooled.meta("manifest.json").is_some() {
        docker_archive::plans(store, spooled)
    } else if spooled.meta("index.json").is_some() {
        oci_layout::plans(store, spooled)
    } else {
        Err(ArchiveError::Invalid(
            "open manifest.json: no such file or directory".into(),
        ))
    }
}

/// Folds plans for the same image (one index entry per tag) into one, keeping every tag.
fn merge_plans(plans: Vec<ImagePlan>) -> Vec<ImagePlan> {
    let mut merged: Vec<ImagePlan> = Vec::new();
    for plan in plans {
        match merged.iter_mut().find(|m| m.config == plan.config) {
            Some(m) => {
                for tag in plan.tags {
                    if !m.tags.contains(&tag) {
                        m.tags.push(tag);
                    }
                }
                if m.manifest.is_none() {
                    m.manifest = plan.manifest;
                    m.layers = plan.layers;
                }
            }
            None => merged.push(plan),
        }
    }
    merged
}

/// Unpacks the layer chain of one image and checks it against the config's diff IDs.
fn unpack_image(store: &ImageStore, plan: &ImagePlan) -> Result<ImageRecord, ArchiveError> {
    let config = store.read_blob(&plan.config)?;
    let parsed: ConfigRootfs = serde_json::from_slice(&config)
        .map_err(|e| ArchiveError::Invalid(format!("invalid image config {}: {e}", plan.config)))?;
    let diff_ids = parsed.rootfs.diff_ids;
    if diff_ids.len() != plan.layers.len() {
        return Err(ArchiveError::Invalid(format!(
            "invalid manifest, layers length mismatch: expected {}, got {}",
            diff_ids.len(),
            plan.layers.len()
        )));
    }
    let mut layers = Vec::with_capacity(plan.layers.len());
    let mut parent: Option<Digest> = None;
    for (i, (layer, expected)) in plan.layers.iter().zip(&diff_ids).enumerate() {
        let (diff_id, chain_id, size) = store.unpack_layer(&layer.blob, parent.as_ref())?;
        if &diff_id != expected {
            return Err(ArchiveError::Invalid(format!(
                "invalid diffID for layer {i}: expected {expected:?}, got {diff_id:?}",
                expected = expected.as_str(),
                diff_id = diff_id.as_str()
            )));
        }
        let media_type = match &layer.media_type {
            Some(m) => m.clone(),
            None => media_type_of_blob(store, &layer.blob)?,
        };
        layers.push(LayerRecord {
            blob: layer.blob.clone(),
            media_type,
            blob_size: layer.size,
            diff_id,
            chain_id: chain_id.clone(),
            size,
        });
        parent = Some(chain_id);
    }
    Ok(ImageRecord {
        id: plan.config.clone(),
        manifest: plan.manifest.as_ref().map(|m| m.0.clone()),
        manifest_media_type: plan.manifest.as_ref().map(|m| m.1.clone()),
        repo_digests: Vec::new(),
        size: layers.iter().map(|l| l.size).sum(),
        layers,
        added: super::import::now_rfc3339(),
    })
}

/// The OCI layer media type matching a blob's compression.
pub(super) fn media_type_of_blob(
    store: &ImageStore,
    blob: &Digest,
) -> Result<String, ArchiveError> {
    let mut head = Vec::with_capacity(8);
    store.open_blob(blob)?.take(8).read_to_end(&mut head)?;
    Ok(match detect_compression(&head) {
        Compression::None => media::OCI_LAYER,
        Compression::Gzip => media::OCI_LAYER_GZIP,
        Compression::Zstd => media::OCI_LAYER_ZSTD,
    }
    .to_string())
}

/// Records one image and says so as Docker does.
fn record_image(
    store: &ImageStore,
    loaded: &LoadedImage,
    progress: &ProgressSink,
) -> Result<(), ArchiveError> {
    for tag in &loaded.tags {
        if let Ok(previous) = store.resolve(&tag.to_string()) {
            if previous.id != loaded.image.id {
                progress.send(stream(format!(
                    "The image {} already exists, renaming the old one with ID {} to empty string\n",
                    tag.familiar(),
                    previous.id
                )));
            }
        }
    }
    store.put_image(&loaded.image, &loaded.tags)?;
    if loaded.tags.is_empty() {
        progress.send(stream(format!("Loaded image ID: {}\n", loaded.image.id)));
    }
    for tag in &loaded.tags {
        progress.send(stream(format!("Loaded image: {}\n", tag.familiar())));
    }
    Ok(())
}

fn stream(text: String) -> ProgressMessage {
    ProgressMessage {
        stream: Some(text),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(config: &[u8], tags: &[&str], manifest: Option<&[u8]>) -> ImagePlan {
        ImagePlan {
            config: Digest::of_bytes(config),
            layers: Vec::new(),
            manifest: manifest.map(|m| (Digest::of_bytes(m), media::OCI_MANIFEST.to_string())),
            tags: tags
                .iter()
                .map(|t| Reference {
                    domain: "docker.io".into(),
                    path: format!("library/{t}"),
                    tag: Some("latest".into()),
                    digest: None,
                })
                .collect(),
        }
    }

    #[test]
    fn plans_for_one_config_merge_their_tags_and_keep_a_manifest() {
        let merged = merge_plans(vec![
            plan(b"a", &["x"], None),
            plan(b"b", &[], None),
            plan(b"a", &["y", "x"], Some(b"m")),
        ]);
        assert_eq!(merged.len(), 2);
        let tags: Vec<_> = merged[0].tags.iter().map(|t| t.path.as_str()).collect();
        assert_eq!(tags, ["library/x", "library/y"]);
        assert_eq!(
            merged[0].manifest.as_ref().map(|m| &m.0),
            Some(&Digest::of_bytes(b"m"))
        );
    }

    #[test]
    fn stream_lines_are_stream_messages() {
        let m = stream("Loaded image: busybox:latest\n".into());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"stream":"Loaded image: busybox:latest\n"}"#);
    }
}
