//! Registry authentication: credentials from Docker's `AuthConfig`, `WWW-Authenticate`
//! challenges (Bearer and Basic), token requests, and `login` for `POST /auth`.
//!
//! Tokens are cached by the client per (registry, scopes, credentials) until they expire, so
//! parallel layer downloads and back-to-back pulls ask the token server once. Nothing here
//! logs or prints a secret: `Credentials`' `Debug` hides them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::{endpoint, status_text, RegistryClient, RegistryError};
use crate::image::digest::Digest;
use crate::image::registry::AuthConfig;

/// What a request may present, decided once from an `AuthConfig`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Credentials {
    Anonymous,
    /// Username and password: sent as Basic auth, or to the token server.
    Basic {
        username: String,
        password: String,
    },
    /// An identity token from an earlier login: a refresh token for the token server.
    RefreshToken {
        username: String,
        token: String,
    },
    /// A registry token, presented as it is as a Bearer token.
    RegistryToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username})"),
            Credentials::RefreshToken { username, .. } => write!(f, "RefreshToken({username})"),
            Credentials::RegistryToken(_) => f.write_str("RegistryToken"),
        }
    }
}

impl Credentials {
    /// Docker's precedence: a registry token, then an identity token, then username and
    /// password (or `auth`, base64 `user:pass`).
    pub fn from_auth(auth: Option<&AuthConfig>) -> Credentials {
        let Some(auth) = auth else {
            return Credentials::Anonymous;
        };
        if !auth.registrytoken.is_empty() {
            return Credentials::RegistryToken(auth.registrytoken.clone());
        }
        let (mut username, mut password) = (auth.username.clone(), auth.password.clone());
        if username.is_empty() && !auth.auth.is_empty() {
            if let Some((u, p)) = decode_basic(&auth.auth) {
                (username, password) = (u, p);
            }
        }
        if !auth.identitytoken.is_empty() {
            return Credentials::RefreshToken {
                username,
                token: auth.identitytoken.clone(),
            };
        }
        if username.is_empty() && password.is_empty() {
            return Credentials::Anonymous;
        }
        Credentials::Basic { username, password }
    }

    /// A stable key for the token cache that does not keep the secret itself.
    fn cache_key(&self) -> String {
        let material = match self {
            Credentials::Anonymous => return "anonymous".to_string(),
            Credentials::Basic { username, password } => format!("basic\0{username}\0{password}"),
            Credentials::RefreshToken { username, token } => {
                format!("refresh\0{username}\0{token}")
            }
            Credentials::RegistryToken(t) => format!("registry\0{t}"),
        };
        Digest::of_bytes(material.as_bytes()).to_string()
    }

    fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(basic_header(username, password)),
            _ => None,
        }
    }
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn basic_header(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Token cache key: registry domain, space-joined scopes, credentials key.
pub(crate) type CacheKey = (String, String, String);

/// An `Authorization` value and when it stops being good.
#[derive(Clone, Debug)]
pub(crate) struct CachedAuth {
    pub header: String,
    pub expires: Option<Instant>,
}

impl CachedAuth {
    fn is_fresh(&self) -> bool {
        self.expires.is_none_or(|t| Instant::now() < t)
    }
}

pub(crate) fn cache_key(domain: &str, scopes: &[String], creds: &Credentials) -> CacheKey {
    (domain.to_string(), scopes.join(" "), creds.cache_key())
}

impl RegistryClient {
    pub(crate) fn cached_auth(&self, key: &CacheKey) -> Option<String> {
        let mut cache = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(key) {
            Some(entry) if entry.is_fresh() => Some(entry.header.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn remember_auth(&self, key: CacheKey, entry: CachedAuth) {
        let mut cache = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(key, entry);
    }
}

/// One `WWW-Authenticate` challenge: `Bearer realm="...",service="...",scope="..."`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// Lowercase: `bearer`, `basic`.
    pub scheme: String,
    pub params: HashMap<String, String>,
}

/// Parses every challenge in `header` (RFC 7235: schemes with comma-separated parameters).
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let (word, after) = take_token(rest);
        if word.is_empty() {
            break;
        }
        let after_ws = after.trim_start();
        if after_ws.starts_with('=') && !out.is_empty() {
            // A parameter of the current challenge.
            let (value, next) = take_value(after_ws[1..].trim_start());
            if let Some(current) = out.last_mut() {
                current.params.insert(word.to_ascii_lowercase(), value);
            }
            rest = next;
        } else {
            out.push(Challenge {
                scheme: word.to_ascii_lowercase(),
                params: HashMap::new(),
            });
            rest = after;
        }
    }
    out
}

fn take_token(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| c == '=' || c == ',' || c.is_whitespace())
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn take_value(s: &str) -> (String, &str) {
    let Some(quoted) = s.strip_prefix('"') else {
        let end = s
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(s.len());
        return (s[..end].to_string(), &s[end..]);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '"' => return (value, &quoted[i + 1..]),
            other => value.push(other),
        }
    }
    (value, "")
}

/// A token server's answer (`token` or `access_token`, Docker accepts both).
#[derive(Debug, Default, Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    refresh_token: String,
}

/// An `Authorization` value for a request that got `challenges`, and a refresh token when
/// the token server handed one out (login asks for it with `offline`).
pub(crate) async fn authorize(
    client: &RegistryClient,
    challenges: &[Challenge],
    creds: &Credentials,
    scopes: &[String],
    offline: bool,
) -> Result<(CachedAuth, Option<String>), RegistryError> {
    if let Credentials::RegistryToken(token) = creds {
        let entry = CachedAuth {
            header: format!("Bearer {token}"),
            expires: None,
        };
        return Ok((entry, None));
    }
    if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
        return fetch_token(client, bearer, creds, scopes, offline).await;
    }
    if challenges.iter().any(|c| c.scheme == "basic") {
        let header = creds
            .basic_header()
            .ok_or_else(|| unauthorized("no basic auth credentials"))?;
        return Ok((
            CachedAuth {
                header,
                expires: None,
            },
            None,
        ));
    }
    Err(unauthorized("unauthorized: authentication required"))
}

fn unauthorized(message: &str) -> RegistryError {
    RegistryError::Unauthorized {
        method: String::new(),
        url: String::new(),
        message: message.to_string(),
    }
}

/// Asks the token server for a Bearer token: GET with Basic credentials, or POST with the
/// refresh token (the OAuth2 form Docker uses for identity tokens).
async fn fetch_token(
    client: &RegistryClient,
    challenge: &Challenge,
    creds: &Credentials,
    scopes: &[String],
    offline: bool,
) -> Result<(CachedAuth, Option<String>), RegistryError> {
    let realm = challenge
        .params
        .get("realm")
        .ok_or_else(|| unauthorized("bearer challenge without realm"))?;
    let service = challenge.params.get("service").cloned().unwrap_or_default();
    let request = match creds {
        Credentials::RefreshToken { token, .. } => {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token.clone()),
                ("client_id", "docker".to_string()),
                ("service", service.clone()),
            ];
            if !scopes.is_empty() {
                form.push(("scope", scopes.join(" ")));
            }
            client.http().post(realm).form(&form)
        }
        _ => {
            let mut query: Vec<(&str, String)> = vec![("service", service.clone())];
            query.extend(scopes.iter().map(|s| ("scope", s.clone())));
            if let Credentials::Basic { username, password } = creds {
                query.push(("account", username.clone()));
                if offline {
                    query.push(("offline_token", "true".to_string()));
                    query.push(("client_id", "docker".to_string()));
                }
                client
                    .http()
                    .get(realm)
                    .query(&query)
                    .basic_auth(username, Some(password))
            } else {
                client.http().get(realm).query(&query)
            }
        }
    };
    let method = if matches!(creds, Credentials::RefreshToken { .. }) {
        "Post"
    } else {
        "Get"
    };
    let response = request
        .send()
        .await
        .map_err(|e| super::session::transport_error(method, realm, &e))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| super::session::transport_error(method, realm, &e))?;
    if status != 200 {
        let errors = super::session::parse_error_body(&body);
        let message = match errors.first() {
            Some(e) => e.to_string(),
            None => format!(
                "token auth attempt for registry: {realm} request failed with status: {}",
                status_text(status)
            ),
        };
        return Err(unauthorized(&message));
    }
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| unauthorized(&format!("unable to decode token response: {e}")))?;
    let token = if parsed.token.is_empty() {
        parsed.access_token
    } else {
        parsed.token
    };
    if token.is_empty() {
        return Err(unauthorized(
            "authorization server did not include a token in the response",
        ));
    }
    // Docker treats anything under a minute as a minute; we renew a little early.
    let lifetime = Duration::from_secs(parsed.expires_in.max(60).saturating_sub(5));
    let entry = CachedAuth {
        header: format!("Bearer {token}"),
        expires: Some(Instant::now() + lifetime),
    };
    let refresh = (!parsed.refresh_token.is_empty()).then_some(parsed.refresh_token);
    Ok((entry, refresh))
}

/// Docker's `loginV2`: `/v2/` must answer 200 with the credentials.
pub(crate) async fn login(
    client: &RegistryClient,
    domain: &str,
    creds: &Credentials,
) -> Result<Option<String>, String> {
    let url = format!("{}/v2/", endpoint::base_url(domain, client.config()));
    let get = |authorization: Option<&str>| {
        let mut request = client.http().get(&url);
        if let Some(value) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        request.send()
    };
    let describe = |e: reqwest::Error| super::session::transport_error("Get", &url, &e).to_string();
    let first = get(None).await.map_err(describe)?;
    let status = first.status().as_u16();
    if status == 200 {
        return Ok(None);
    }
    if status != 401 {
        return Err(login_failed(&url, status));
    }
    let challenges: Vec<Challenge> = first
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .collect();
    let (entry, refresh) = authorize(client, &challenges, creds, &[], true)
        .await
        .map_err(|e| match e {
            RegistryError::Unauthorized { message, .. } => format!("Get \"{url}\": {message}"),
            other => other.to_string(),
        })?;
    let second = get(Some(&entry.header)).await.map_err(describe)?;
    match second.status().as_u16() {
        200 => Ok(refresh),
        other => Err(login_failed(&url, other)),
    }
}

fn login_failed(url: &str, status: u16) -> String {
    format!(
        "login attempt to {url} failed with status: {}",
        status_text(status)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_is_parsed() {
        let cs = parse_challenges(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#,
        );
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "bearer");
        assert_eq!(cs[0].params["realm"], "https://auth.docker.io/token");
        assert_eq!(cs[0].params["service"], "registry.docker.io");
        assert_eq!(
            cs[0].params["scope"],
            "repository:library/busybox:pull,push"
        );
    }

    #[test]
    fn several_challenges_and_escapes() {
        let cs = parse_challenges(r#"Basic realm="a \"b\"", Bearer realm=x,service=y"#);
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].scheme, "basic");
        assert_eq!(cs[0].params["realm"], "a \"b\"");
        assert_eq!(cs[1].params["realm"], "x");
        assert_eq!(cs[1].params["service"], "y");
    }

    #[test]
    fn credentials_follow_dockers_precedence() {
        let mut a = AuthConfig {
            auth: base64::engine::general_purpose::STANDARD.encode("u:p:x"),
            ..Default::default()
        };
        assert_eq!(
            Credentials::from_auth(Some(&a)),
            Credentials::Basic {
                username: "u".into(),
                password: "p:x".into()
            }
        );
        a.identitytoken = "tok".into();
        assert!(matches!(
            Credentials::from_auth(Some(&a)),
            Credentials::RefreshToken { .. }
        ));
        a.registrytoken = "rt".into();
        assert_eq!(
            Credentials::from_auth(Some(&a)),
            Credentials::RegistryToken("rt".into())
        );
        assert_eq!(
            Credentials::from_auth(Some(&AuthConfig::default())),
            Credentials::Anonymous
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn cache_keys_differ_by_credentials_and_scope() {
        let anon = Credentials::Anonymous;
        let basic = Credentials::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let s = vec!["repository:a:pull".to_string()];
        assert_ne!(cache_key("r", &s, &anon), cache_key("r", &s, &basic));
        assert_ne!(cache_key("r", &s, &anon), cache_key("r", &[], &anon));
    }
}
