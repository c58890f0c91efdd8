//! Platforms (`linux/amd64`, `linux/arm64/v8`) and choosing one from an image index.
//!
//! OWNER: helper "registry".

/// An OS/architecture/variant triple, normalised like containerd's platforms package
/// (`aarch64` -> `arm64`, `x86_64` -> `amd64`, `arm64` default variant `v8`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this daemon runs containers for.
    pub fn host() -> Platform {
        todo!("registry")
    }

    /// Parses `os[/arch[/variant]]`.
    pub fn parse(_s: &str) -> Result<Platform, String> {
        todo!("registry")
    }
}
