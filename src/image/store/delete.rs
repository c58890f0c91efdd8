//! `docker rmi` semantics (daemon/images `ImageDelete`): a reference is untagged, and the
//! image goes with its last reference; an ID deletes the image, which needs `force` when it
//! has references in several repositories. Removing an image then removes the blobs and
//! layers no other image uses.
//!
//! Containers: the `UsageCheck` installed with `set_usage_check` is asked before anything
//! is removed; a running container's image cannot be deleted, a stopped one's only by force.

use redb::{ReadableTable, Table};

use super::gc::Pinned;
use super::meta::{db_err, encode, get_row, IMAGES, REFS};
use super::resolve::{tags_in, Found};
use super::{ContainerUse, DeleteReport, ImageRecord, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::reference::Reference;

/// What the transaction decided.
enum Outcome {
    /// References removed, the image stays.
    Untagged,
    /// The image record is gone; its objects may be collected.
    Deleted(ImageRecord),
}

impl ImageStore {
    /// Removes a reference or the image, like `docker rmi`: a reference when `name` is one and
    /// other references remain (or `force` is false and ...), the image when its last
    /// reference goes or it is named by ID (`force` needed when it has several tags).
    pub fn delete(&self, name: &str, force: bool) -> Result<DeleteReport, StoreError> {
        let found = self.find(name)?;
        let mut report = DeleteReport::default();
        let txn = self.db.begin_write().map_err(db_err)?;
        let outcome = {
            let mut images = txn.open_table(IMAGES).map_err(db_err)?;
            let mut refs = txn.open_table(REFS).map_err(db_err)?;
            let id = match &found {
                Found::Id(image) | Found::Reference(image) => image.id.clone(),
            };
            // Read again inside the transaction: a concurrent change wins over `find`.
            let Some(image) = get_row::<ImageRecord, _>(&images, id.as_str())? else {
                return Err(StoreError::NotFound(name.to_string()));
            };
            let mut tx = DeleteTxn {
                store: self,
                refs: &mut refs,
                image,
                report: &mut report,
            };
            let outcome = if is_id_prefix(&id, name) {
                tx.delete_by_id(force)?
            } else {
                tx.untag(name, force)?
            };
            match &outcome {
                Outcome::Untagged => {
                    let record = encode(&tx.image)?;
                    images
                        .insert(id.as_str(), record.as_str())
                        .map_err(db_err)?;
                }
                Outcome::Deleted(_) => {
                    images.remove(id.as_str()).map_err(db_err)?;
                }
            }
            outcome
        };
        txn.commit().map_err(db_err)?;
        if let Outcome::Deleted(image) = outcome {
            report.deleted.push(image.id.clone());
            let (_, layers) = self.collect_objects(objects_top_first(&image))?;
            report.deleted.extend(layers);
        }
        Ok(report)
    }
}

/// One `delete` inside its write transaction.
struct DeleteTxn<'a, 't> {
    store: &'a ImageStore,
    refs: &'a mut Table<'t, &'static str, &'static str>,
    image: ImageRecord,
    report: &'a mut DeleteReport,
}

impl DeleteTxn<'_, '_> {
    /// Named by reference: untag it (and the repository's digests when it was its last tag);
    /// delete the image when nothing refers to it any more.
    fn untag(&mut self, name: &str, force: bool) -> Result<Outcome, StoreError> {
        let id = self.image.id.clone();
        if !force && is_single_reference(&self.references()?) {
            if let Some(user) = self.store.container_using(&id) {
                return Err(StoreError::Conflict(format!(
                    "conflict: unable to remove repository reference \"{name}\" (must force) - \
                     container {} is using its referenced image {}",
                    short_container(&user),
                    id.short()
                )));
            }
        }
        let reference = Reference::parse_normalized(name)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .with_default_tag();
        self.remove_reference(&reference)?;
        let mut remaining = self.references()?;
        if reference.digest.is_none() {
            let same_name = |r: &Reference| r.name() == reference.name();
            if !remaining.iter().any(|r| r.digest.is_none() && same_name(r)) {
                for r in remaining
                    .iter()
                    .filter(|r| r.digest.is_some() && same_name(r))
                {
                    self.remove_reference(r)?;
                }
                remaining.retain(|r| !(r.digest.is_some() && same_name(r)));
            }
        }
        if !remaining.is_empty() {
            return Ok(Outcome::Untagged);
        }
        // Docker keeps a now-dangling image quietly when a container still uses it.
        let in_use = self
            .store
            .container_using(&id)
            .is_some_and(|user| user.running || !force);
        if in_use {
            return Ok(Outcome::Untagged);
        }
        Ok(Outcome::Deleted(self.image.clone()))
    }

    /// Named by ID: the image goes with all its references; several repositories or a
    /// stopped container need `force`, a running container cannot be forced.
    fn delete_by_id(&mut self, force: bool) -> Result<Outcome, StoreError> {
        let id = self.image.id.clone();
        let references = self.references()?;
        if let Some(user) = self.store.container_using(&id) {
            if user.running {
                return Err(conflict(
                    &id,
                    true,
                    &format!(
                        "image is being used by running container {}",
                        short_container(&user)
                    ),
                ));
            }
        }
        if !force && !is_single_reference(&references) && !references.is_empty() {
            return Err(conflict(
                &id,
                false,
                "image is referenced in multiple repositories",
            ));
        }
        if let Some(user) = self.store.container_using(&id) {
            if !force {
                return Err(conflict(
                    &id,
                    false,
                    &format!(
                        "image is being used by stopped container {}",
                        short_container(&user)
                    ),
                ));
            }
        }
        for r in &references {
            self.remove_reference(r)?;
        }
        Ok(Outcome::Deleted(self.image.clone()))
    }

    /// Tags and repo digests of the image, sorted by full form as Docker's reference store.
    fn references(&self) -> Result<Vec<Reference>, StoreError> {
        let mut all = tags_in(&*self.refs, &self.image.id)?;
        for s in &self.image.repo_digests {
            let r = Reference::parse_normalized(s)
                .map_err(|e| StoreError::Db(format!("corrupt repo digest {s}: {e}")))?;
            all.push(r);
        }
        all.sort_by_key(|r| r.to_string());
        Ok(all)
    }

    fn remove_reference(&mut self, r: &Reference) -> Result<(), StoreError> {
        match &r.digest {
            Some(d) => {
                let full = r.with_digest(d.clone()).to_string();
                self.image.repo_digests.retain(|s| *s != full);
            }
            None => {
                let key = r.to_string();
                let points_here = self
                    .refs
                    .get(key.as_str())
                    .map_err(db_err)?
                    .is_some_and(|v| v.value() == self.image.id.as_str());
                if points_here {
                    self.refs.remove(key.as_str()).map_err(db_err)?;
                }
            }
        }
        self.report.untagged.push(r.familiar());
        Ok(())
    }
}

/// Docker's `isImageIDPrefix`: `name` is a prefix of the ID, with or without `sha256:`.
fn is_id_prefix(id: &Digest, name: &str) -> bool {
    id.as_str().starts_with(name) || id.hex().starts_with(name)
}

/// Docker's `isSingleReference`: one reference, or one tag and digests of the same
/// repository only.
fn is_single_reference(refs: &[Reference]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let tags: Vec<&Reference> = refs.iter().filter(|r| r.digest.is_none()).collect();
    if tags.len() > 1 {
        return false;
    }
    let single = tags.first().copied().unwrap_or(&refs[0]);
    let mut digest_names: Vec<String> = refs
        .iter()
        .filter(|r| r.digest.is_some())
        .map(Reference::name)
        .collect();
    digest_names.sort();
    digest_names.dedup();
    digest_names == [single.name()]
}

fn conflict(id: &Digest, hard: bool, message: &str) -> StoreError {
    let force = if hard {
        "cannot be forced"
    } else {
        "must be forced"
    };
    StoreError::Conflict(format!(
        "conflict: unable to delete {} ({force}) - {message}",
        id.short()
    ))
}

fn short_container(user: &ContainerUse) -> &str {
    user.container_id.get(..12).unwrap_or(&user.container_id)
}

/// A deleted image's objects: layers top first (the order Docker reports them), then blobs.
fn objects_top_first(image: &ImageRecord) -> Vec<Pinned> {
    let mut objects: Vec<Pinned> = image
        .layers
        .iter()
        .rev()
        .map(|l| Pinned::Layer(l.chain_id.clone()))
        .collect();
    objects.push(Pinned::Blob(image.id.clone()));
    objects.extend(image.manifest.iter().cloned().map(Pinned::Blob));
    objects.extend(image.layers.iter().map(|l| Pinned::Blob(l.blob.clone())));
    objects
}
