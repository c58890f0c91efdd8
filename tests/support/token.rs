//! A Distribution token server for the test registry's Bearer auth: it checks Basic
//! credentials and answers RS256 JWTs granting the scopes asked for, signed by a throwaway
//! key whose self-signed certificate the registry trusts (the `x5c` header carries it).
//!
//! Threads only; keys and certificates come from the `openssl` command. Drop stops accepting.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::json;

/// `service` the registry expects in the token's audience.
pub const SERVICE: &str = "berth-test-registry";
/// `issuer` the registry expects.
pub const ISSUER: &str = "berth-test-issuer";

/// A running token server.
pub struct TokenServer {
    port: u16,
    dir: tempfile::TempDir,
    shared: Arc<Shared>,
}

struct Shared {
    user: String,
    pass: String,
    key: PathBuf,
    /// The certificate, DER, base64 (standard) for the `x5c` header.
    cert_der_b64: String,
    stopping: AtomicBool,
    /// Tokens handed out so far (to see the client caches them).
    issued: AtomicU64,
    /// Requests refused for bad or missing credentials.
    refused: AtomicU64,
}

impl TokenServer {
    /// Starts a token server accepting only `user`/`pass`.
    pub fn start(user: &str, pass: &str) -> TokenServer {
        let dir = tempfile::Builder::new()
            .prefix("berth-token")
            .tempdir()
            .expect("token tempdir");
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        make_key_and_cert(&key, &cert);
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .expect("openssl runs");
        assert!(der.status.success(), "openssl x509 -outform DER failed");
        let listener = TcpListener::bind("127.0.0.1:0").expect("token server bind");
        let port = listener.local_addr().expect("token server addr").port();
        let shared = Arc::new(Shared {
            user: user.to_string(),
            pass: pass.to_string(),
            key,
            cert_der_b64: base64::engine::general_purpose::STANDARD.encode(der.stdout),
            stopping: AtomicBool::new(false),
            issued: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        std::thread::spawn(move || accept_loop(listener, accept_shared));
        TokenServer { port, dir, shared }
    }

    /// The `realm` URL the registry sends clients to.
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The certificate the registry must trust (`rootcertbundle`).
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// Tokens issued so far.
    pub fn issued(&self) -> u64 {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn make_key_and_cert(key: &Path, cert: &Path) {
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=berth-test-token"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let _ = serve(stream, &shared);
        });
    }
}

/// One request: `GET /token?service=..&scope=..` with Basic auth (Docker's flow), or `POST
/// /token` with a password grant form (the OAuth2 flow).
fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = None;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value),
            "content-length" => content_length = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q).to_string();
    let is_post = request_line.starts_with("POST");
    let params = parse_form(if is_post {
        std::str::from_utf8(&body).unwrap_or("")
    } else {
        &query
    });
    let creds = if is_post {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        get("username").zip(get("password"))
    } else {
        authorization.as_deref().and_then(decode_basic)
    };
    if creds != Some((shared.user.clone(), shared.pass.clone())) {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        return respond(
            stream,
            "401 Unauthorized",
            &json!({"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]}),
        );
    }
    let scopes: Vec<&str> = params
        .iter()
        .filter(|(n, _)| n == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .collect();
    let token = sign_token(shared, &scopes)?;
    shared.issued.fetch_add(1, Ordering::SeqCst);
    respond(
        stream,
        "200 OK",
        &json!({"token": token, "access_token": token, "expires_in": 300}),
    )
}

fn respond(mut stream: TcpStream, status: &str, body: &serde_json::Value) -> std::io::Result<()> {
    let body = body.to_string();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An RS256 JWT for `scopes` (`repository:name:pull,push`), signed with `openssl dgst`.
fn sign_token(shared: &Shared, scopes: &[&str]) -> std::io::Result<String> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let access: Vec<_> = scopes
        .iter()
        .filter_map(|s| {
            let (kind, rest) = s.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [shared.cert_der_b64]});
    let claims = json!({
        "iss": ISSUER, "sub": shared.user, "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", shared.issued.load(Ordering::SeqCst)),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&shared.key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(std::io::Error::other("openssl dgst -sign failed"));
    }
    Ok(format!("{input}.{}", b64(&out.stdout)))
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// `a=b&c=d` with `%XX` and `+` decoded.
fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
