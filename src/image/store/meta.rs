//! The metadata database, `meta.redb`: images, references, unpacked layers, and which
//! layer blob unpacks to which diff ID. Each change is one redb transaction, synced on commit.
//!
//! Values are JSON so that a record can grow fields without a migration.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{ImageRecord, ImageStore, StoreError};
use crate::image::digest::Digest;

/// Image ID (`sha256:..`) -> `ImageRecord` JSON.
pub(super) const IMAGES: TableDefinition<&str, &str> = TableDefinition::new("images");
/// Full normalised tag reference (`docker.io/library/busybox:latest`) -> image ID.
pub(super) const REFS: TableDefinition<&str, &str> = TableDefinition::new("references");
/// Chain ID -> `LayerRow` JSON, written once the layer directory is in place.
pub(super) const LAYERS: TableDefinition<&str, &str> = TableDefinition::new("layers");
/// Layer blob digest -> diff ID, so that a known blob is not unpacked twice.
pub(super) const DIFF_IDS: TableDefinition<&str, &str> = TableDefinition::new("diff_ids");

const DB_FILE: &str = "meta.redb";

/// What the store knows of an unpacked layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LayerRow {
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar.
    pub size: u64,
    pub parent: Option<Digest>,
}

pub(super) fn db_err(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Db(e.into().to_string())
}

/// Opens or creates the database and its tables; a second opener gets `Locked`.
pub(super) fn open_db(root: &Path) -> Result<Database, StoreError> {
    let db = match Database::create(root.join(DB_FILE)) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            return Err(StoreError::Locked(root.to_path_buf()))
        }
        Err(e) => return Err(db_err(e)),
    };
    let txn = db.begin_write().map_err(db_err)?;
    for table in [IMAGES, REFS, LAYERS, DIFF_IDS] {
        txn.open_table(table).map_err(db_err)?;
    }
    txn.commit().map_err(db_err)?;
    Ok(db)
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(
    what: &str,
    json: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Db(format!("corrupt record {what}: {e}")))
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Db(format!("encoding record: {e}")))
}

/// Reads one JSON row of `table`.
pub(super) fn get_row<T, Tb>(table: &Tb, key: &str) -> Result<Option<T>, StoreError>
where
    T: for<'de> Deserialize<'de>,
    Tb: ReadableTable<&'static str, &'static str>,
{
    match table.get(key).map_err(db_err)? {
        Some(v) => decode(key, v.value()).map(Some),
        None => Ok(None),
    }
}

/// Every row of `table` as (key, value) strings.
pub(super) fn all_rows<Tb>(table: &Tb) -> Result<Vec<(String, String)>, StoreError>
where
    Tb: ReadableTable<&'static str, &'static str>,
{
    let mut rows = Vec::new();
    for row in table.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        rows.push((k.value().to_string(), v.value().to_string()));
    }
    Ok(rows)
}

impl ImageStore {
    pub fn image(&self, id: &Digest) -> Result<Option<ImageRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let images = txn.open_table(IMAGES).map_err(db_err)?;
        get_row(&images, id.as_str())
    }

    pub fn list(&self) -> Result<Vec<ImageRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let images = txn.open_table(IMAGES).map_err(db_err)?;
        all_rows(&images)?
            .iter()
            .map(|(k, v)| decode(k, v))
            .collect()
    }

    pub(super) fn layer_row(&self, chain: &Digest) -> Result<Option<LayerRow>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let layers = txn.open_table(LAYERS).map_err(db_err)?;
        get_row(&layers, chain.hex())
    }

    pub(super) fn known_diff_id(&self, blob: &Digest) -> Result<Option<Digest>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(DIFF_IDS).map_err(db_err)?;
        let Some(v) = table.get(blob.as_str()).map_err(db_err)? else {
            return Ok(None);
        };
        Digest::parse(v.value())
            .map(Some)
            .map_err(|e| StoreError::Db(format!("corrupt diff ID of {blob}: {e}")))
    }

    /// Records an unpacked layer and the diff ID of the blob it came from.
    pub(super) fn record_layer(
        &self,
        chain: &Digest,
        row: &LayerRow,
        blob: &Digest,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut layers = txn.open_table(LAYERS).map_err(db_err)?;
            layers
                .insert(chain.hex(), encode(row)?.as_str())
                .map_err(db_err)?;
            let mut diff_ids = txn.open_table(DIFF_IDS).map_err(db_err)?;
            diff_ids
                .insert(blob.as_str(), row.diff_id.as_str())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    pub(super) fn forget_layer(&self, chain: &Digest) -> Result<(), StoreError> {
        self.remove_key(LAYERS, chain.hex())
    }

    pub(super) fn forget_diff_id(&self, blob: &Digest) -> Result<(), StoreError> {
        self.remove_key(DIFF_IDS, blob.as_str())
    }

    fn remove_key(&self, table: TableDefinition<&str, &str>, key: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        txn.open_table(table)
            .map_err(db_err)?
            .remove(key)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// The chain IDs (hex) of every recorded layer.
    pub(super) fn recorded_layers(&self) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let layers = txn.open_table(LAYERS).map_err(db_err)?;
        Ok(all_rows(&layers)?.into_iter().map(|(k, _)| k).collect())
    }
}
