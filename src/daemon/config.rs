//! `<root>/daemon.json`: the daemon's optional configuration file, in dockerd's key names.
//!
//! Only reads; unknown keys are ignored (a dockerd config can be reused as is), a file that
//! is not valid JSON is an error naming the file, line and column.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::image::registry::RegistryConfig;

/// The keys of `daemon.json` berth honours.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct FileConfig {
    /// Registries reached over plain HTTP (`host:port` or CIDR).
    #[serde(default, rename = "insecure-registries")]
    pub insecure_registries: Vec<String>,
    /// `"debug": true` turns on debug logs, as `--debug` does.
    #[serde(default)]
    pub debug: bool,
    /// Where automatic network subnets come from (`[{"base":"172.80.0.0/16","size":24}]`);
    /// empty: Docker's defaults.
    #[serde(default, rename = "default-address-pools")]
    pub default_address_pools: Vec<crate::net::ipam::PoolSpec>,
    /// MTU of the bridges and container interfaces (1500 when absent).
    #[serde(default)]
    pub mtu: Option<u32>,
    /// The default `bridge` network's gateway address with its prefix (`172.17.0.1/16`).
    #[serde(default)]
    pub bip: Option<String>,
    /// Upstream resolvers for the embedded DNS (the host's `resolv.conf` when empty).
    #[serde(default)]
    pub dns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid daemon configuration {}: line {line}, column {column}: {message}", .path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Reads `<root>/daemon.json`; a missing file is the default configuration.
pub fn read(root: &Path) -> Result<FileConfig, ConfigError> {
    let path = root.join("daemon.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    serde_json::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json appends " at line L column C", which the error already says.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl FileConfig {
    /// The command line's registry settings with the file's added.
    pub fn merge_registry(&self, base: &RegistryConfig) -> RegistryConfig {
        let mut merged = base.clone();
        for r in &self.insecure_registries {
            if !merged.insecure_registries.contains(r) {
                merged.insecure_registries.push(r.clone());
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_ignored() {
        let c = parse(
            Path::new("/r/daemon.json"),
            r#"{"insecure-registries":["10.0.0.0/8","reg:5000"],"log-driver":"json-file"}"#,
        )
        .expect("parses");
        assert_eq!(c.insecure_registries, ["10.0.0.0/8", "reg:5000"]);
    }

    #[test]
    fn bad_json_names_file_and_line() {
        let err = parse(
            Path::new("/r/daemon.json"),
            "{\n  \"debug\": true,,\n  \"x\": 1\n}",
        )
        .expect_err("bad");
        let text = err.to_string();
        assert!(text.contains("/r/daemon.json"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn network_keys_are_read() {
        let c = parse(
            Path::new("/r/daemon.json"),
            r#"{"default-address-pools":[{"base":"172.80.0.0/16","size":24}],"mtu":1400,"bip":"10.9.0.1/24","dns":["1.1.1.1"]}"#,
        )
        .expect("parses");
        assert_eq!(c.default_address_pools.len(), 1);
        assert_eq!(c.default_address_pools[0].base.to_string(), "172.80.0.0/16");
        assert_eq!(c.default_address_pools[0].size, 24);
        assert_eq!(c.mtu, Some(1400));
        assert_eq!(c.bip.as_deref(), Some("10.9.0.1/24"));
        assert_eq!(c.dns, ["1.1.1.1"]);
    }

    #[test]
    fn missing_file_is_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path()).expect("reads"), FileConfig::default());
    }

    #[test]
    fn merge_keeps_both_without_duplicates() {
        let base: RegistryConfig =
            serde_json::from_str(r#"{"insecure-registries":["a:1"]}"#).expect("config");
        let file = FileConfig {
            insecure_registries: vec!["a:1".into(), "b:2".into()],
            ..FileConfig::default()
        };
        assert_eq!(
            file.merge_registry(&base).insecure_registries,
            ["a:1", "b:2"]
        );
    }
}
