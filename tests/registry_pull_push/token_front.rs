//! A registry behind Bearer-token auth: a small front server on 127.0.0.1 that answers 401
//! with a `Bearer` challenge, hands out a token at `/token` for the right Basic credentials,
//! and forwards authorised GETs to a plain registry behind it.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

pub const TOKEN: &str = "berth-test-token";

pub struct Front {
    pub addr: String,
    pub token_requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    addr: String,
    upstream: String,
    basic: String,
    token_requests: Arc<AtomicUsize>,
    http: reqwest::Client,
}

pub async fn start(upstream: &str, user: &str, pass: &str) -> Front {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let token_requests = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        addr: addr.clone(),
        upstream: upstream.to_string(),
        basic: super::support::registry::basic_auth(user, pass),
        token_requests: Arc::clone(&token_requests),
        http: reqwest::Client::new(),
    });
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(answer(&state, req).await) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Front {
        addr,
        token_requests,
        task,
    }
}

fn reply(status: u16, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    r
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if req.uri().path() == "/token" {
        state.token_requests.fetch_add(1, Ordering::SeqCst);
        let query = req.uri().query().unwrap_or("");
        if auth != state.basic {
            return reply(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}"#,
            );
        }
        assert!(query.contains("service=berth-test"), "{query}");
        return reply(
            200,
            &format!(r#"{{"access_token":"{TOKEN}","expires_in":300}}"#),
        );
    }
    if auth != format!("Bearer {TOKEN}") {
        let mut r = reply(
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        );
        let challenge = format!(
            r#"Bearer realm="http://{}/token",service="berth-test""#,
            state.addr
        );
        r.headers_mut()
            .insert("www-authenticate", challenge.parse().expect("header"));
        return r;
    }
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut forward = state.http.request(
        req.method().clone(),
        format!("http://{}{path}", state.upstream),
    );
    if let Some(accept) = req.headers().get("accept") {
        forward = forward.header("accept", accept.clone());
    }
    let Ok(upstream) = forward.send().await else {
        return reply(502, "");
    };
    let status = upstream.status().as_u16();
    let headers = upstream.headers().clone();
    let body = upstream.bytes().await.unwrap_or_default();
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    for name in ["content-type", "docker-content-digest"] {
        if let Some(v) = headers.get(name) {
            r.headers_mut().insert(name, v.clone());
        }
    }
    r
}
