//! Pushing a local image to a registry: blobs the registry has are skipped (or mounted from
//! another repository), the rest uploaded streaming, then the manifest.
//!
//! The manifest pushed is the one the image came with when the
//! store still has it and every blob it names (so a pulled image keeps its digest), else a
//! Docker schema 2 (or OCI, for OCI layers) manifest made from the image record. Layers go up
//! at most five at a time, as Docker's `max-concurrent-uploads`.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::digest::Digest;
use super::progress::{ProgressMessage, ProgressSink};
use super::reference::Reference;
use super::registry::manifest::{self, Descriptor, ImageManifest};
use super::registry::upload::{Mount, Progress};
use super::registry::{Access, AuthConfig, RegistryClient, RegistryError, Session};
use super::store::{ImageRecord, ImageStore, StoreError};

const CONCURRENT_UPLOADS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No local image by that name (404).
    #[error("{0}")]
    NotFound(String),
    /// The registry refused our credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Other(String),
}

impl PushError {
    pub fn http_status(&self) -> u16 {
        match self {
            PushError::NotFound(_) => 404,
            PushError::Unauthorized(_) => 401,
            PushError::Other(_) => 500,
        }
    }
}

impl From<RegistryError> for PushError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Unauthorized { .. } => PushError::Unauthorized(e.to_string()),
            other => PushError::Other(other.to_string()),
        }
    }
}

impl From<StoreError> for PushError {
    fn from(e: StoreError) -> Self {
        PushError::Other(e.to_string())
    }
}

/// The manifest to push and the blobs it names.
struct Plan {
    bytes: Vec<u8>,
    media_type: String,
    config: Descriptor,
    /// Layers with their diff IDs (Docker names push progress lines by diff ID).
    layers: Vec<(Descriptor, Digest)>,
}

/// Pushes the local image named `reference` (which must carry the tag to push) and returns
/// the manifest digest; records the new repo digest on the image. The manifest pushed is then
/// a stored blob, so the caller can report its size: the summary lines (`<tag>: digest: ...
/// size: N` and its `aux`) are the API layer's, not sent from here.
pub async fn push(
    store: &Arc<ImageStore>,
    registry: &RegistryClient,
    reference: &Reference,
    auth: Option<&AuthConfig>,
    progress: &ProgressSink,
) -> Result<Digest, PushError> {
    let tag = reference
        .tag
        .clone()
        .unwrap_or_else(|| "latest".to_string());
    let target = Reference {
        tag: Some(tag.clone()),
        digest: None,
        ..reference.clone()
    };
    let image = match store.resolve(&target.to_string()) {
        Ok(image) => image,
        Err(StoreError::NotFound(_)) => {
            return Err(PushError::NotFound(format!(
                "An image does not exist locally with the tag: {}",
                target.familiar_name()
            )))
        }
        Err(e) => return Err(e.into()),
    };
    progress.send(ProgressMessage::status(
        "",
        format!("The push refers to repository [{}]", target.name()),
    ));
    let plan = plan_manifest(store, &image)?;
    let sources = mount_sources(&image, &target);
    let session = Arc::new(registry.session(
        &target,
        auth,
        Access::Push {
            mount_from: sources.clone(),
        },
    ));

    push_layers(store, &session, &plan, &sources, progress).await?;
    push_config(store, &session, &plan.config).await?;
    let digest = Digest::of_bytes(&plan.bytes);
    let claimed = session
        .put_manifest(&tag, &plan.media_type, plan.bytes.clone())
        .await?;
    if claimed.as_ref().is_some_and(|c| c != &digest) {
        return Err(PushError::Other(format!(
            "registry stored the manifest as {}, expected {digest}",
            claimed.map(|c| c.to_string()).unwrap_or_default()
        )));
    }
    record_push(store, image, &plan, &target, &digest).await?;
    Ok(digest)
}

/// Repositories of the same registry this image came from: candidates for blob mounts.
fn mount_sources(image: &ImageRecord, target: &Reference) -> Vec<String> {
    let mut sources: Vec<String> = image
        .repo_digests
        .iter()
        .filter_map(|rd| Reference::parse_normalized(rd).ok())
        .filter(|r| r.domain == target.domain && r.path != target.path)
        .map(|r| r.path)
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

/// The stored manifest when it is whole, else one made from the record.
fn plan_manifest(store: &ImageStore, image: &ImageRecord) -> Result<Plan, PushError> {
    if let Some(plan) = stored_manifest(store, image) {
        return Ok(plan);
    }
    let config_size = store.blob_size(&image.id)?;
    let oci = image
        .layers
        .iter()
        .any(|l| l.media_type.starts_with("application/vnd.oci."));
    let (media_type, config_type) = if oci {
        (manifest::OCI_MANIFEST, manifest::OCI_CONFIG)
    } else {
        (manifest::DOCKER_MANIFEST, manifest::DOCKER_CONFIG)
    };
    let config = descriptor(config_type, image.id.clone(), config_size);
    let mut layers = Vec::with_capacity(image.layers.len());
    for layer in &image.layers {
        let size = store.blob_size(&layer.blob)?;
        let media = if layer.media_type.is_empty() {
            guess_layer_type(store, &layer.blob, oci)
        } else {
            layer.media_type.clone()
        };
        layers.push((
            descriptor(&media, layer.blob.clone(), size),
            layer.diff_id.clone(),
        ));
    }
    let doc = ImageManifest {
        schema_version: 2,
        media_type: Some(media_type.to_string()),
        config: config.clone(),
        layers: layers.iter().map(|(d, _)| d.clone()).collect(),
    };
    // Docker indents schema 2 manifests with three spaces; any byte form is valid, and the
    // digest is taken over the bytes we send.
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| PushError::Other(e.to_string()))?;
    Ok(Plan {
        bytes,
        media_type: media_type.to_string(),
        config,
        layers,
    })
}

fn descriptor(media_type: &str, digest: Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest,
        size,
        platform: None,
        annotations: None,
        urls: None,
    }
}

/// The manifest the image came with, when it is stored, names this config, and every layer
/// blob it names is stored too.
fn stored_manifest(store: &ImageStore, image: &ImageRecord) -> Option<Plan> {
    let digest = image.manifest.as_ref()?;
    let bytes = store.read_blob(digest).ok()?;
    let doc: ImageManifest = serde_json::from_slice(&bytes).ok()?;
    if doc.config.digest != image.id || doc.layers.len() != image.layers.len() {
        return None;
    }
    if !doc.layers.iter().all(|l| store.has_blob(&l.digest)) {
        return None;
    }
    let media_type = image
        .manifest_media_type
        .clone()
        .or_else(|| doc.media_type.clone())
        .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string());
    let layers = doc
        .layers
        .iter()
        .cloned()
        .zip(image.layers.iter().map(|l| l.diff_id.clone()))
        .collect();
    Some(Plan {
        bytes,
        media_type,
        config: doc.config,
        layers,
    })
}

/// A layer's media type from its first bytes (gzip, zstd, or a plain tar).
fn guess_layer_type(store: &ImageStore, blob: &Digest, oci: bool) -> String {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    let read = store
        .open_blob(blob)
        .and_then(|mut f| {
            f.read(&mut magic).map_err(|e| StoreError::Io {
                context: format!("reading blob {blob}"),
                source: e,
            })
        })
        .unwrap_or(0);
    let magic = &magic[..read];
    let kind = if magic.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else {
        "tar"
    };
    match (oci, kind) {
        (true, "tar") => "application/vnd.oci.image.layer.v1.tar".to_string(),
        (true, other) => format!("application/vnd.oci.image.layer.v1.tar+{other}"),
        (false, "gzip") => manifest::DOCKER_LAYER_GZIP.to_string(),
        (false, "zstd") => "application/vnd.oci.image.layer.v1.tar+zstd".to_string(),
        (false, _) => "application/vnd.docker.image.rootfs.diff.tar".to_string(),
    }
}

/// Every layer, top layer's line first as Docker prints them, uploaded concurrently.
async fn push_layers(
    store: &Arc<ImageStore>,
    session: &Arc<Session>,
    plan: &Plan,
    sources: &[String],
    progress: &ProgressSink,
) -> Result<(), PushError> {
    for (_, diff_id) in plan.layers.iter().rev() {
        progress.send(ProgressMessage::layer(diff_id.short(), "Preparing"));
    }
    let limit = Arc::new(Semaphore::new(CONCURRENT_UPLOADS));
    let mut tasks = Vec::new();
    for (layer, diff_id) in plan.layers.iter().rev() {
        let job = LayerPush {
            store: Arc::clone(store),
            session: Arc::clone(session),
            layer: layer.clone(),
            id: diff_id.short().to_string(),
            sources: sources.to_vec(),
            progress: progress.clone(),
        };
        tasks.push(tokio::spawn(job.run(Arc::clone(&limit))));
    }
    let mut first_error = None;
    for task in tasks {
        let outcome = task.await.map_err(|e| PushError::Other(e.to_string()));
        if let Err(e) = outcome.and_then(|r| r.map_err(PushError::from)) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// One layer's push, as a task of its own.
struct LayerPush {
    store: Arc<ImageStore>,
    session: Arc<Session>,
    layer: Descriptor,
    /// The short diff ID the progress lines carry.
    id: String,
    sources: Vec<String>,
    progress: ProgressSink,
}

impl LayerPush {
    async fn run(self, limit: Arc<Semaphore>) -> Result<(), RegistryError> {
        let _permit = match Arc::clone(&limit).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.progress
                    .send(ProgressMessage::layer(self.id.clone(), "Waiting"));
                limit
                    .acquire_owned()
                    .await
                    .map_err(|e| RegistryError::Invalid(e.to_string()))?
            }
        };
        let digest = &self.layer.digest;
        if self.session.stat_blob(digest).await?.is_some() {
            self.say("Layer already exists");
            return Ok(());
        }
        let mut location = None;
        for from in &self.sources {
            match self.session.mount_blob(digest, from).await {
                Ok(Mount::Mounted) => {
                    let source = Reference {
                        domain: self.session.domain().to_string(),
                        path: from.clone(),
                        tag: None,
                        digest: None,
                    };
                    self.say(&format!("Mounted from {}", source.familiar_name()));
                    return Ok(());
                }
                Ok(Mount::Started(url)) => {
                    location = Some(url);
                    break;
                }
                // A refused mount is not fatal: the blob is uploaded instead.
                Err(_) => continue,
            }
        }
        let location = match location {
            Some(url) => url,
            None => self.session.start_upload().await?,
        };
        let path = self.store.blob_path(digest);
        let total = self.layer.size;
        let (id, sink) = (self.id.clone(), self.progress.clone());
        let report: Progress = Arc::new(move |sent| {
            sink.send(ProgressMessage::bytes(
                id.clone(),
                "Pushing",
                sent,
                Some(total),
            ));
        });
        self.session
            .upload_file(&location, digest, &path, total, report)
            .await?;
        self.say("Pushed");
        Ok(())
    }

    fn say(&self, status: &str) {
        self.progress
            .send(ProgressMessage::layer(self.id.clone(), status));
    }
}

/// The config blob, unless the registry has it.
async fn push_config(
    store: &Arc<ImageStore>,
    session: &Session,
    config: &Descriptor,
) -> Result<(), PushError> {
    if session.stat_blob(&config.digest).await?.is_some() {
        return Ok(());
    }
    let bytes = store.read_blob(&config.digest)?;
    let location = session.start_upload().await?;
    session
        .upload_bytes(&location, &config.digest, bytes)
        .await?;
    Ok(())
}

/// Adds `name@digest` to the image's repo digests, keeping its tags.
async fn record_push(
    store: &Arc<ImageStore>,
    mut image: ImageRecord,
    plan: &Plan,
    target: &Reference,
    digest: &Digest,
) -> Result<(), PushError> {
    image
        .repo_digests
        .push(format!("{}@{digest}", target.name()));
    image.repo_digests.sort();
    image.repo_digests.dedup();
    // A generated manifest becomes the image's manifest, so that the next push sends the
    // same bytes; it must be stored first (the record names it).
    if image.manifest.as_ref() != Some(digest) {
        let stored = store.write_blob(&plan.bytes)?;
        if &stored == digest {
            image.manifest = Some(stored);
            image.manifest_media_type = Some(plan.media_type.clone());
        }
    }
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.put_image(&image, &[]))
        .await
        .map_err(|e| PushError::Other(e.to_string()))??;
    Ok(())
}
