//! Blob downloads: small blobs (configs) into memory, layers streamed into the store.
//!
//! A layer never sits whole in memory: chunks go through a short channel to a blocking task
//! that writes them into a store `Ingest`, which hashes them; the digest is checked when the
//! ingest is committed, so a corrupt blob is never stored. Redirects (to a CDN) are followed
//! by the HTTP client, which drops our `Authorization` when the host changes.

use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::Method;

use super::session::transport_error;
use super::{RegistryError, Session};
use crate::image::digest::Digest;
use crate::image::store::{ImageStore, Ingest, StoreError, StreamedLayer};

/// Configs bigger than this are refused; real ones are kilobytes.
pub const MAX_CONFIG_BYTES: usize = 16 << 20;

/// Chunks in flight between the network and the file writer.
const CHANNEL_DEPTH: usize = 16;

impl Session {
    /// Whether the repository has `digest` (HEAD): its size when it does.
    pub async fn stat_blob(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(Method::HEAD, &url, |r| r).await?;
        match response.status().as_u16() {
            200 => Ok(Some(response.content_length().unwrap_or(0))),
            404 => Ok(None),
            _ => Err(super::session::error_from_response("Head", &url, response).await),
        }
    }

    /// GETs a small blob (a config) and checks its digest.
    pub async fn fetch_small_blob(&self, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let mut response = self.send_ok(Method::GET, &url, |r| r).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error("Get", &url, &e))?
        {
            if bytes.len() + chunk.len() > MAX_CONFIG_BYTES {
                return Err(RegistryError::Invalid(format!(
                    "blob {digest} is larger than {MAX_CONFIG_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if Digest::of_bytes(&bytes) != *digest {
            return Err(verification_failed(digest));
        }
        Ok(bytes)
    }

    /// Streams the blob `digest` (declared `size` bytes, 0 when unknown) into the store,
    /// calling `progress` with the bytes received so far. Stored only when the digest holds.
    pub async fn download_blob(
        &self,
        store: &Arc<ImageStore>,
        digest: &Digest,
        size: u64,
        progress: impl FnMut(u64),
    ) -> Result<(), RegistryError> {
        self.download(store, digest, size, progress, None).await
    }

    /// As `download_blob`, and unpacks the layer into `layer` from the same bytes as they
    /// arrive, so that unpacking overlaps the download instead of following it. The layer
    /// is returned unpacked but not recorded: the caller commits it once its parent is.
    pub async fn download_and_unpack(
        &self,
        store: &Arc<ImageStore>,
        digest: &Digest,
        size: u64,
        progress: impl FnMut(u64),
        mut layer: StreamedLayer,
    ) -> Result<StreamedLayer, RegistryError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(CHANNEL_DEPTH);
        let unpacker = tokio::task::spawn_blocking(move || {
            let result = layer.unpack(ChunkReader::new(rx));
            (layer, result)
        });
        let downloaded = self.download(store, digest, size, progress, Some(tx)).await;
        let (layer, unpacked) = unpacker.await.map_err(join_failed)?;
        // A download error explains a truncated stream better than the unpacker's own error.
        downloaded?;
        unpacked.map_err(|e| RegistryError::Invalid(format!("layer {digest}: {e}")))?;
        Ok(layer)
    }

    async fn download(
        &self,
        store: &Arc<ImageStore>,
        digest: &Digest,
        size: u64,
        mut progress: impl FnMut(u64),
        tee: Option<std::sync::mpsc::SyncSender<Bytes>>,
    ) -> Result<(), RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send_ok(Method::GET, &url, |r| r).await;
        let mut response = response?;
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL_DEPTH);
        let writer = {
            let store = Arc::clone(store);
            tokio::task::spawn_blocking(move || write_chunks(&store, rx, tee))
        };
        let mut received: u64 = 0;
        let mut failure = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    received += chunk.len() as u64;
                    if size > 0 && received > size {
                        failure = Some(verification_failed(digest));
                        break;
                    }
                    if tx.send(chunk).await.is_err() {
                        // The writer stopped: its own error says why.
                        break;
                    }
                    progress(received);
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(transport_error("Get", &url, &e));
                    break;
                }
            }
        }
        drop(tx);
        let ingest = join_blocking(writer).await?;
        if let Some(err) = failure {
            // Dropping the ingest removes its temporary file.
            let _ = tokio::task::spawn_blocking(move || drop(ingest)).await;
            return Err(err);
        }
        let expected = digest.clone();
        let committed = tokio::task::spawn_blocking(move || ingest.commit(Some(&expected))).await;
        match committed {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(StoreError::DigestMismatch { .. })) => Err(verification_failed(digest)),
            Ok(Err(e)) => Err(RegistryError::Store(e)),
            Err(join) => Err(join_failed(join)),
        }
    }
}

/// The blocking side: chunks into a fresh ingest until the channel closes.
/// With a `tee`, every chunk also goes to the unpacker; when it stops early (a refused
/// entry) the blob is still written, and the unpacker's error is reported by the caller.
fn write_chunks(
    store: &ImageStore,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
    mut tee: Option<std::sync::mpsc::SyncSender<Bytes>>,
) -> Result<Ingest, RegistryError> {
    let mut ingest = store.ingest()?;
    while let Some(chunk) = rx.blocking_recv() {
        if let Some(unpacker) = &tee {
            if unpacker.send(chunk.clone()).is_err() {
                tee = None;
            }
        }
        ingest.write_all(&chunk).map_err(|source| {
            RegistryError::Store(StoreError::Io {
                context: "writing blob".to_string(),
                source,
            })
        })?;
    }
    Ok(ingest)
}

/// A blocking `Read` over the chunks a download hands on; end of stream when the sender
/// goes (the download finished or failed).
struct ChunkReader {
    rx: std::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChunkReader {
    fn new(rx: std::sync::mpsc::Receiver<Bytes>) -> Self {
        ChunkReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.current = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

async fn join_blocking<T>(
    handle: tokio::task::JoinHandle<Result<T, RegistryError>>,
) -> Result<T, RegistryError> {
    handle.await.map_err(join_failed)?
}

fn join_failed(join: tokio::task::JoinError) -> RegistryError {
    RegistryError::Store(StoreError::Io {
        context: "blob writer".to_string(),
        source: std::io::Error::other(join.to_string()),
    })
}

/// Docker's words for a blob whose bytes do not hash to its name.
pub fn verification_failed(digest: &Digest) -> RegistryError {
    RegistryError::Invalid(format!(
        "filesystem layer verification failed for digest {digest}"
    ))
}
