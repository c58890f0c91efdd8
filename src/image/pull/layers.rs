//! A pull's layers: downloaded in parallel (at most three at a time, as Docker), skipped when
//! the blob is already stored, and unpacked from the same bytes while they arrive (each
//! layer into its own directory, so no layer waits for another to unpack). They are recorded
//! strictly in order, each once its parent is.
//!
//! Downloads run as tasks; a failure aborts the rest (a drop guard), and nothing here
//! records an image.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::{PullContext, PullError};
use crate::image::digest::Digest;
use crate::image::progress::{ProgressMessage, ProgressSink};
use crate::image::registry::manifest::Descriptor;
use crate::image::registry::{RegistryError, Session};
use crate::image::store::{ImageStore, LayerRecord, StreamedLayer};

/// Docker's `max-concurrent-downloads` default.
const CONCURRENT_DOWNLOADS: usize = 3;

/// Byte-count updates per layer are sent at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Download tasks not yet awaited; aborted when the pull stops early.
struct Downloads(Vec<Option<Download>>);

/// A layer's download task: the layer unpacked on the way, `None` when it was not fetched.
type Download = JoinHandle<Result<Option<StreamedLayer>, RegistryError>>;

impl Drop for Downloads {
    fn drop(&mut self) {
        for handle in self.0.iter().flatten() {
            handle.abort();
        }
    }
}

/// Fetches and unpacks `layers`, checking each unpacked diff ID against `diff_ids` (same
/// length, checked by the caller). Returns the layer records and whether any blob was
/// downloaded.
pub(super) async fn fetch_and_unpack(
    ctx: &PullContext,
    layers: &[Descriptor],
    diff_ids: &[Digest],
) -> Result<(Vec<LayerRecord>, bool), PullError> {
    let limit = Arc::new(Semaphore::new(CONCURRENT_DOWNLOADS));
    let mut downloads = Downloads(Vec::with_capacity(layers.len()));
    for layer in layers {
        let id = layer.digest.short().to_string();
        if ctx.store.has_blob(&layer.digest) {
            ctx.progress
                .send(ProgressMessage::layer(id, "Already exists"));
            downloads.0.push(None);
            continue;
        }
        ctx.progress
            .send(ProgressMessage::layer(id, "Pulling fs layer"));
        let task = download_layer(
            Arc::clone(&ctx.store),
            Arc::clone(&ctx.session),
            layer.clone(),
            ctx.progress.clone(),
            Arc::clone(&limit),
        );
        downloads.0.push(Some(tokio::spawn(task)));
    }

    let mut records = Vec::with_capacity(layers.len());
    let mut parent: Option<Digest> = None;
    let mut downloaded_any = false;
    for (index, layer) in layers.iter().enumerate() {
        let streamed = match downloads.0[index].take() {
            Some(handle) => handle
                .await
                .map_err(|e| PullError::Other(e.to_string()))?
                .map_err(|e| PullError::Other(e.to_string()))?,
            None => None,
        };
        let downloaded = streamed.is_some();
        downloaded_any |= downloaded;
        let record = unpack(ctx, layer, parent.as_ref(), streamed).await?;
        if record.diff_id != diff_ids[index] {
            return Err(PullError::Other(
                "layers from manifest don't match image configuration".to_string(),
            ));
        }
        parent = Some(record.chain_id.clone());
        records.push(record);
    }
    Ok((records, downloaded_any))
}

/// One layer's download, unpacked on the way; `None` when another pull stored the blob
/// meanwhile (then it is unpacked from the store).
async fn download_layer(
    store: Arc<ImageStore>,
    session: Arc<Session>,
    layer: Descriptor,
    progress: ProgressSink,
    limit: Arc<Semaphore>,
) -> Result<Option<StreamedLayer>, RegistryError> {
    let id = layer.digest.short().to_string();
    let _permit = match Arc::clone(&limit).try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            progress.send(ProgressMessage::layer(id.clone(), "Waiting"));
            limit
                .acquire_owned()
                .await
                .map_err(|e| RegistryError::Invalid(e.to_string()))?
        }
    };
    // Another pull may have stored it while we waited.
    if store.has_blob(&layer.digest) {
        progress.send(ProgressMessage::layer(id, "Download complete"));
        return Ok(None);
    }
    let total = (layer.size > 0).then_some(layer.size);
    let mut last = Instant::now() - PROGRESS_INTERVAL;
    let report = |current: u64| {
        if last.elapsed() >= PROGRESS_INTERVAL || Some(current) == total {
            last = Instant::now();
            progress.send(ProgressMessage::bytes(
                id.clone(),
                "Downloading",
                current,
                total,
            ));
        }
    };
    let streamed = {
        let store = Arc::clone(&store);
        tokio::task::spawn_blocking(move || store.begin_streamed_layer())
            .await
            .map_err(|e| RegistryError::Invalid(e.to_string()))??
    };
    let streamed = session
        .download_and_unpack(&store, &layer.digest, layer.size, report, streamed)
        .await?;
    progress.send(ProgressMessage::layer(id.clone(), "Verifying Checksum"));
    progress.send(ProgressMessage::layer(id, "Download complete"));
    Ok(Some(streamed))
}

/// Records a layer on top of `parent`: the one unpacked during its download, or else
/// unpacked now from the stored blob.
async fn unpack(
    ctx: &PullContext,
    layer: &Descriptor,
    parent: Option<&Digest>,
    streamed: Option<StreamedLayer>,
) -> Result<LayerRecord, PullError> {
    let downloaded = streamed.is_some();
    let id = layer.digest.short().to_string();
    let total = (layer.size > 0).then_some(layer.size);
    if downloaded {
        ctx.progress
            .send(ProgressMessage::bytes(id.clone(), "Extracting", 0, total));
    }
    let store = Arc::clone(&ctx.store);
    let blob = layer.digest.clone();
    let parent_owned = parent.cloned();
    let (diff_id, chain_id, size) = tokio::task::spawn_blocking(move || match streamed {
        Some(streamed) => store.commit_streamed_layer(streamed, &blob, parent_owned.as_ref()),
        None => store.unpack_layer(&blob, parent_owned.as_ref()),
    })
    .await
    .map_err(|e| PullError::Other(e.to_string()))??;
    if downloaded {
        ctx.progress.send(ProgressMessage::bytes(
            id.clone(),
            "Extracting",
            layer.size,
            total,
        ));
        ctx.progress
            .send(ProgressMessage::layer(id, "Pull complete"));
    }
    Ok(LayerRecord {
        blob: layer.digest.clone(),
        media_type: layer.media_type.clone(),
        blob_size: layer.size,
        diff_id,
        chain_id,
        size,
    })
}
