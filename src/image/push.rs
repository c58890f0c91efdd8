//! Pushing a local image to a registry: blobs the registry has are skipped (or mounted from
//! another repository), the rest uploaded streaming, then the manifest.
//!
//! OWNER: helper "registry".

use std::sync::Arc;

use super::digest::Digest;
use super::progress::ProgressSink;
use super::reference::Reference;
use super::registry::{AuthConfig, RegistryClient};
use super::store::ImageStore;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    Other(String),
}

impl PushError {
    pub fn http_status(&self) -> u16 {
        todo!("registry")
    }
}

/// Pushes the local image named `reference` (which must carry the tag to push) and returns
/// the manifest digest; records the new repo digest on the image.
pub async fn push(
    _store: &Arc<ImageStore>,
    _registry: &RegistryClient,
    _reference: &Reference,
    _auth: Option<&AuthConfig>,
    _progress: &ProgressSink,
) -> Result<Digest, PushError> {
    todo!("registry")
}
