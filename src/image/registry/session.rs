//! Requests against one repository of one registry, authenticated on demand.
//!
//! A request goes out with the session's `Authorization` (or a cached one); on 401 the
//! challenge is answered (token or Basic) and the request is sent once more. Error statuses
//! become `RegistryError` with the registry's own error codes. Nothing here knows manifests
//! or blobs.

use std::sync::Mutex;

use reqwest::{Method, RequestBuilder, Response};

use super::auth::{self, Challenge, Credentials};
use super::{endpoint, ApiError, RegistryClient, RegistryError};
use crate::image::reference::Reference;

/// What a session will do, which decides the token scopes it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    Pull,
    /// Push, and pull from these other repositories of the same registry (blob mounts).
    Push {
        mount_from: Vec<String>,
    },
}

/// One repository (`library/busybox` on `docker.io`) with its credentials.
pub struct Session {
    client: RegistryClient,
    domain: String,
    base: String,
    repository: String,
    scopes: Vec<String>,
    creds: Credentials,
    /// The `Authorization` value that last worked, reused by every later request.
    authorization: Mutex<Option<String>>,
}

impl Session {
    pub(crate) fn new(
        client: RegistryClient,
        reference: &Reference,
        creds: Credentials,
        access: Access,
    ) -> Session {
        let repository = reference.path.clone();
        let mut scopes = Vec::new();
        match access {
            Access::Pull => scopes.push(format!("repository:{repository}:pull")),
            Access::Push { mount_from } => {
                scopes.push(format!("repository:{repository}:pull,push"));
                for from in mount_from.into_iter().filter(|f| f != &repository) {
                    scopes.push(format!("repository:{from}:pull"));
                }
            }
        }
        let base = endpoint::base_url(&reference.domain, client.config());
        Session {
            client,
            domain: reference.domain.clone(),
            base,
            repository,
            scopes,
            creds,
            authorization: Mutex::new(None),
        }
    }

    /// `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `docker.io`, `127.0.0.1:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `<base>/v2/<repository>/<tail>`.
    pub fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repository, tail)
    }

    /// Turns a `Location` header (absolute or relative to the registry) into a URL.
    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{}", self.base, location)
        } else {
            format!("{}/{}", self.base, location)
        }
    }

    /// Sends a request built by `build` (called again for the retry after authenticating),
    /// and returns the response whatever its status.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let op = go_method(&method);
        let key = auth::cache_key(&self.domain, &self.scopes, &self.creds);
        let mut authorization = self
            .current_authorization()
            .or_else(|| self.client.cached_auth(&key));
        for attempt in 0..2 {
            let mut request = build(self.client.http().request(method.clone(), url));
            if let Some(value) = &authorization {
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            let response = request
                .send()
                .await
                .map_err(|e| transport_error(&op, url, &e))?;
            if response.status() != reqwest::StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(response);
            }
            let challenges = challenges_of(&response);
            let (entry, _) =
                auth::authorize(&self.client, &challenges, &self.creds, &self.scopes, false)
                    .await
                    .map_err(|e| locate(e, &op, url))?;
            authorization = Some(entry.header.clone());
            *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = authorization.clone();
            self.client.remember_auth(key.clone(), entry);
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// As `send`, but a status outside 2xx is an error.
    pub async fn send_ok(
        &self,
        method: Method,
        url: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let op = go_method(&method);
        let response = self.send(method, url, build).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_from_response(&op, url, response).await)
        }
    }

    fn current_authorization(&self) -> Option<String> {
        self.authorization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn challenges_of(response: &Response) -> Vec<Challenge> {
    response
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(auth::parse_challenges)
        .collect()
}

/// Puts the request's method and URL on an auth failure, as Go's `url.Error` does.
fn locate(err: RegistryError, op: &str, url: &str) -> RegistryError {
    match err {
        RegistryError::Unauthorized { message, .. } => RegistryError::Unauthorized {
            method: op.to_string(),
            url: url.to_string(),
            message,
        },
        other => other,
    }
}

/// `Get`, `Head`: how Go names the operation in `Get "https://...": ...`.
pub(crate) fn go_method(method: &Method) -> String {
    let m = method.as_str().to_ascii_lowercase();
    let mut chars = m.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => m,
    }
}

/// A request that got no usable answer, in the words of the innermost cause.
pub(crate) fn transport_error(op: &str, url: &str, err: &reqwest::Error) -> RegistryError {
    let mut inner: &dyn std::error::Error = err;
    while let Some(source) = inner.source() {
        inner = source;
    }
    let cause = inner.to_string();
    let message = if err.is_timeout() {
        format!("timeout: {cause}")
    } else if err.is_connect() {
        format!("connect: {cause}")
    } else {
        cause
    };
    RegistryError::Transport {
        method: op.to_string(),
        url: url.to_string(),
        message,
    }
}

/// Reads an error response: 401 becomes `Unauthorized`, the rest `Api` with the codes.
pub(crate) async fn error_from_response(op: &str, url: &str, response: Response) -> RegistryError {
    let status = response.status().as_u16();
    // Error bodies are small; a broken one just loses the registry's detail.
    let body = response.bytes().await.unwrap_or_default();
    let errors = parse_error_body(&body);
    if status == 401 {
        let message = errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "unauthorized: authentication required".to_string());
        return RegistryError::Unauthorized {
            method: op.to_string(),
            url: url.to_string(),
            message,
        };
    }
    RegistryError::Api { status, errors }
}

/// `{"errors":[{"code":..., "message":...}]}`; anything else yields no entries.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<ApiError> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| {
            b.errors
                .into_iter()
                .map(|e| ApiError {
                    code: e.code,
                    message: e.message,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_decoded() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}"#;
        let errors = parse_error_body(body);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "name unknown: repository name not known to registry"
        );
        assert!(parse_error_body(b"<html>").is_empty());
    }

    #[test]
    fn methods_are_named_as_go_does() {
        assert_eq!(go_method(&Method::GET), "Get");
        assert_eq!(go_method(&Method::HEAD), "Head");
        assert_eq!(go_method(&Method::PATCH), "Patch");
    }
}
