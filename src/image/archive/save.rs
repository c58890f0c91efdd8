//! `save`: the Docker 25+ `docker save` tarball, which is an OCI image layout and a
//! docker-archive at once: `blobs/sha256/<hex>` for uncompressed layers (so a layer's digest
//! is its diff ID), configs and manifests; `index.json`, `oci-layout`, `manifest.json` and
//! `repositories`.
//!
//! The output is deterministic: the same store content gives the same bytes (entries sorted
//! by path, mtime 0, owner 0:0, fixed modes), and a layer shared by several images is
//! written once. Layers are streamed from the store, never held in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use serde::Serialize;

use crate::image::digest::{Digest, DigestingReader};
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, ImageStore, LayerRecord};
use crate::image::unpack::{detect_compression, Compression};

use super::{media, ArchiveError};

/// What one tar entry holds.
enum Source {
    Dir,
    Bytes(Vec<u8>),
    /// A layer, written uncompressed from its stored blob.
    Layer(LayerRecord),
}

#[derive(Serialize)]
struct ManifestItem {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// An OCI descriptor, fields in the image-spec's order.
#[derive(Serialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct OciManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Serialize)]
struct OciIndex {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'static str,
    manifests: Vec<Descriptor>,
}

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion": "1.0.0"}"#;

pub(super) fn save(
    store: &ImageStore,
    names: &[String],
    out: impl Write,
) -> Result<(), ArchiveError> {
    let selected = select_images(store, names)?;
    let mut entries: BTreeMap<String, Source> = BTreeMap::new();
    entries.insert("blobs".into(), Source::Dir);
    entries.insert("blobs/sha256".into(), Source::Dir);
    let mut items = Vec::new();
    let mut index = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (image, tags) in &selected {
        let config = store.read_blob(&image.id)?;
        entries.insert(blob_path(&image.id), Source::Bytes(config.clone()));
        for layer in &image.layers {
            entries.insert(blob_path(&layer.diff_id), Source::Layer(layer.clone()));
        }
        let (manifest_digest, manifest, media_type) =
            manifest_for(store, image, config.len() as u64)?;
        let size = manifest.len() as u64;
        index.extend(index_entries(&manifest_digest, &media_type, size, tags));
        entries.insert(blob_path(&manifest_digest), Source::Bytes(manifest));
        if let Some(top) = image.layers.last() {
            for tag in tags {
                repositories.entry(tag.familiar_name()).or_default().insert(
                    tag.tag.clone().unwrap_or_default(),
                    top.diff_id.hex().to_string(),
                );
            }
        }
        items.push(ManifestItem {
            config: blob_path(&image.id),
            repo_tags: (!tags.is_empty()).then(|| tags.iter().map(Reference::familiar).collect()),
            layers: image.layers.iter().map(|l| blob_path(&l.diff_id)).collect(),
        });
    }
    let index = OciIndex {
        schema_version: 2,
        media_type: media::OCI_INDEX,
        manifests: index,
    };
    entries.insert("index.json".into(), Source::Bytes(to_json(&index, false)?));
    entries.insert(
        "manifest.json".into(),
        Source::Bytes(to_json(&items, true)?),
    );
    entries.insert("oci-layout".into(), Source::Bytes(OCI_LAYOUT.to_vec()));
    if !repositories.is_empty() {
        entries.insert(
            "repositories".into(),
            Source::Bytes(to_json(&repositories, true)?),
        );
    }
    write_tar(store, &entries, out)
}

/// The images `names` pick, each with the tags it is saved under, sorted by ID.
/// As `docker save`: `name` alone means every tag of that repository, `name:tag` that tag,
/// an ID or a digest reference the image without a tag.
fn select_images(
    store: &ImageStore,
    names: &[String],
) -> Result<Vec<(ImageRecord, Vec<Reference>)>, ArchiveError> {
    let mut chosen: BTreeMap<Digest, (ImageRecord, BTreeSet<Reference>)> = BTreeMap::new();
    for name in names {
        for (image, tag) in images_named(store, name)? {
            let slot = chosen
                .entry(image.id.clone())
                .or_insert_with(|| (image, BTreeSet::new()));
            slot.1.extend(tag);
        }
    }
    Ok(chosen
        .into_values()
        .map(|(image, tags)| (image, tags.into_iter().collect()))
        .collect())
}

fn images_named(
    store: &ImageStore,
    name: &str,
) -> Result<Vec<(ImageRecord, Option<Reference>)>, ArchiveError> {
    let by_id = || -> Result<_, ArchiveError> { Ok(vec![(store.resolve(name)?, None)]) };
    let Ok(reference) = Reference::parse_normalized(name) else {
        return by_id();
    };
    if reference.familiar_name() == "sha256" {
        return by_id();
    }
    if reference.tag.is_some() {
        let image = store.resolve(&reference.to_string())?;
        return Ok(vec![(image, Some(reference))]);
    }
    if reference.digest.is_some() {
        return Ok(vec![(store.resolve(&reference.to_string())?, None)]);
    }
    let mut found = Vec::new();
    for image in store.list()? {
        for tag in store.tags_of(&image.id)? {
            if tag.name() == reference.name() && tag.tag.is_some() {
                found.push((image.clone(), Some(tag)));
            }
        }
    }
    if found.is_empty() {
        return by_id();
    }
    Ok(found)
}

/// The manifest to write: the stored one when its layers are exactly the uncompressed
/// blobs we write (so a loaded OCI layout saves with the same manifest digest), otherwise a
/// new OCI manifest over the uncompressed layers.
fn manifest_for(
    store: &ImageStore,
    image: &ImageRecord,
    config_size: u64,
) -> Result<(Digest, Vec<u8>, String), ArchiveError> {
    if let Some(stored) = &image.manifest {
        if image.layers.iter().all(|l| l.blob == l.diff_id) && store.has_blob(stored) {
            let media_type = image
                .manifest_media_type
                .clone()
                .unwrap_or_else(|| media::OCI_MANIFEST.to_string());
            return Ok((stored.clone(), store.read_blob(stored)?, media_type));
        }
    }
    let manifest = OciManifest {
        schema_version: 2,
        media_type: media::OCI_MANIFEST,
        config: Descriptor {
            media_type: media::OCI_CONFIG.into(),
            digest: image.id.clone(),
            size: config_size,
            annotations: BTreeMap::new(),
        },
        layers: image
            .layers
            .iter()
            .map(|l| Descriptor {
                media_type: media::OCI_LAYER.into(),
                digest: l.diff_id.clone(),
                size: l.size,
                annotations: BTreeMap::new(),
            })
            .collect(),
    };
    let bytes = to_json(&manifest, false)?;
    Ok((
        Digest::of_bytes(&bytes),
        bytes,
        media::OCI_MANIFEST.to_string(),
    ))
}

/// One index entry per tag (as Docker writes them), or one without annotations.
fn index_entries(
    manifest: &Digest,
    media_type: &str,
    size: u64,
    tags: &[Reference],
) -> Vec<Descriptor> {
    let entry = |annotations| Descriptor {
        media_type: media_type.to_string(),
        digest: manifest.clone(),
        size,
        annotations,
    };
    if tags.is_empty() {
        return vec![entry(BTreeMap::new())];
    }
    tags.iter()
        .map(|tag| {
            entry(BTreeMap::from([
                ("io.containerd.image.name".to_string(), tag.to_string()),
                (
                    "org.opencontainers.image.ref.name".to_string(),
                    tag.tag.clone().unwrap_or_default(),
                ),
            ]))
        })
        .collect()
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// JSON as Go writes it: `json.Encoder` adds a newline, `json.Marshal` does not.
fn to_json(value: &impl Serialize, newline: bool) -> Result<Vec<u8>, ArchiveError> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| ArchiveError::Invalid(e.to_string()))?;
    if newline {
        bytes.push(b'\n');
    }
    Ok(bytes)
}

fn write_tar(
    store: &ImageStore,
    entries: &BTreeMap<String, Source>,
    out: impl Write,
) -> Result<(), ArchiveError> {
    let mut tar = tar::Builder::new(out);
    for (path, source) in entries {
        match source {
            Source::Dir => {
                let header = header(&format!("{path}/"), tar::EntryType::Directory, 0o755, 0)?;
                tar.append(&header, io::empty())?;
            }
            Source::Bytes(bytes) => {
                let header = header(path, tar::EntryType::Regular, 0o644, bytes.len() as u64)?;
                tar.append(&header, bytes.as_slice())?;
            }
            Source::Layer(layer) => append_layer(store, &mut tar, path, layer)?,
        }
    }
    tar.into_inner()?.flush()?;
    Ok(())
}

/// Streams one layer uncompressed, checking that what we wrote is its diff ID.
fn append_layer(
    store: &ImageStore,
    tar: &mut tar::Builder<impl Write>,
    path: &str,
    layer: &LayerRecord,
) -> Result<(), ArchiveError> {
    let header = header(path, tar::EntryType::Regular, 0o644, layer.size)?;
    let mut reader = DigestingReader::new(uncompressed(store, &layer.blob)?.take(layer.size));
    tar.append(&header, &mut reader)?;
    let (digest, written) = reader.finish();
    if digest != layer.diff_id || written != layer.size {
        return Err(ArchiveError::Invalid(format!(
            "layer {} in the store does not match its diff ID (got {digest}, {written} bytes)",
            layer.diff_id
        )));
    }
    Ok(())
}

fn uncompressed(store: &ImageStore, blob: &Digest) -> Result<Box<dyn Read>, ArchiveError> {
    let mut head = Vec::with_capacity(8);
    store.open_blob(blob)?.take(8).read_to_end(&mut head)?;
    let file = io::BufReader::new(store.open_blob(blob)?);
    Ok(match detect_compression(&head) {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(file)?),
    })
}

/// A header that depends on nothing but the path and size: owner 0:0, mtime 0.
fn header(path: &str, kind: tar::EntryType, mode: u32, size: u64) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_cksum();
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untagged_images_get_one_plain_index_entry() {
        let d = Digest::of_bytes(b"m");
        let entries = index_entries(&d, media::OCI_MANIFEST, 7, &[]);
        assert_eq!(entries.len(), 1);
        let json = serde_json::to_string(&entries[0]).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"mediaType":"{}","digest":"{d}","size":7}}"#,
                media::OCI_MANIFEST
            )
        );
    }

    #[test]
    fn manifest_items_keep_docker_field_names_and_null_tags() {
        let item = ManifestItem {
            config: "blobs/sha256/aa".into(),
            repo_tags: None,
            layers: vec!["blobs/sha256/bb".into()],
        };
        let json = String::from_utf8(to_json(&[item], true).unwrap()).unwrap();
        assert_eq!(
            json,
            "[{\"Config\":\"blobs/sha256/aa\",\"RepoTags\":null,\"Layers\":[\"blobs/sha256/bb\"]}]\n"
        );
    }

    #[test]
    fn headers_do_not_depend_on_the_clock_or_owner() {
        let h = header("blobs/sha256/x", tar::EntryType::Regular, 0o644, 5).unwrap();
        assert_eq!(h.mtime().unwrap(), 0);
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(
            h.as_bytes(),
            header("blobs/sha256/x", tar::EntryType::Regular, 0o644, 5)
                .unwrap()
                .as_bytes()
        );
    }
}
