//! The `docker save` format: `manifest.json`, a list of `{Config, RepoTags, Layers}` whose
//! paths point into the archive (`<id>.json` and `<id>/layer.tar` before Docker 25,
//! `blobs/sha256/<hex>` since), plus the legacy `repositories` file we do not need.
//!
//! It only reads the spooled metadata and turns it into image plans; it unpacks nothing.
//! Docker 25+ archives are also OCI layouts: when the index names a manifest for the same
//! config and layers, that manifest is kept so a later push can reuse its digests.

use serde::Deserialize;

use crate::image::reference::Reference;
use crate::image::store::ImageStore;

use super::load::{ImagePlan, LayerPlan};
use super::spool::Spooled;
use super::{oci_layout, ArchiveError};

/// One entry of `manifest.json`, with Docker's field names.
#[derive(Debug, Deserialize)]
struct ManifestItem {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The images `manifest.json` lists.
pub(super) fn plans(store: &ImageStore, spooled: &Spooled) -> Result<Vec<ImagePlan>, ArchiveError> {
    let bytes = spooled.meta("manifest.json").unwrap_or_default();
    let items: Vec<ManifestItem> = serde_json::from_slice(bytes)
        .map_err(|e| ArchiveError::Invalid(format!("invalid manifest.json: {e}")))?;
    // A broken index beside a good manifest.json is ignored: Docker reads only the latter.
    let oci = oci_layout::plans(store, spooled).unwrap_or_default();
    items
        .iter()
        .map(|item| plan_item(spooled, item, &oci))
        .collect()
}

fn plan_item(
    spooled: &Spooled,
    item: &ManifestItem,
    oci: &[ImagePlan],
) -> Result<ImagePlan, ArchiveError> {
    let (config, _) = spooled.require_blob(&item.config)?;
    let mut layers = Vec::with_capacity(item.layers.len());
    for path in &item.layers {
        let (blob, size) = spooled.require_blob(path)?;
        layers.push(LayerPlan {
            blob: blob.clone(),
            size: *size,
            media_type: None,
        });
    }
    let tags = parse_repo_tags(item.repo_tags.as_deref().unwrap_or_default())?;
    let manifest = oci
        .iter()
        .find(|p| &p.config == config && same_blobs(&p.layers, &layers))
        .and_then(|p| p.manifest.clone());
    // With the manifest come its media types, so that it and the record agree.
    if let Some(p) = oci
        .iter()
        .find(|p| manifest.is_some() && p.manifest == manifest)
    {
        layers = p.layers.clone();
    }
    Ok(ImagePlan {
        config: config.clone(),
        layers,
        manifest,
        tags,
    })
}

fn same_blobs(a: &[LayerPlan], b: &[LayerPlan]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.blob == y.blob)
}

/// `RepoTags` entries must be `name:tag` references (Docker: `invalid tag "..."`).
fn parse_repo_tags(tags: &[String]) -> Result<Vec<Reference>, ArchiveError> {
    let mut out = Vec::with_capacity(tags.len());
    for tag in tags {
        let parsed = Reference::parse_normalized(tag)
            .map_err(|e| ArchiveError::Invalid(format!("invalid tag {tag:?}: {e}")))?;
        if parsed.tag.is_none() {
            return Err(ArchiveError::Invalid(format!("invalid tag {tag:?}")));
        }
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_items_read_docker_field_names() {
        let json = r#"[{"Config":"blobs/sha256/aa","RepoTags":null,"Layers":["a/layer.tar"],
                        "LayerSources":{}}]"#;
        let items: Vec<ManifestItem> = serde_json::from_str(json).unwrap();
        assert_eq!(items[0].config, "blobs/sha256/aa");
        assert_eq!(items[0].repo_tags, None);
        assert_eq!(items[0].layers, ["a/layer.tar"]);
    }
}
