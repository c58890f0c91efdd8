//! Pulling an image from a registry into the store: manifest (index -> platform), config,
//! layers fetched in parallel and skipped when present, unpacked, then recorded in one
//! transaction.
//!
//! Nothing is recorded until every layer is verified and unpacked
//! and the unpacked diff IDs equal the config's: a failed pull leaves at most unreferenced
//! blobs and layers, which `gc` removes. Progress lines are Docker's, word for word.
//! `layers.rs` runs the downloads and the in-order unpacking.

mod layers;

use std::sync::Arc;

use serde::Deserialize;

use super::digest::Digest;
use super::platform::Platform;
use super::progress::{ProgressMessage, ProgressSink};
use super::reference::Reference;
use super::registry::manifest::{self, Document, ImageManifest, RawManifest};
use super::registry::{Access, AuthConfig, RegistryClient, RegistryError, Session};
use super::store::{ImageRecord, ImageStore, StoreError};

/// Why a pull failed; `http_status` is what Docker's API answers.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No such repository, tag, digest or platform (404).
    #[error("{0}")]
    NotFound(String),
    /// The registry refused our credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The request itself was wrong (400).
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Other(String),
}

impl PullError {
    pub fn http_status(&self) -> u16 {
        match self {
            PullError::NotFound(_) => 404,
            PullError::Unauthorized(_) => 401,
            PullError::InvalidArgument(_) => 400,
            PullError::Other(_) => 500,
        }
    }
}

impl From<StoreError> for PullError {
    fn from(e: StoreError) -> Self {
        PullError::Other(e.to_string())
    }
}

/// Docker's `TranslatePullError`: registry codes that mean "not there" become 404s worded
/// with the reference.
fn translate(err: RegistryError, reference: &Reference) -> PullError {
    let code = err.code().map(str::to_string);
    match (code.as_deref(), &err) {
        (Some("MANIFEST_UNKNOWN"), _) => PullError::NotFound(format!(
            "manifest for {} not found: {err}",
            reference.familiar()
        )),
        (None, RegistryError::Api { status: 404, .. }) => PullError::NotFound(format!(
            "manifest for {} not found: manifest unknown: manifest unknown",
            reference.familiar()
        )),
        (Some("NAME_UNKNOWN"), _) => PullError::NotFound(format!(
            "repository {} not found: {err}",
            reference.familiar_name()
        )),
        (Some("DENIED"), _) => PullError::NotFound(format!(
            "pull access denied for {}, repository does not exist or may require 'docker login': {err}",
            reference.familiar_name()
        )),
        (_, RegistryError::Unauthorized { .. }) => PullError::Unauthorized(err.to_string()),
        _ => PullError::Other(err.to_string()),
    }
}

/// What a pull shares with its layer tasks.
pub(crate) struct PullContext {
    pub store: Arc<ImageStore>,
    pub session: Arc<Session>,
    pub progress: ProgressSink,
}

/// Pulls `reference` (tag or digest; a tag-less name means `latest`) for `platform` (host when
/// `None`) and tags it. Progress lines as Docker's.
pub async fn pull(
    store: &Arc<ImageStore>,
    registry: &RegistryClient,
    reference: &Reference,
    platform: Option<&Platform>,
    auth: Option<&AuthConfig>,
    progress: &ProgressSink,
) -> Result<ImageRecord, PullError> {
    let reference = match reference.digest {
        // A digest names the content exactly; a tag beside it says nothing more.
        Some(_) => Reference {
            tag: None,
            ..reference.clone()
        },
        None => reference.clone().with_default_tag(),
    };
    let wanted = match (&reference.digest, &reference.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".to_string(),
    };
    let host = Platform::host();
    let want = platform.unwrap_or(&host);
    let ctx = PullContext {
        store: Arc::clone(store),
        session: Arc::new(registry.session(&reference, auth, Access::Pull)),
        progress: progress.clone(),
    };
    // The manifest comes first so that a missing image is a plain 404 with no progress
    // line before it, as Docker answers.
    let top = ctx
        .session
        .fetch_manifest(&wanted, reference.digest.as_ref())
        .await
        .map_err(|e| translate(e, &reference))?;
    progress.send(ProgressMessage::status(
        wanted.clone(),
        format!("Pulling from {}", reference.path),
    ));
    let (raw, image_manifest) =
        choose_manifest(&ctx.session, top.clone(), want, &reference).await?;
    let config_digest = image_manifest.config.digest.clone();
    let config = fetch_config(&ctx, &image_manifest).await?;
    if platform.is_some() {
        check_platform(&config, want, &reference)?;
    }
    if config.rootfs.diff_ids.len() != image_manifest.layers.len() {
        return Err(PullError::Other(
            "layers from manifest don't match image configuration".to_string(),
        ));
    }

    let previous = store
        .resolve(&reference.to_string())
        .ok()
        .map(|image| image.id);
    let (layer_records, downloaded) =
        layers::fetch_and_unpack(&ctx, &image_manifest.layers, &config.rootfs.diff_ids).await?;

    let manifest_digest = store_blob(store, raw.bytes.clone()).await?;
    if manifest_digest != raw.digest {
        return Err(PullError::Other(format!(
            "manifest verification failed for digest {}",
            raw.digest
        )));
    }
    let record = ImageRecord {
        id: config_digest.clone(),
        manifest: Some(raw.digest.clone()),
        manifest_media_type: Some(raw.media_type.clone()),
        repo_digests: vec![format!("{}@{}", reference.name(), top.digest)],
        size: layer_records.iter().map(|l| l.size).sum(),
        layers: layer_records,
        added: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let tags: Vec<Reference> = match reference.digest {
        Some(_) => Vec::new(),
        None => vec![reference.clone()],
    };
    {
        let store = Arc::clone(store);
        let record = record.clone();
        tokio::task::spawn_blocking(move || store.put_image(&record, &tags))
            .await
            .map_err(|e| PullError::Other(e.to_string()))??;
    }

    progress.send(ProgressMessage::status(
        "",
        format!("Digest: {}", top.digest),
    ));
    let updated = downloaded || previous.as_ref() != Some(&config_digest);
    let status = if updated {
        "Status: Downloaded newer image for"
    } else {
        "Status: Image is up to date for"
    };
    progress.send(ProgressMessage::status(
        "",
        format!("{status} {}", reference.familiar()),
    ));
    Ok(store.image(&config_digest)?.unwrap_or(record))
}

/// The image manifest to pull: `top` itself, or the index entry for `want`.
async fn choose_manifest(
    session: &Session,
    top: RawManifest,
    want: &Platform,
    reference: &Reference,
) -> Result<(RawManifest, ImageManifest), PullError> {
    match manifest::classify(&top).map_err(|e| translate(e, reference))? {
        Document::Manifest(m) => Ok((top, m)),
        Document::Schema1 => Err(schema1_error(reference)),
        Document::Index(index) => {
            let entry = manifest::select_platform(&index, want).ok_or_else(|| {
                PullError::NotFound(format!(
                    "no matching manifest for {want} in the manifest list entries"
                ))
            })?;
            let raw = session
                .fetch_manifest(entry.digest.as_str(), Some(&entry.digest))
                .await
                .map_err(|e| translate(e, reference))?;
            match manifest::classify(&raw).map_err(|e| translate(e, reference))? {
                Document::Manifest(m) => Ok((raw, m)),
                Document::Schema1 => Err(schema1_error(reference)),
                Document::Index(_) => Err(PullError::Other(format!(
                    "manifest list entry {} is itself a manifest list",
                    entry.digest
                ))),
            }
        }
    }
}

fn schema1_error(reference: &Reference) -> PullError {
    PullError::InvalidArgument(format!(
        "Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been \
         removed. Suggest the author of {reference} to upgrade the image to the OCI Format or \
         Docker Image manifest v2, schema 2. More information at \
         https://docs.docker.com/go/deprecated-image-specs/"
    ))
}

/// The parts of an image config a pull checks.
#[derive(Debug, Default, Deserialize)]
struct ConfigView {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: RootFs,
}

#[derive(Debug, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

/// The config blob, from the store when there, else from the registry (and then stored).
async fn fetch_config(ctx: &PullContext, m: &ImageManifest) -> Result<ConfigView, PullError> {
    let digest = &m.config.digest;
    let media_type = m.config.media_type.as_str();
    if !matches!(
        media_type,
        "" | manifest::OCI_CONFIG | manifest::DOCKER_CONFIG
    ) {
        return Err(PullError::InvalidArgument(format!(
            "encountered remote \"{media_type}\"(unknown) when fetching"
        )));
    }
    let bytes = if ctx.store.has_blob(digest) {
        ctx.store.read_blob(digest)?
    } else {
        let bytes = ctx
            .session
            .fetch_small_blob(digest)
            .await
            .map_err(|e| PullError::Other(e.to_string()))?;
        store_blob(&ctx.store, bytes.clone()).await?;
        bytes
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| PullError::Other(format!("invalid image config {digest}: {e}")))
}

/// Docker's check that a single-platform image is the platform asked for.
fn check_platform(
    config: &ConfigView,
    want: &Platform,
    reference: &Reference,
) -> Result<(), PullError> {
    if config.architecture.is_empty() {
        return Ok(());
    }
    let os = if config.os.is_empty() {
        "linux"
    } else {
        config.os.as_str()
    };
    let actual = Platform::normalized(os, &config.architecture, config.variant.as_deref());
    if want.matches(&actual) {
        return Ok(());
    }
    Err(PullError::NotFound(format!(
        "image with reference {} was found but does not match the specified platform: wanted {want}, actual: {actual}",
        reference.familiar()
    )))
}

/// Writes a small blob (manifest, config) off the async threads.
async fn store_blob(store: &Arc<ImageStore>, bytes: Vec<u8>) -> Result<Digest, PullError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.write_blob(&bytes))
        .await
        .map_err(|e| PullError::Other(e.to_string()))?
        .map_err(PullError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::registry::ApiError;

    fn api(code: &str, message: &str) -> RegistryError {
        RegistryError::Api {
            status: 404,
            errors: vec![ApiError {
                code: code.into(),
                message: message.into(),
            }],
        }
    }

    fn busybox() -> Reference {
        Reference {
            domain: "docker.io".into(),
            path: "library/busybox".into(),
            tag: Some("nosuch".into()),
            digest: None,
        }
    }

    #[test]
    fn unknown_manifest_is_a_404_worded_as_docker() {
        let err = translate(api("MANIFEST_UNKNOWN", "manifest unknown"), &busybox());
        assert_eq!(err.http_status(), 404);
        assert_eq!(
            err.to_string(),
            "manifest for busybox:nosuch not found: manifest unknown: manifest unknown"
        );
    }

    #[test]
    fn denied_reads_as_pull_access_denied() {
        let err = translate(
            api("DENIED", "requested access to the resource is denied"),
            &busybox(),
        );
        assert_eq!(err.http_status(), 404);
        assert!(err
            .to_string()
            .starts_with("pull access denied for busybox, repository does not exist or may require 'docker login'"));
    }

    #[test]
    fn transport_failures_are_500() {
        let err = translate(
            RegistryError::Transport {
                method: "Get".into(),
                url: "http://x/v2/".into(),
                message: "connect: refused".into(),
            },
            &busybox(),
        );
        assert_eq!(err.http_status(), 500);
        assert_eq!(err.to_string(), "Get \"http://x/v2/\": connect: refused");
    }

    #[test]
    fn platform_mismatch_names_both() {
        let config = ConfigView {
            architecture: "arm64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let want = Platform::parse("linux/amd64").expect("platform");
        let err = check_platform(&config, &want, &busybox()).expect_err("mismatch");
        assert!(
            err.to_string()
                .contains("wanted linux/amd64, actual: linux/arm64/v8"),
            "{err}"
        );
    }
}
