//! Registry credentials as the docker CLI keeps them: `$DOCKER_CONFIG/config.json` (or
//! `~/.docker/config.json`) with `auths` (base64 `user:pass`, identity tokens), and
//! `credsStore`/`credHelpers` naming `docker-credential-<name>` helpers spoken to over
//! their stdin/stdout protocol (`get`, `store`, `erase`).
//!
//! Client side only: it reads and writes the user's config file and runs helpers; it never
//! talks to a registry (the daemon does, with the `X-Registry-Auth` header made from this).

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::image::registry::AuthConfig;

/// Docker Hub's key in `auths` and for helpers.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// What a helper prints when it has nothing for a server; Docker treats it as "no
/// credentials", not as an error.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// The user's docker config file, kept as JSON so that keys berth does not know survive a
/// rewrite.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    value: Map<String, Value>,
    /// `PATH` for finding helpers (the process's own unless a caller sets it).
    pub search_path: Option<OsString>,
}

/// Where `store` put credentials, for Docker's warning about plain-text storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredIn {
    File,
    Helper(String),
}

/// The config directory: `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home).join(".docker"));
    }
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .ok_or_else(|| anyhow!("cannot find the home directory for the docker config"))?;
    Ok(user.dir.join(".docker"))
}

/// The `auths`/helper key for a registry domain (Docker Hub's is a URL, for history).
pub fn auth_key_for_domain(domain: &str) -> String {
    if domain == "docker.io" || domain == "index.docker.io" {
        INDEX_SERVER.to_owned()
    } else {
        domain.to_owned()
    }
}

/// `https://host:port/v2/` -> `host:port`, as docker's `ConvertToHostname`.
pub fn convert_to_hostname(address: &str) -> String {
    let stripped = address.split_once("://").map_or(address, |(_, rest)| rest);
    stripped.split('/').next().unwrap_or(stripped).to_owned()
}

impl ConfigFile {
    /// Loads the user's config file; a missing file is an empty config.
    pub fn load() -> anyhow::Result<ConfigFile> {
        ConfigFile::load_from(&config_dir()?)
    }

    pub fn load_from(dir: &Path) -> anyhow::Result<ConfigFile> {
        let path = dir.join("config.json");
        let value = match std::fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(_) | Err(_) => bail!(
                    "loading config file: {}: invalid JSON in the docker config file",
                    path.display()
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("loading config file: {}", path.display()))
            }
        };
        Ok(ConfigFile {
            path,
            value,
            search_path: std::env::var_os("PATH"),
        })
    }

    /// The helper that holds `server`'s credentials: `credHelpers[server]`, else
    /// `credsStore`, else none (the file itself).
    pub fn helper_for(&self, server: &str) -> Option<String> {
        let specific = self
            .value
            .get("credHelpers")
            .and_then(|h| h.get(server))
            .and_then(Value::as_str);
        let general = self.value.get("credsStore").and_then(Value::as_str);
        specific
            .or(general)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
    }

    /// Credentials for `server` (an `auths` key: `https://index.docker.io/v1/`,
    /// `127.0.0.1:5000`); empty ones when none are stored.
    pub fn auth_config(&self, server: &str) -> anyhow::Result<AuthConfig> {
        let mut auth = match self.helper_for(server) {
            Some(helper) => self.helper_get(&helper, server)?,
            None => self.file_get(server)?,
        };
        auth.serveraddress = server.to_owned();
        Ok(auth)
    }

    fn auths(&self) -> Option<&Map<String, Value>> {
        self.value.get("auths").and_then(Value::as_object)
    }

    fn file_get(&self, server: &str) -> anyhow::Result<AuthConfig> {
        let Some(auths) = self.auths() else {
            return Ok(AuthConfig::default());
        };
        // An exact key first; then an old-style key (`https://host/v1/`) for the same host.
        let entry = auths.get(server).or_else(|| {
            auths
                .iter()
                .find(|(key, _)| convert_to_hostname(key) == server)
                .map(|(_, v)| v)
        });
        let Some(entry) = entry else {
            return Ok(AuthConfig::default());
        };
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let mut auth = AuthConfig {
            username: field("username"),
            password: field("password"),
            identitytoken: field("identitytoken"),
            registrytoken: field("registrytoken"),
            ..Default::default()
        };
        let encoded = field("auth");
        if !encoded.is_empty() {
            let (user, pass) = decode_auth(&encoded)?;
            auth.username = user;
            auth.password = pass;
        }
        Ok(auth)
    }

    fn helper_get(&self, helper: &str, server: &str) -> anyhow::Result<AuthConfig> {
        let output = self.run_helper(helper, "get", server.as_bytes())?;
        let Some(output) = output else {
            return Ok(AuthConfig::default());
        };
        let creds: Value = serde_json::from_slice(&output).with_context(|| {
            format!("error getting credentials - err: invalid JSON from docker-credential-{helper}")
        })?;
        let username = creds.get("Username").and_then(Value::as_str).unwrap_or("");
        let secret = creds.get("Secret").and_then(Value::as_str).unwrap_or("");
        Ok(if username == "<token>" {
            AuthConfig {
                identitytoken: secret.to_owned(),
                ..Default::default()
            }
        } else {
            AuthConfig {
                username: username.to_owned(),
                password: secret.to_owned(),
                ..Default::default()
            }
        })
    }

    /// Runs `docker-credential-<helper> <action>` with `input` on stdin. `Ok(None)` when the
    /// helper says it has no credentials for the server.
    fn run_helper(
        &self,
        helper: &str,
        action: &str,
        input: &[u8],
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let program = format!("docker-credential-{helper}");
        let mut cmd = Command::new(&program);
        cmd.arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(path) = &self.search_path {
            cmd.env("PATH", path);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("error getting credentials - err: exec: \"{program}\": executable file not found in $PATH"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is reported by its exit status.
            let _ = stdin.write_all(input);
        }
        let output = child
            .wait_with_output()
            .with_context(|| format!("running {program}"))?;
        if output.status.success() {
            return Ok(Some(output.stdout));
        }
        let message = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if message == NOT_FOUND {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        let detail = if message.is_empty() { stderr } else { message };
        bail!(
            "error {action}ing credentials - err: {}, out: `{detail}`",
            output.status
        )
    }

    /// Stores `auth` under `auth.serveraddress`, in its helper or base64 in `auths`, and
    /// saves the file.
    pub fn store(&mut self, auth: &AuthConfig) -> anyhow::Result<StoredIn> {
        let server = auth.serveraddress.clone();
        let stored = match self.helper_for(&server) {
            Some(helper) => {
                let (user, secret) = if auth.identitytoken.is_empty() {
                    (auth.username.as_str(), auth.password.as_str())
                } else {
                    ("<token>", auth.identitytoken.as_str())
                };
                let input = json!({"ServerURL": server, "Username": user, "Secret": secret});
                self.run_helper(&helper, "store", input.to_string().as_bytes())?;
                // Docker keeps an empty entry so `auths` still lists the server.
                self.auths_mut().insert(server, json!({}));
                StoredIn::Helper(helper)
            }
            None => {
                let mut entry = Map::new();
                let plain = format!("{}:{}", auth.username, auth.password);
                entry.insert(
                    "auth".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(plain)),
                );
                if !auth.identitytoken.is_empty() {
                    entry.insert(
                        "identitytoken".into(),
                        Value::String(auth.identitytoken.clone()),
                    );
                }
                self.auths_mut().insert(server, Value::Object(entry));
                StoredIn::File
            }
        };
        self.save()?;
        Ok(stored)
    }

    /// Removes `server`'s credentials from its helper and from `auths`, then saves.
    /// Fails only when there was nothing to remove anywhere.
    pub fn erase(&mut self, server: &str) -> anyhow::Result<()> {
        let helper_result = match self.helper_for(server) {
            Some(helper) => self
                .run_helper(&helper, "erase", server.as_bytes())
                .map(|o| o.is_some()),
            None => Ok(false),
        };
        let in_file = self.auths_mut().remove(server).is_some();
        if in_file {
            self.save()?;
        }
        match helper_result {
            Ok(true) => Ok(()),
            _ if in_file => Ok(()),
            Ok(false) => bail!("credentials not found"),
            Err(e) => Err(e),
        }
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        let entry = self
            .value
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(map) => map,
            // Made an object just above.
            _ => unreachable!("auths is an object"),
        }
    }

    /// Writes the file atomically (temp file + rename), mode 0600, tab-indented as Docker.
    pub fn save(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(&self.value, &mut ser).context("encoding the docker config")?;
        let tmp = dir.join(format!(".config.json.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow!("saving {}: {e}", self.path.display())
        })
    }
}

fn decode_auth(encoded: &str) -> anyhow::Result<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| anyhow!("invalid auth configuration file"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("invalid auth configuration file"))?;
    let (user, pass) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("invalid auth configuration file"))?;
    Ok((user.to_owned(), pass.trim_end_matches('\0').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(dir: &Path, json: &str) -> ConfigFile {
        std::fs::write(dir.join("config.json"), json).expect("write config");
        ConfigFile::load_from(dir).expect("loads")
    }

    #[test]
    fn auths_entry_decodes_user_and_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        // "user:pa:ss"
        let cfg = config_with(
            dir.path(),
            r#"{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpwYTpzcw=="}}}"#,
        );
        let auth = cfg.auth_config("127.0.0.1:5000").expect("reads");
        assert_eq!(auth.username, "user");
        assert_eq!(auth.password, "pa:ss");
        assert_eq!(auth.serveraddress, "127.0.0.1:5000");
    }

    #[test]
    fn legacy_url_keys_match_by_hostname() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config_with(
            dir.path(),
            r#"{"auths":{"https://reg.example:5000/v1/":{"auth":"YTpi","identitytoken":"tok"}}}"#,
        );
        let auth = cfg.auth_config("reg.example:5000").expect("reads");
        assert_eq!((auth.username.as_str(), auth.password.as_str()), ("a", "b"));
        assert_eq!(auth.identitytoken, "tok");
    }

    #[test]
    fn missing_file_and_entry_give_empty_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = ConfigFile::load_from(dir.path()).expect("loads");
        let auth = cfg.auth_config(INDEX_SERVER).expect("reads");
        assert_eq!(auth.username, "");
        assert_eq!(auth.serveraddress, INDEX_SERVER);
    }

    #[test]
    fn broken_auth_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config_with(dir.path(), r#"{"auths":{"x":{"auth":"!!!"}}}"#);
        assert_eq!(
            cfg.auth_config("x").expect_err("invalid").to_string(),
            "invalid auth configuration file"
        );
    }

    #[test]
    fn store_writes_base64_with_mode_0600_and_keeps_other_keys() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = config_with(dir.path(), r#"{"psFormat":"table {{.ID}}"}"#);
        let auth = AuthConfig {
            username: "u".into(),
            password: "p".into(),
            serveraddress: "localhost:5000".into(),
            ..Default::default()
        };
        assert_eq!(cfg.store(&auth).expect("stores"), StoredIn::File);
        let text = std::fs::read_to_string(dir.path().join("config.json")).expect("read");
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["auths"]["localhost:5000"]["auth"], "dTpw");
        assert_eq!(value["psFormat"], "table {{.ID}}");
        assert!(text.contains("\n\t\"auths\""), "tab indented: {text}");
        let mode = std::fs::metadata(dir.path().join("config.json"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        cfg.erase("localhost:5000").expect("erases");
        let again = ConfigFile::load_from(dir.path()).expect("loads");
        assert_eq!(
            again.auth_config("localhost:5000").expect("reads").username,
            ""
        );
        assert!(cfg.erase("localhost:5000").is_err());
    }

    #[test]
    fn keys_and_hostnames() {
        assert_eq!(auth_key_for_domain("docker.io"), INDEX_SERVER);
        assert_eq!(auth_key_for_domain("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(
            convert_to_hostname("https://127.0.0.1:5000/v2/"),
            "127.0.0.1:5000"
        );
        assert_eq!(convert_to_hostname("registry.local"), "registry.local");
    }

    /// A real helper process speaking the protocol, keeping one file per server.
    const HELPER: &str = r#"#!/bin/sh
dir="$(dirname "$0")/store"
mkdir -p "$dir"
input="$(cat)"
case "$1" in
get)
  key="$(printf %s "$input" | od -An -tx1 | tr -d ' \n')"
  if [ -f "$dir/$key" ]; then cat "$dir/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
  server="$(printf %s "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')"
  key="$(printf %s "$server" | od -An -tx1 | tr -d ' \n')"
  printf %s "$input" > "$dir/$key" ;;
erase)
  key="$(printf %s "$input" | od -An -tx1 | tr -d ' \n')"
  if [ -f "$dir/$key" ]; then rm "$dir/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*) echo "unknown action" >&2; exit 2 ;;
esac
"#;

    fn helper_config(dir: &Path, json: &str) -> ConfigFile {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let script = bin.join("docker-credential-test");
        std::fs::write(&script, HELPER).expect("write helper");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut cfg = config_with(dir, json);
        let mut path = OsString::from(&bin);
        path.push(":/usr/bin:/bin");
        cfg.search_path = Some(path);
        cfg
    }

    #[test]
    fn creds_store_helper_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = helper_config(dir.path(), r#"{"credsStore":"test"}"#);
        assert_eq!(cfg.auth_config("reg:5000").expect("get").username, "");
        let auth = AuthConfig {
            username: "alice".into(),
            password: "s3cret".into(),
            serveraddress: "reg:5000".into(),
            ..Default::default()
        };
        assert_eq!(
            cfg.store(&auth).expect("store"),
            StoredIn::Helper("test".into())
        );
        let got = cfg.auth_config("reg:5000").expect("get");
        assert_eq!(
            (got.username.as_str(), got.password.as_str()),
            ("alice", "s3cret")
        );
        let text = std::fs::read_to_string(dir.path().join("config.json")).expect("read");
        assert!(
            !text.contains("s3cret"),
            "secret must stay in the helper: {text}"
        );
        cfg.erase("reg:5000").expect("erase");
        assert_eq!(cfg.auth_config("reg:5000").expect("get").username, "");
    }

    #[test]
    fn cred_helpers_win_and_token_username_means_identity_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = helper_config(
            dir.path(),
            r#"{"credsStore":"absent","credHelpers":{"tok.example":"test"}}"#,
        );
        assert_eq!(cfg.helper_for("tok.example").as_deref(), Some("test"));
        assert_eq!(cfg.helper_for("other").as_deref(), Some("absent"));
        let auth = AuthConfig {
            username: "bob".into(),
            identitytoken: "idtok".into(),
            serveraddress: "tok.example".into(),
            ..Default::default()
        };
        cfg.store(&auth).expect("store");
        let got = cfg.auth_config("tok.example").expect("get");
        assert_eq!(got.identitytoken, "idtok");
        assert_eq!(got.username, "");
        let missing = cfg.auth_config("other").expect_err("helper absent");
        assert!(
            missing.to_string().contains("docker-credential-absent"),
            "{missing}"
        );
    }
}
