//! Registry client: the Distribution API v2 over HTTPS (plain HTTP for localhost,
//! 127.0.0.0/8 and configured insecure registries), anonymous, Bearer-token and Basic auth.
//!
//! Streams blobs (never a whole layer in memory). This module speaks
//! HTTP and knows the wire formats; it never writes image metadata (that is `pull`/`push`,
//! through the store). Entry points: `RegistryClient::session` for one repository, `login`.
//!
//! * `endpoint.rs`: which URL a registry domain is reached at (HTTP or HTTPS).
//! * `auth.rs`: credentials, `WWW-Authenticate` challenges, the token cache.
//! * `session.rs`: requests against one repository, retried once after authenticating;
//!   registry error bodies turned into `RegistryError`.
//! * `manifest.rs`: manifest and index documents, media types, platform choice.
//! * `blobs.rs`: blob downloads streamed into the store.
//! * `upload.rs`: blob uploads (cross-repository mounts, streamed PUT) and manifest PUT.

mod auth;
pub mod blobs;
mod endpoint;
pub mod manifest;
mod session;
pub mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::reference::Reference;
use super::store::StoreError;

pub use auth::Credentials;
pub use endpoint::{base_url, is_plain_http};
pub use session::{Access, Session};

/// Credentials as the `X-Registry-Auth` header carries them (base64url JSON), Docker's
/// `AuthConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

/// Daemon-wide registry settings (from the daemon config file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryConfig {
    /// Hosts (`host:port`) or CIDRs reached over plain HTTP.
    #[serde(default, rename = "insecure-registries")]
    pub insecure_registries: Vec<String>,
}

/// One entry of a registry's error body (`{"errors":[{"code":"MANIFEST_UNKNOWN",...}]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DENIED`, `UNAUTHORIZED`, ...
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    /// Docker's errcode form: `manifest unknown: manifest unknown`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self.code.to_ascii_lowercase().replace('_', " ");
        if self.message.is_empty() {
            f.write_str(&code)
        } else {
            write!(f, "{code}: {}", self.message)
        }
    }
}

/// What went wrong talking to a registry. Messages are worded as Docker's.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No usable answer: connection refused, reset, TLS failure, body cut short.
    #[error("{method} \"{url}\": {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
    /// Authentication failed: no credentials for a Basic registry, wrong ones, token refused.
    #[error("{method} \"{url}\": {message}")]
    Unauthorized {
        method: String,
        url: String,
        message: String,
    },
    /// The registry answered with an error status, with its error codes when it sent any.
    #[error("{}", format_api_errors(*status, errors))]
    Api { status: u16, errors: Vec<ApiError> },
    /// Content that is not what it claims (digest) or not a format we take.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryError {
    /// The first registry error code, when the registry sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            RegistryError::Api { errors, .. } => errors.first().map(|e| e.code.as_str()),
            _ => None,
        }
    }

    /// The HTTP status the registry answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Api { status, .. } => Some(*status),
            RegistryError::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }
}

/// Docker's `errcode.Errors` text; a bare status when the body had no error codes.
fn format_api_errors(status: u16, errors: &[ApiError]) -> String {
    match errors {
        [] => format!("received unexpected HTTP status: {}", status_text(status)),
        [one] => one.to_string(),
        many => {
            let mut s = String::from("errors:\n");
            for e in many {
                s.push_str(&e.to_string());
                s.push('\n');
            }
            s
        }
    }
}

/// `404 Not Found`, as Go's `resp.Status`.
pub(crate) fn status_text(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_string()
}

/// The daemon's one registry client: connection pool and token cache shared by every pull.
/// Cloning shares both.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    http: reqwest::Client,
    config: RegistryConfig,
    tokens: Mutex<HashMap<auth::CacheKey, auth::CachedAuth>>,
}

impl RegistryClient {
    pub fn new(config: &RegistryConfig) -> RegistryClient {
        let http = reqwest::Client::builder()
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            // A registry that stops sending mid-layer must not hang a pull forever.
            .read_timeout(Duration::from_secs(120))
            .build()
            // Building fails only when the TLS backend cannot initialise; the default
            // client has the same backend, so this keeps the daemon up either way.
            .unwrap_or_else(|_| reqwest::Client::new());
        RegistryClient {
            inner: Arc::new(ClientInner {
                http,
                config: config.clone(),
                tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// A session on the repository of `reference` with the access a pull or push needs.
    pub fn session(
        &self,
        reference: &Reference,
        auth: Option<&AuthConfig>,
        access: Access,
    ) -> Session {
        Session::new(
            self.clone(),
            reference,
            Credentials::from_auth(auth),
            access,
        )
    }

    /// Checks credentials against `auth.serveraddress` (Docker's `POST /auth`); returns the
    /// identity token when the registry hands one out.
    pub async fn login(&self, auth: &AuthConfig) -> Result<Option<String>, String> {
        let domain = endpoint::domain_of_server_address(&auth.serveraddress);
        auth::login(self, &domain, &Credentials::from_auth(Some(auth))).await
    }
}

/// Digest of bytes that claim to be `expected` (a manifest named by digest, or with a
/// `Docker-Content-Digest` header).
pub(crate) fn verify_digest(bytes: &[u8], expected: &Digest) -> Result<Digest, RegistryError> {
    let actual = Digest::of_bytes(bytes);
    if &actual == expected {
        Ok(actual)
    } else {
        Err(RegistryError::Invalid(format!(
            "manifest verification failed for digest {expected}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_read_as_docker_prints_them() {
        let e = RegistryError::Api {
            status: 404,
            errors: vec![ApiError {
                code: "MANIFEST_UNKNOWN".into(),
                message: "manifest unknown".into(),
            }],
        };
        assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
        assert_eq!(e.code(), Some("MANIFEST_UNKNOWN"));
        let bare = RegistryError::Api {
            status: 502,
            errors: vec![],
        };
        assert_eq!(
            bare.to_string(),
            "received unexpected HTTP status: 502 Bad Gateway"
        );
    }

    #[test]
    fn manifest_digest_is_checked() {
        let d = Digest::of_bytes(b"{}");
        assert!(verify_digest(b"{}", &d).is_ok());
        let err = verify_digest(b"{ }", &d).expect_err("mismatch");
        assert!(err.to_string().contains("verification failed"), "{err}");
    }
}
