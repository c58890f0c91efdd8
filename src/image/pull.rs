//! Pulling an image from a registry into the store: manifest (index -> platform), config,
//! layers fetched in parallel and skipped when present, unpacked, then recorded in one
//! transaction.
//!
//! OWNER: helper "registry".

use std::sync::Arc;

use super::platform::Platform;
use super::progress::ProgressSink;
use super::reference::Reference;
use super::registry::{AuthConfig, RegistryClient};
use super::store::{ImageRecord, ImageStore};

/// Why a pull failed; `http_status` is what Docker's API answers.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Other(String),
}

impl PullError {
    pub fn http_status(&self) -> u16 {
        todo!("registry")
    }
}

/// Pulls `reference` (tag or digest; a tag-less name means `latest`) for `platform` (host when
/// `None`) and tags it. Progress lines as Docker's.
pub async fn pull(
    _store: &Arc<ImageStore>,
    _registry: &RegistryClient,
    _reference: &Reference,
    _platform: Option<&Platform>,
    _auth: Option<&AuthConfig>,
    _progress: &ProgressSink,
) -> Result<ImageRecord, PullError> {
    todo!("registry")
}
