//! Platforms (`linux/amd64`, `linux/arm64/v8`) and choosing one from an image index.
//!
//! Names are normalised like containerd's platforms package, so
//! that an index entry `arm64` (no variant) matches a host `arm64/v8`. Pure: no I/O.

use std::fmt;

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
        let arch = match std::env::consts::ARCH {
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "mips64" if cfg!(target_endian = "little") => "mips64le",
            other => other,
        };
        Platform::normalized("linux", arch, None)
    }

    /// Parses `os[/arch[/variant]]`; a lone architecture (`arm64`) means linux, a lone OS
    /// means the host's architecture, as containerd's `platforms.Parse`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let invalid =
            || format!("{s:?}: unknown operating system or architecture: invalid argument");
        let parts: Vec<&str> = s.trim().split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || p.chars().any(|c| c.is_whitespace()))
        {
            return Err(invalid());
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        match lower.as_slice() {
            [one] if is_known_os(one) => {
                let host = Platform::host();
                Ok(Platform {
                    os: one.clone(),
                    ..host
                })
            }
            [one] if is_known_arch(one) => Ok(Platform::normalized("linux", one, None)),
            [os, arch] => Ok(Platform::normalized(os, arch, None)),
            [os, arch, variant] => Ok(Platform::normalized(os, arch, Some(variant))),
            _ => Err(invalid()),
        }
    }

    /// Builds a platform from an index entry's (or a user's) words, normalised.
    pub fn normalized(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        let os = match os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(str::to_ascii_lowercase);
        let (architecture, variant) = normalize_arch(&arch.to_ascii_lowercase(), variant);
        Platform {
            os,
            architecture,
            variant,
        }
    }

    /// Whether an image built for `candidate` runs here: same OS and architecture, and the
    /// same variant, or for 32-bit arm an older one (a v7 host runs v6 and v5 images).
    pub fn matches(&self, candidate: &Platform) -> bool {
        self.match_rank(candidate).is_some()
    }

    /// How well `candidate` fits (0 is exact, higher is worse); `None` when it does not run.
    pub fn match_rank(&self, candidate: &Platform) -> Option<u32> {
        if self.os != candidate.os || self.architecture != candidate.architecture {
            return None;
        }
        if self.variant == candidate.variant {
            return Some(0);
        }
        if self.architecture != "arm" {
            return None;
        }
        let want = arm_level(self.variant.as_deref())?;
        let have = arm_level(candidate.variant.as_deref())?;
        (have <= want).then(|| want - have)
    }
}

impl fmt::Display for Platform {
    /// `linux/arm64/v8`, containerd's `platforms.Format`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// containerd's `normalizeArch`, except that arm64's implied variant is spelled `v8`.
fn normalize_arch(arch: &str, variant: Option<String>) -> (String, Option<String>) {
    match arch {
        "i386" | "386" => ("386".into(), None),
        "x86_64" | "x86-64" | "amd64" => {
            let variant = variant.filter(|v| v != "v1");
            ("amd64".into(), variant)
        }
        "aarch64" | "arm64" => {
            let variant = match variant.as_deref() {
                None | Some("8") | Some("v8") | Some("v8.0") => "v8".to_string(),
                Some("9") | Some("9.0") | Some("v9.0") => "v9".to_string(),
                Some(v) if v.starts_with('v') => v.to_string(),
                Some(v) => format!("v{v}"),
            };
            ("arm64".into(), Some(variant))
        }
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        "arm" => {
            let variant = match variant.as_deref() {
                None | Some("7") => "v7".to_string(),
                Some("5") | Some("6") | Some("8") => format!("v{}", variant.unwrap_or_default()),
                Some(v) => v.to_string(),
            };
            ("arm".into(), Some(variant))
        }
        other => (other.to_string(), variant),
    }
}

/// `v7` -> 7, for the arm rule that newer cores run older variants.
fn arm_level(variant: Option<&str>) -> Option<u32> {
    variant?.strip_prefix('v')?.parse().ok()
}

fn is_known_os(s: &str) -> bool {
    matches!(
        s,
        "linux"
            | "windows"
            | "darwin"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "solaris"
            | "illumos"
            | "android"
    )
}

fn is_known_arch(s: &str) -> bool {
    matches!(
        s,
        "amd64"
            | "x86_64"
            | "x86-64"
            | "386"
            | "i386"
            | "arm"
            | "armhf"
            | "armel"
            | "arm64"
            | "aarch64"
            | "ppc64le"
            | "s390x"
            | "riscv64"
            | "mips64le"
            | "loong64"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        Platform::parse(s).expect("valid platform")
    }

    #[test]
    fn host_is_linux_with_an_oci_architecture() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert_ne!(host.architecture, "x86_64");
        assert_ne!(host.architecture, "aarch64");
        if cfg!(target_arch = "x86_64") {
            assert_eq!(host.to_string(), "linux/amd64");
        }
    }

    #[test]
    fn aliases_are_normalised() {
        assert_eq!(p("linux/x86_64"), p("linux/amd64"));
        assert_eq!(p("linux/aarch64").to_string(), "linux/arm64/v8");
        assert_eq!(p("linux/armhf").to_string(), "linux/arm/v7");
        assert_eq!(p("linux/arm").to_string(), "linux/arm/v7");
        assert_eq!(p("arm64").to_string(), "linux/arm64/v8");
    }

    #[test]
    fn arm64_without_variant_matches_v8() {
        let host = p("linux/arm64/v8");
        assert!(host.matches(&Platform::normalized("linux", "arm64", None)));
        assert!(!host.matches(&p("linux/amd64")));
    }

    #[test]
    fn arm_v7_runs_v6_but_v6_does_not_run_v7() {
        assert!(p("linux/arm/v7").matches(&p("linux/arm/v6")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
        assert_eq!(p("linux/arm/v7").match_rank(&p("linux/arm/v7")), Some(0));
        assert_eq!(p("linux/arm/v7").match_rank(&p("linux/arm/v5")), Some(2));
    }

    #[test]
    fn os_must_match() {
        assert!(!p("linux/amd64").matches(&p("windows/amd64")));
        assert!(!p("linux/amd64").matches(&Platform::normalized("unknown", "unknown", None)));
    }

    #[test]
    fn bad_strings_are_refused() {
        assert!(Platform::parse("").is_err());
        assert!(Platform::parse("linux//v7").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert!(Platform::parse("nonsense").is_err());
    }
}
