//! The `http` capability: requests to base URLs the project grants under a
//! label (`[hosts.NAME]`, `grants.http`). Used by smoke checks of a migrated
//! application and, later, REST stores.
//!
//! The plugin names only a path. The host joins it to the granted base and
//! refuses anything that would leave it (absolute URLs, `//host`, `..`),
//! refuses `authorization`/`cookie`/`host` headers from the plugin, adds the
//! project's secret headers itself, and caps time and body sizes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::project::HttpHost;
use crate::runtime::bindings::godwit::plugin::http::{Request, Response};

/// Largest response body handed to a plugin; the rest is cut (`truncated`).
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Largest request body a plugin may send.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// Headers a plugin may not set: credentials come from the project only.
const FORBIDDEN_HEADERS: &[&str] = &["authorization", "cookie", "host", "proxy-authorization"];

/// A granted base URL.
#[derive(Debug)]
pub struct HttpTarget {
    /// The project's name for the host.
    pub name: String,
    /// Base URL and secret headers.
    pub host: HttpHost,
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // No redirects: a redirect could leave the granted base.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with default TLS settings")
    })
}

/// The full URL for `path` under `base`, or why it is refused.
pub fn join(base: &str, path: &str) -> std::result::Result<String, String> {
    let rel = path.trim_start_matches('/');
    if path.contains("://") || path.starts_with("//") || path.contains('\\') {
        return Err(format!("{path:?} is not a path under the granted base URL"));
    }
    let only_path = rel.split(['?', '#']).next().unwrap_or_default();
    if only_path
        .split('/')
        .any(|s| s == ".." || s.eq_ignore_ascii_case("%2e%2e"))
    {
        return Err(format!("{path:?} climbs out of the granted base URL"));
    }
    Ok(format!("{base}{rel}"))
}

/// Sends one request for a plugin.
pub async fn send(target: &Arc<HttpTarget>, req: Request, timeout: Duration) -> Result<Response> {
    let denied = |m: String| Error::new(ErrorKind::Project, m);
    let url = join(&target.host.url, &req.path).map_err(denied)?;
    let method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
        .ok()
        .filter(|m| ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"].contains(&m.as_str()))
        .ok_or_else(|| denied(format!("method {:?} is not allowed", req.method)))?;
    if req.body.len() > MAX_REQUEST_BYTES {
        return Err(denied(format!(
            "request body of {} bytes is larger than {MAX_REQUEST_BYTES}",
            req.body.len()
        )));
    }
    let mut builder = client().request(method, &url).timeout(timeout);
    for (k, v) in &req.headers {
        if FORBIDDEN_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(denied(format!(
                "header {k:?} may not be set by a plugin (the project supplies credentials)"
            )));
        }
        builder = builder.header(k, v);
    }
    for (k, v) in &target.host.headers {
        builder = builder.header(k, v.expose());
    }
    if !req.body.is_empty() {
        builder = builder.body(req.body);
    }
    let what = format!("host {}: {} {url}", target.name, req.method);
    let mut resp = builder.send().await.map_err(|e| {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Io
        };
        Error::new(kind, format!("{what}: {}", without_url(&e)))
    })?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| Error::io(format!("{what}: {}", without_url(&e))))?
    {
        let room = MAX_RESPONSE_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
        truncated,
    })
}

/// reqwest's message without the URL it repeats (the caller names it).
fn without_url(e: &reqwest::Error) -> String {
    let mut e2 = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if !e2.is_empty() {
            e2.push_str(": ");
        }
        e2.push_str(&s.to_string());
        source = s.source();
    }
    e2
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn paths_stay_under_the_base() {
        let b = "https://app.example.com/api/";
        assert_eq!(
            join(b, "/health").unwrap(),
            "https://app.example.com/api/health"
        );
        assert_eq!(
            join(b, "x?y=1").unwrap(),
            "https://app.example.com/api/x?y=1"
        );
        assert!(join(b, "https://evil.example.com/").is_err());
        assert!(join(b, "//evil.example.com/x").is_err());
        assert!(join(b, "../admin").is_err());
        assert!(join(b, "a/%2E%2E/b").is_err());
    }
}
