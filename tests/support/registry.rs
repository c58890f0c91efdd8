//! A real Distribution registry (Debian's `docker-registry`) on 127.0.0.1, with its storage in
//! a temporary directory: plain, or behind htpasswd Basic auth.
//!
//! `kill()`/`restart()` keep the port and the storage, so a test can cut a pull short and
//! resume it. Drop kills the process by PID and waits for it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The registry binary; its absence skips loudly (see `require`).
pub const BINARY: &str = "docker-registry";

/// A running (or deliberately stopped) registry.
pub struct Registry {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    /// `user:password` when the registry wants Basic or token auth.
    creds: Option<(String, String)>,
    /// The token server when the registry wants Bearer tokens.
    token: Option<super::token::TokenServer>,
}

/// Whether the registry can be started; otherwise prints the loud skip line.
pub fn require(test: &str) -> bool {
    super::require_tool(BINARY, test)
}

impl Registry {
    /// A registry that answers anyone.
    pub fn start() -> Registry {
        Registry::launch(None, None)
    }

    /// A registry that wants Basic auth with `user`/`pass` (bcrypt htpasswd, as the registry
    /// accepts no other hash).
    pub fn start_with_htpasswd(user: &str, pass: &str) -> Registry {
        Registry::launch(Some((user.to_string(), pass.to_string())), None)
    }

    /// A registry that wants Bearer tokens from its own token server, which hands them out
    /// for `user`/`pass` (Basic auth on `GET`, or an OAuth2 password grant on `POST`).
    pub fn start_with_token(user: &str, pass: &str) -> Registry {
        let token = super::token::TokenServer::start(user, pass);
        Registry::launch(Some((user.to_string(), pass.to_string())), Some(token))
    }

    fn launch(
        creds: Option<(String, String)>,
        token: Option<super::token::TokenServer>,
    ) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry")
            .tempdir()
            .expect("registry tempdir");
        std::fs::create_dir_all(dir.path().join("storage")).expect("storage dir");
        let mut registry = Registry {
            dir,
            port: super::free_port(),
            child: None,
            creds,
            token,
        };
        if let (Some((user, pass)), None) = (&registry.creds, &registry.token) {
            write_htpasswd(&registry.dir.path().join("htpasswd"), user, pass);
        }
        registry.write_config();
        registry.spawn();
        registry
    }

    /// `127.0.0.1:PORT`, what image references start with.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry's storage root (blobs live under `docker/registry/v2/blobs/sha256/`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry stores the blob `digest` (`sha256:hex`).
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The token server of a `start_with_token` registry.
    pub fn token_server(&self) -> Option<&super::token::TokenServer> {
        self.token.as_ref()
    }

    /// `Some((user, pass))` for an auth registry.
    pub fn creds(&self) -> Option<(&str, &str)> {
        self.creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The registry's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// SIGKILLs the registry; storage and port stay for `restart`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            super::kill9_child(&mut child);
        }
    }

    /// Starts the registry again on the same port and storage.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// `GET path` (with Basic auth when the registry has credentials): status and body.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let auth = self.creds.as_ref().map(|(u, p)| basic_auth(u, p));
        http_get(&self.addr(), path, auth.as_deref(), &[]).expect("registry answers")
    }

    fn write_config(&self) {
        let storage = self.storage_dir();
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{}\n",
            storage.display(),
            self.port
        );
        if let Some(token) = &self.token {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                 rootcertbundle: {}\n",
                token.realm(),
                super::token::SERVICE,
                super::token::ISSUER,
                token.cert_path().display()
            ));
        } else if self.creds.is_some() {
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                self.dir.path().join("htpasswd").display()
            ));
        }
        std::fs::write(self.dir.path().join("config.yml"), config).expect("registry config");
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("registry.log"))
            .expect("registry log");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        self.child = Some(child);
        let addr = self.addr();
        let up = super::wait_until(Duration::from_secs(20), || {
            http_get(&addr, "/v2/", None, &[]).is_ok()
        });
        assert!(
            up,
            "registry on {addr} never answered /v2/:\n{}",
            self.log()
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A bcrypt htpasswd file (`htpasswd -B`), the only hash the registry accepts.
fn write_htpasswd(path: &Path, user: &str, pass: &str) {
    let out = Command::new("htpasswd")
        .args(["-Bbn", user, pass])
        .output()
        .expect("htpasswd runs (apache2-utils)");
    assert!(out.status.success(), "htpasswd failed");
    std::fs::write(path, out.stdout).expect("write htpasswd");
}

/// The `Authorization` value for Basic auth.
pub fn basic_auth(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {token}")
}

/// A one-shot HTTP/1.1 GET over TCP (no client library: the fixture must not depend on the
/// code under test). Returns the status and the body (read to the end; `Connection: close`).
pub fn http_get(
    addr: &str,
    path: &str,
    authorization: Option<&str>,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(auth) = authorization {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    parse_response(&response)
}

/// Status and body of a raw HTTP/1.1 response (chunked bodies are de-chunked).
pub fn parse_response(response: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..head_end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no status"))?;
    let body = &response[head_end + 4..];
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("bad chunk"))?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let size = usize::from_str_radix(&size_text, 16).map_err(|_| bad("bad chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok((status, out));
        }
        if rest.len() < size {
            return Err(bad("short chunk"));
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
}
