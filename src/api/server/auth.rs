//! Registry credentials as clients send them: the `X-Registry-Auth` header (base64url JSON
//! `AuthConfig`, as Docker decodes it: standard base64 and missing padding tolerated) and
//! `POST /auth` (checks credentials against a registry).

use base64::Engine;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response, StatusCode};

use super::body::{self, Body};
use super::errors::ApiError;
use crate::api::types::AuthResponse;
use crate::daemon::state::Daemon;
use crate::image::registry::AuthConfig;

/// Largest `POST /auth` body accepted (credentials are tiny).
const MAX_AUTH_BODY: usize = 64 * 1024;

/// The credentials of `X-Registry-Auth`, `None` when absent or empty (`{}`).
pub fn registry_auth(headers: &HeaderMap) -> Result<Option<AuthConfig>, ApiError> {
    let Some(value) = headers.get("X-Registry-Auth") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| invalid_header("not ASCII"))?
        .trim();
    if text.is_empty() {
        return Ok(None);
    }
    let auth = decode_auth(text)?;
    Ok((auth != AuthConfig::default()).then_some(auth))
}

fn decode_auth(text: &str) -> Result<AuthConfig, ApiError> {
    // Normalise standard base64 to the URL alphabet and drop padding, so one decoder fits all.
    let normalised: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(normalised)
        .map_err(|e| invalid_header(&e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| invalid_header(&e.to_string()))
}

fn invalid_header(why: &str) -> ApiError {
    ApiError::bad_request(format!("invalid X-Registry-Auth header: {why}"))
}

/// `POST /auth`: `{"Status":"Login Succeeded","IdentityToken":...}` or 401 with the
/// registry's reason.
pub async fn login(daemon: &Daemon, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let bytes = read_small_body(req.into_body(), MAX_AUTH_BODY).await?;
    let auth: AuthConfig = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid auth configuration: {e}")))?;
    match daemon.registry.login(&auth).await {
        Ok(token) => Ok(body::json(
            StatusCode::OK,
            &AuthResponse {
                status: "Login Succeeded".to_owned(),
                identity_token: token.unwrap_or_default(),
            },
        )),
        Err(message) => Err(ApiError::new(StatusCode::UNAUTHORIZED, message)),
    }
}

/// Reads a whole request body of at most `limit` bytes.
pub async fn read_small_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::bad_request("request body too large"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("X-Registry-Auth", value.parse().expect("header value"));
        h
    }

    #[test]
    fn url_safe_standard_and_unpadded_forms_decode() {
        let json = br#"{"username":"u","password":"p>?","serveraddress":"r:5000"}"#;
        let url = base64::engine::general_purpose::URL_SAFE.encode(json);
        let std = base64::engine::general_purpose::STANDARD.encode(json);
        let bare = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        for form in [url, std, bare] {
            let auth = registry_auth(&headers(&form))
                .expect("decodes")
                .expect("some");
            assert_eq!(auth.username, "u");
            assert_eq!(auth.password, "p>?");
        }
    }

    #[test]
    fn empty_credentials_are_none() {
        assert_eq!(registry_auth(&HeaderMap::new()).expect("ok"), None);
        let empty = base64::engine::general_purpose::URL_SAFE.encode(b"{}");
        assert_eq!(registry_auth(&headers(&empty)).expect("ok"), None);
    }

    #[test]
    fn garbage_is_a_bad_request() {
        let err = registry_auth(&headers("!!!")).expect_err("invalid");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.starts_with("invalid X-Registry-Auth header"));
        let not_json = base64::engine::general_purpose::URL_SAFE.encode(b"nope");
        assert!(registry_auth(&headers(&not_json)).is_err());
    }
}
