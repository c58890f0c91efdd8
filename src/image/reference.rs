//! Image references normalised like Docker's: `busybox` is `docker.io/library/busybox:latest`.
//!
//! OWNER: helper "image-core". Grammar and errors as distribution/reference
//! (`ParseNormalizedNamed`, `TagNameOnly`, `FamiliarString`).

use super::digest::Digest;

/// A parsed, normalised reference: `domain/path[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `docker.io`, `127.0.0.1:5000`, `localhost`, ...
    pub domain: String,
    /// `library/busybox`, `org/app`
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a string is not a valid reference; the message is Docker's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name (library/{0}) must be lowercase")]
    Uppercase(String),
    #[error("repository name must have at least one component")]
    Empty,
}

impl Reference {
    /// Parses and normalises like `ParseNormalizedNamed` (no default tag added).
    pub fn parse_normalized(_s: &str) -> Result<Reference, ReferenceError> {
        todo!("image-core")
    }

    /// The same reference with `latest` when it has neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(self) -> Reference {
        todo!("image-core")
    }

    /// `docker.io/library/busybox` (no tag or digest).
    pub fn name(&self) -> String {
        todo!("image-core")
    }

    /// `busybox`, `org/app`, `127.0.0.1:5000/app`: the name as Docker shows it.
    pub fn familiar_name(&self) -> String {
        todo!("image-core")
    }

    /// `busybox:latest`, `busybox@sha256:...`: the whole reference as Docker shows it.
    pub fn familiar(&self) -> String {
        todo!("image-core")
    }
}

impl std::fmt::Display for Reference {
    /// The full normalised form, `docker.io/library/busybox:latest`.
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!("image-core")
    }
}
