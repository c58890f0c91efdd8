//! Recording images and their tags, and finding an image from what a user typed, in
//! Docker's lookup order (daemon/images `GetImage`):
//! a bare 64-hex ID or `sha256:<hex>` is an ID; otherwise the string is a reference
//! (`name@digest` against repo digests, else `name[:tag]` with `latest` by default); failing
//! that, a unique prefix of an image ID (`sha256:` optional). An ambiguous prefix finds nothing.

use std::collections::BTreeSet;

use redb::{ReadOnlyTable, ReadableTable};

use super::gc::{objects_of, Pinned};
use super::layers::chain_ids;
use super::meta::{all_rows, db_err, decode, encode, get_row, IMAGES, REFS};
use super::{ImageRecord, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::reference::{is_hex64, Reference};

/// What a name given to `resolve` or `delete` turned out to be.
pub(super) enum Found {
    /// Named by (a prefix of) its ID.
    Id(ImageRecord),
    /// Named by a reference (tag or repo digest).
    Reference(ImageRecord),
}

impl Found {
    pub(super) fn into_image(self) -> ImageRecord {
        match self {
            Found::Id(image) | Found::Reference(image) => image,
        }
    }
}

impl ImageStore {
    /// Records `image` and points every reference in `tags` at it, in one transaction.
    /// A reference that pointed elsewhere is moved (the old image may become dangling).
    /// A reference with a digest becomes a repo digest of the image. Every blob and layer
    /// the record names must already be stored (committed, unpacked). Recording an image
    /// again keeps its `added` time and the union of its repo digests.
    pub fn put_image(&self, image: &ImageRecord, tags: &[Reference]) -> Result<(), StoreError> {
        check_chain_ids(image)?;
        let objects = objects_of(image);
        // Held until the commit, so gc cannot remove what was just checked.
        let _guard = self.shared.writing();
        self.check_stored(image, &objects)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut images = txn.open_table(IMAGES).map_err(db_err)?;
            let old: Option<ImageRecord> = get_row(&images, image.id.as_str())?;
            let mut record = merge_records(old, image)?;
            let mut refs = txn.open_table(REFS).map_err(db_err)?;
            for tag in tags {
                match &tag.digest {
                    Some(d) => record
                        .repo_digests
                        .push(tag.with_digest(d.clone()).to_string()),
                    None => {
                        let key = tag.clone().with_default_tag().to_string();
                        refs.insert(key.as_str(), image.id.as_str())
                            .map_err(db_err)?;
                    }
                }
            }
            record.repo_digests.sort();
            record.repo_digests.dedup();
            images
                .insert(image.id.as_str(), encode(&record)?.as_str())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        self.shared.unpin_all(&objects);
        Ok(())
    }

    fn check_stored(
        &self,
        image: &ImageRecord,
        objects: &BTreeSet<Pinned>,
    ) -> Result<(), StoreError> {
        for object in objects {
            let (present, what) = match object {
                Pinned::Blob(d) => (self.blob_path(d).is_file(), format!("blob {d}")),
                Pinned::Layer(c) => (
                    self.layer_row(c)?.is_some() && self.layer_dir(c).is_dir(),
                    format!("unpacked layer {c}"),
                ),
            };
            if !present {
                return Err(StoreError::Invalid(format!(
                    "image {}: {what} is not in the store",
                    image.id
                )));
            }
        }
        Ok(())
    }

    /// Finds an image the way Docker does: full or short ID (`sha256:` optional, unique
    /// prefix), `name:tag`, `name@digest` (a repo digest).
    pub fn resolve(&self, name_or_id: &str) -> Result<ImageRecord, StoreError> {
        self.find(name_or_id).map(Found::into_image)
    }

    pub(super) fn find(&self, name_or_id: &str) -> Result<Found, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let images = txn.open_table(IMAGES).map_err(db_err)?;
        let refs = txn.open_table(REFS).map_err(db_err)?;
        let as_id = if is_hex64(name_or_id) {
            Digest::from_hex(name_or_id).ok()
        } else {
            Digest::parse(name_or_id).ok()
        };
        if let Some(id) = as_id {
            return match get_row(&images, id.as_str())? {
                Some(image) => Ok(Found::Id(image)),
                None => Err(StoreError::NotFound(id.to_string())),
            };
        }
        let reference = Reference::parse_normalized(name_or_id)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .with_default_tag();
        if let Some(image) = find_by_reference(&images, &refs, &reference)? {
            return Ok(Found::Reference(image));
        }
        if let Some(image) = find_by_id_prefix(&images, name_or_id)? {
            return Ok(Found::Id(image));
        }
        Err(StoreError::NotFound(reference.familiar()))
    }

    /// The tags (normalised references with a tag) pointing at `id`, sorted.
    pub fn tags_of(&self, id: &Digest) -> Result<Vec<Reference>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let refs = txn.open_table(REFS).map_err(db_err)?;
        tags_in(&refs, id)
    }

    /// Points `reference` (`latest` when it has no tag) at the image `id`, moving it from
    /// any other image. Digest references are refused, as `docker tag` does.
    pub fn tag(&self, id: &Digest, reference: &Reference) -> Result<(), StoreError> {
        if reference.digest.is_some() {
            return Err(StoreError::Invalid(
                "refusing to create a tag with a digest reference".into(),
            ));
        }
        let key = reference.clone().with_default_tag().to_string();
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let images = txn.open_table(IMAGES).map_err(db_err)?;
            if images.get(id.as_str()).map_err(db_err)?.is_none() {
                return Err(StoreError::NotFound(id.to_string()));
            }
            let mut refs = txn.open_table(REFS).map_err(db_err)?;
            refs.insert(key.as_str(), id.as_str()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
}

/// The sorted tags of `id` in a references table (read-only or being written).
pub(super) fn tags_in<Tb>(refs: &Tb, id: &Digest) -> Result<Vec<Reference>, StoreError>
where
    Tb: ReadableTable<&'static str, &'static str>,
{
    let mut tags = Vec::new();
    for (key, value) in all_rows(refs)? {
        if value == id.as_str() {
            let r = Reference::parse_normalized(&key)
                .map_err(|e| StoreError::Db(format!("corrupt reference {key}: {e}")))?;
            tags.push(r);
        }
    }
    tags.sort_by_key(|r| r.to_string());
    Ok(tags)
}

fn find_by_reference(
    images: &ReadOnlyTable<&'static str, &'static str>,
    refs: &ReadOnlyTable<&'static str, &'static str>,
    reference: &Reference,
) -> Result<Option<ImageRecord>, StoreError> {
    if let Some(digest) = &reference.digest {
        // A tag beside a digest is ignored: the digest says which image.
        let wanted = reference.with_digest(digest.clone()).to_string();
        for (key, value) in all_rows(images)? {
            let image: ImageRecord = decode(&key, &value)?;
            if image.repo_digests.contains(&wanted) {
                return Ok(Some(image));
            }
        }
        return Ok(None);
    }
    let Some(id) = refs.get(reference.to_string().as_str()).map_err(db_err)? else {
        return Ok(None);
    };
    get_row(images, id.value())
}

/// Docker's truncated-ID search: `abc` or `sha256:abc`, unique among image IDs.
fn find_by_id_prefix(
    images: &ReadOnlyTable<&'static str, &'static str>,
    name: &str,
) -> Result<Option<ImageRecord>, StoreError> {
    let prefix = name.strip_prefix("sha256:").unwrap_or(name);
    let is_hex = prefix
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if prefix.is_empty() || !is_hex {
        return Ok(None);
    }
    let start = format!("sha256:{prefix}");
    let mut matches = Vec::new();
    for row in images.range(start.as_str()..).map_err(db_err)? {
        let (key, value) = row.map_err(db_err)?;
        if !key.value().starts_with(&start) || matches.len() == 2 {
            break;
        }
        matches.push((key.value().to_string(), value.value().to_string()));
    }
    match matches.as_slice() {
        [(key, value)] => decode(key, value).map(Some),
        _ => Ok(None),
    }
}

fn check_chain_ids(image: &ImageRecord) -> Result<(), StoreError> {
    let diff_ids: Vec<Digest> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    let expected = chain_ids(&diff_ids);
    for (layer, chain) in image.layers.iter().zip(&expected) {
        if layer.chain_id != *chain {
            return Err(StoreError::Invalid(format!(
                "image {}: layer {} has chain ID {}, its diff IDs give {chain}",
                image.id, layer.diff_id, layer.chain_id
            )));
        }
    }
    Ok(())
}

/// The record to store when `new` is recorded over `old`.
fn merge_records(old: Option<ImageRecord>, new: &ImageRecord) -> Result<ImageRecord, StoreError> {
    let mut record = new.clone();
    record.repo_digests = new
        .repo_digests
        .iter()
        .map(|s| normalise_repo_digest(s))
        .collect::<Result<_, _>>()?;
    if let Some(old) = old {
        record.added = old.added;
        record.repo_digests.extend(old.repo_digests);
        if record.manifest.is_none() {
            record.manifest = old.manifest;
            record.manifest_media_type = old.manifest_media_type;
        }
    }
    Ok(record)
}

/// `busybox@sha256:..` -> `docker.io/library/busybox@sha256:..`.
fn normalise_repo_digest(s: &str) -> Result<String, StoreError> {
    let r = Reference::parse_normalized(s)
        .map_err(|e| StoreError::Invalid(format!("repo digest {s}: {e}")))?;
    match &r.digest {
        Some(d) => Ok(r.with_digest(d.clone()).to_string()),
        None => Err(StoreError::Invalid(format!(
            "repo digest {s} has no digest"
        ))),
    }
}
