//! Unpacked layers: `layers/<chain-hex>/`, one directory per layer chain, shared by every
//! image that has it and used as an overlayfs lower directory.
//!
//! A layer is unpacked into `layers/tmp-<random>`, renamed to its chain ID, then recorded
//! in the database. A directory without a record is a leftover and is never used. The tar
//! format itself is `crate::image::unpack`'s business.

use std::path::PathBuf;

use super::blobs::{random_name, remove_path};
use super::gc::Pinned;
use super::meta::LayerRow;
use super::{io_err, ImageStore, StoreError};
use crate::image::digest::Digest;
use crate::image::reference::is_hex64;
use crate::image::unpack::{self, UnpackError};

pub(super) const LAYERS_DIR: &str = "layers";
pub(super) const TMP_PREFIX: &str = "tmp-";

/// chain(L0) = diff_id(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)), as the
/// OCI image spec defines it over the digest strings.
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(parent) => Digest::of_bytes(format!("{parent} {diff_id}").as_bytes()),
    }
}

/// The chain IDs of a whole layer stack, bottom first.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chains: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = chain_id(chains.last(), diff_id);
        chains.push(next);
    }
    chains
}

impl ImageStore {
    /// The unpacked directory of a layer chain (an overlayfs lowerdir).
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.root.join(LAYERS_DIR).join(chain_id.hex())
    }

    /// True when the layer is unpacked and recorded. A `true` also pins it against `gc`
    /// for a while, like `has_blob`.
    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        let _guard = self.shared.writing();
        let present = self.is_layer_complete(chain_id).unwrap_or(false);
        if present {
            self.shared.pin(Pinned::Layer(chain_id.clone()));
        }
        present
    }

    fn is_layer_complete(&self, chain_id: &Digest) -> Result<bool, StoreError> {
        Ok(self.layer_row(chain_id)?.is_some() && self.layer_dir(chain_id).is_dir())
    }

    /// Unpacks the stored blob `blob` (gzip, zstd or plain, by magic bytes) on top of
    /// `parent` (the previous chain ID) into its chain-ID directory, unless it is already
    /// there; returns (diff_id, chain_id, uncompressed size). Uses `crate::image::unpack`.
    pub fn unpack_layer(
        &self,
        blob: &Digest,
        parent: Option<&Digest>,
    ) -> Result<(Digest, Digest, u64), StoreError> {
        self.check_layer_inputs(blob, parent)?;
        if let Some(found) = self.find_unpacked(blob, parent)? {
            return Ok(found);
        }
        let tmp = self
            .root
            .join(LAYERS_DIR)
            .join(format!("{TMP_PREFIX}{}", random_name()?));
        std::fs::create_dir(&tmp).map_err(|e| io_err(format!("creating {}", tmp.display()), e))?;
        let unpacked = self
            .open_blob(blob)
            .and_then(|file| unpack::unpack_layer(file, &tmp).map_err(|e| unpack_err(blob, e)));
        let unpacked = match unpacked {
            Ok(u) => u,
            Err(e) => {
                // The unpack error is the one to report; a leftover goes at the next open.
                let _ = remove_path(&tmp);
                return Err(e);
            }
        };
        let chain = chain_id(parent, &unpacked.diff_id);
        let row = LayerRow {
            diff_id: unpacked.diff_id.clone(),
            size: unpacked.size,
            parent: parent.cloned(),
        };
        self.commit_layer(&tmp, &chain, &row, blob)?;
        Ok((unpacked.diff_id, chain, unpacked.size))
    }

    /// Starts a layer that is unpacked from a stream while its blob is still arriving (a
    /// pull unpacks as it downloads). Nothing is recorded until `commit_streamed_layer`;
    /// dropping the `StreamedLayer` removes its directory.
    pub fn begin_streamed_layer(&self) -> Result<StreamedLayer, StoreError> {
        let tmp = self
            .root
            .join(LAYERS_DIR)
            .join(format!("{TMP_PREFIX}{}", random_name()?));
        std::fs::create_dir(&tmp).map_err(|e| io_err(format!("creating {}", tmp.display()), e))?;
        Ok(StreamedLayer {
            dir: Some(tmp),
            unpacked: None,
        })
    }

    /// Records a streamed layer once its blob `blob` is committed (so its digest is
    /// verified) and `parent` is recorded; returns (diff_id, chain_id, size) as
    /// `unpack_layer` does.
    pub fn commit_streamed_layer(
        &self,
        mut layer: StreamedLayer,
        blob: &Digest,
        parent: Option<&Digest>,
    ) -> Result<(Digest, Digest, u64), StoreError> {
        self.check_layer_inputs(blob, parent)?;
        let (Some(dir), Some(unpacked)) = (layer.dir.take(), layer.unpacked.take()) else {
            return Err(StoreError::Invalid(format!(
                "layer {blob} was not unpacked"
            )));
        };
        let chain = chain_id(parent, &unpacked.diff_id);
        let row = LayerRow {
            diff_id: unpacked.diff_id.clone(),
            size: unpacked.size,
            parent: parent.cloned(),
        };
        self.commit_layer(&dir, &chain, &row, blob)?;
        Ok((unpacked.diff_id, chain, unpacked.size))
    }

    /// A layer is only made from a stored (so verified) blob on top of a recorded parent.
    fn check_layer_inputs(&self, blob: &Digest, parent: Option<&Digest>) -> Result<(), StoreError> {
        if !self.has_blob(blob) {
            return Err(StoreError::Invalid(format!(
                "layer blob {blob} is not in the store"
            )));
        }
        match parent {
            Some(parent) if !self.has_layer(parent) => Err(StoreError::Invalid(format!(
                "parent layer {parent} is not unpacked"
            ))),
            _ => Ok(()),
        }
    }

    /// The layer this blob already unpacked to on this parent, when it is there.
    fn find_unpacked(
        &self,
        blob: &Digest,
        parent: Option<&Digest>,
    ) -> Result<Option<(Digest, Digest, u64)>, StoreError> {
        let Some(diff_id) = self.known_diff_id(blob)? else {
            return Ok(None);
        };
        let chain = chain_id(parent, &diff_id);
        if !self.has_layer(&chain) {
            return Ok(None);
        }
        let size = self.layer_row(&chain)?.map_or(0, |row| row.size);
        Ok(Some((diff_id, chain, size)))
    }

    /// Renames the unpacked `tmp` to its chain ID and records it, or drops `tmp` when another
    /// unpack of the same layer won.
    fn commit_layer(
        &self,
        tmp: &std::path::Path,
        chain: &Digest,
        row: &LayerRow,
        blob: &Digest,
    ) -> Result<(), StoreError> {
        let _guard = self.shared.writing();
        let _commit = self
            .layer_commit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dest = self.layer_dir(chain);
        if self.is_layer_complete(chain)? {
            remove_path(tmp)?;
        } else {
            // A directory without a record is a leftover of a killed daemon.
            remove_path(&dest)?;
            std::fs::rename(tmp, &dest).map_err(|e| io_err(format!("storing layer {chain}"), e))?;
        }
        self.record_layer(chain, row, blob)?;
        self.shared.pin(Pinned::Layer(chain.clone()));
        Ok(())
    }

    /// Removes an unpacked layer (its record first, then its directory, moved aside so that a
    /// crash halfway leaves only a `tmp-` leftover). Returns its size, `None` when absent.
    pub(super) fn remove_layer(&self, chain: &Digest) -> Result<Option<u64>, StoreError> {
        let row = self.layer_row(chain)?;
        let dir = self.layer_dir(chain);
        if row.is_none() && !dir.exists() {
            return Ok(None);
        }
        self.forget_layer(chain)?;
        let aside = self
            .root
            .join(LAYERS_DIR)
            .join(format!("{TMP_PREFIX}{}", random_name()?));
        match std::fs::rename(&dir, &aside) {
            Ok(()) => remove_path(&aside)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("removing layer {chain}"), e)),
        }
        Ok(Some(row.map_or(0, |r| r.size)))
    }

    /// At open: unpack directories of a killed daemon, directories never recorded, and
    /// records whose directory is gone.
    pub(super) fn remove_layer_leftovers(&self) -> Result<(), StoreError> {
        let dir = self.root.join(LAYERS_DIR);
        let recorded: std::collections::BTreeSet<String> =
            self.recorded_layers()?.into_iter().collect();
        super::blobs::remove_all_in(&dir, |name| {
            name.starts_with(TMP_PREFIX) || (is_hex64(name) && !recorded.contains(name))
        })?;
        for hex in recorded {
            if let Ok(chain) = Digest::from_hex(&hex) {
                if !self.layer_dir(&chain).is_dir() {
                    self.forget_layer(&chain)?;
                }
            }
        }
        Ok(())
    }
}

/// A layer being unpacked from a stream into a temporary directory of the store.
pub struct StreamedLayer {
    dir: Option<PathBuf>,
    unpacked: Option<unpack::Unpacked>,
}

impl StreamedLayer {
    /// Unpacks the layer stream `blob` (any compression); call once, from a blocking thread.
    pub fn unpack(&mut self, blob: impl std::io::Read) -> Result<unpack::Unpacked, UnpackError> {
        let Some(dir) = &self.dir else {
            return Err(UnpackError::Invalid("layer already committed".to_string()));
        };
        let unpacked = unpack::unpack_layer(blob, dir)?;
        self.unpacked = Some(unpacked.clone());
        Ok(unpacked)
    }
}

impl Drop for StreamedLayer {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            // Not committed: the pull failed. A leftover would also go at the next open.
            let _ = remove_path(&dir);
        }
    }
}

fn unpack_err(blob: &Digest, e: UnpackError) -> StoreError {
    match e {
        UnpackError::Io { path, source } => {
            io_err(format!("unpacking layer {blob} at {path}"), source)
        }
        other => StoreError::Invalid(format!("layer {blob}: {other}")),
    }
}
