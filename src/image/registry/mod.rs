//! Registry client: the Distribution API v2 over HTTPS (plain HTTP for localhost,
//! 127.0.0.0/8 and configured insecure registries), anonymous, Bearer-token and Basic auth.
//!
//! OWNER: helper "registry". Streams blobs (never a whole layer in memory).

use serde::{Deserialize, Serialize};

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

/// The daemon's one registry client: connection pool and token cache shared by every pull.
pub struct RegistryClient {
    _private: (),
}

impl RegistryClient {
    pub fn new(_config: &RegistryConfig) -> RegistryClient {
        todo!("registry")
    }

    /// Checks credentials against `auth.serveraddress` (Docker's `POST /auth`); returns the
    /// identity token when the registry hands one out.
    pub async fn login(&self, _auth: &AuthConfig) -> Result<Option<String>, String> {
        todo!("registry")
    }
}
