//! The `http` capability: requests to base URLs the project grants under a
//! label (`[hosts.NAME]`, `grants.http`). Used by smoke checks of a migrated
//! application and, later, REST stores.
//!
//! The plugin names only a path. The host joins it to the granted base with
//! the URL parser first (which resolves dot segments, percent-encoded dots
//! and strips tabs and newlines exactly as the request will be sent), then
//! checks the *parsed* result against the base: same scheme, host and port,
//! no credentials, and a path whose segments start with the base's. What is
//! checked is the `Url` that is sent. It also refuses
//! `authorization`/`cookie`/`host` headers from the plugin, sets the
//! project's secret headers itself (replacing any plugin header of the same
//! name), and caps time and body sizes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{HttpRequest as Request, HttpResponse as Response};
use crate::project::HttpHost;

/// The kind's name in manifests and grants.
pub const KIND: &str = "http";

/// Binds a granted host (base URL and secret headers) to the plugin's label.
pub(crate) fn bind(
    ctx: &mut super::PluginContext,
    res: &super::Resources<'_>,
    label: &str,
    name: &str,
) {
    let target = HttpTarget {
        name: name.to_owned(),
        host: res.hosts[name].clone(),
    };
    ctx.http.insert(label.to_owned(), Arc::new(target));
}

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
pub fn join(base: &str, path: &str) -> std::result::Result<reqwest::Url, String> {
    let refuse = || format!("{path:?} is not a path under the granted base URL");
    let base_url = reqwest::Url::parse(base).map_err(|e| format!("base URL {base:?}: {e}"))?;
    // Control characters are dropped by the parser, which could splice
    // `.\t.` into `..`: refuse them outright (the parsed check below would
    // also catch the result).
    if path.chars().any(|c| c.is_control()) || path.contains('\\') || path.starts_with("//") {
        return Err(refuse());
    }
    let rel = path.trim_start_matches('/');
    // Second line, on the raw path: a `..` (in any spelling) that climbs
    // above the base is refused even where the parser would clamp it at
    // the server's root.
    let mut depth = 0i64;
    for seg in rel.split(['?', '#']).next().unwrap_or_default().split('/') {
        match seg.to_ascii_lowercase().replace("%2e", ".").as_str() {
            ".." => depth -= 1,
            "." | "" => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(format!("{path:?} climbs out of the granted base URL"));
        }
    }
    let url = base_url.join(rel).map_err(|_| refuse())?;
    let same_origin = url.scheme() == base_url.scheme()
        && url.host_str() == base_url.host_str()
        && url.port_or_known_default() == base_url.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    if !same_origin {
        return Err(refuse());
    }
    let base_segs: Vec<&str> = base_url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.collect())
        .ok_or_else(refuse)?;
    if segs.len() < base_segs.len() || segs[..base_segs.len()] != base_segs[..] {
        return Err(format!("{path:?} climbs out of the granted base URL"));
    }
    // What a server might still decode into a separator or a dot segment.
    for seg in &segs[base_segs.len()..] {
        let lower = seg.to_ascii_lowercase();
        let dots = lower.replace("%2e", ".");
        if lower.contains("%2f") || lower.contains("%5c") || dots == "." || dots == ".." {
            return Err(format!("{path:?} climbs out of the granted base URL"));
        }
    }
    Ok(url)
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
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
    let mut headers = HeaderMap::new();
    for (k, v) in &req.headers {
        if FORBIDDEN_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            return Err(denied(format!(
                "header {k:?} may not be set by a plugin (the project supplies credentials)"
            )));
        }
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| denied(format!("header name {k:?} is not valid")))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| denied(format!("the value of header {k:?} is not valid")))?;
        headers.append(name, value);
    }
    // The project's headers replace any of the same name from the plugin:
    // `insert` drops every earlier value.
    for (k, v) in &target.host.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::project(format!("host {}: header name {k:?}", target.name)))?;
        let mut value = HeaderValue::from_str(v.expose()).map_err(|_| {
            Error::project(format!("host {}: the value of header {k:?}", target.name))
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let mut builder = client()
        .request(method, url.clone())
        .timeout(timeout)
        .headers(headers);
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
            join(b, "/health").unwrap().as_str(),
            "https://app.example.com/api/health"
        );
        assert_eq!(
            join(b, "x?y=1").unwrap().as_str(),
            "https://app.example.com/api/x?y=1"
        );
        assert_eq!(
            join(b, "a/./b/../c").unwrap().as_str(),
            "https://app.example.com/api/a/c"
        );
        // Each of these reached a path outside the base on e16b6b6: the
        // parser turned them into `..` after the string check.
        for p in [
            ".%2e/x",
            "%2e./x",
            "%2E%2E/x",
            ".\t./x",
            ".\n./x",
            "a/..%2fx",
            "a/%2e%2e%2f..%2fx",
            "/%2e%2e",
            "http:x",
            "HTTPS://app.example.com/other",
            "https://user@app.example.com/api/x",
        ] {
            let got = join(b, p);
            assert!(got.is_err(), "{p:?} -> {got:?}");
        }
        assert!(join(b, "https://evil.example.com/").is_err());
        assert!(join(b, "//evil.example.com/x").is_err());
        assert!(join(b, "../admin").is_err());
        // Resolved by the parser, and still under the base: fine.
        assert_eq!(
            join(b, "a/%2E%2E/b").unwrap().as_str(),
            "https://app.example.com/api/b"
        );
        // Climbing above a root base is refused too (the parser would
        // clamp it at the root).
        assert!(join("http://127.0.0.1:1/", "../../etc/passwd").is_err());
    }

    /// A secret header of the project replaces a plugin header of the same
    /// name (on e16b6b6 the plugin's value was sent first, beside it), and
    /// the request line is the checked URL. Checked on the wire.
    #[tokio::test]
    async fn secret_headers_replace_plugin_headers() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let mut headers = std::collections::BTreeMap::new();
        headers.insert(
            "x-api-key".to_owned(),
            crate::project::Secret::new("the-real-key"),
        );
        let target = std::sync::Arc::new(super::HttpTarget {
            name: "app".into(),
            host: crate::project::HttpHost {
                url: format!("http://127.0.0.1:{port}/api/"),
                headers,
            },
        });
        let req = super::Request {
            method: "GET".into(),
            path: "v1/./x".into(),
            headers: vec![("X-Api-Key".into(), "forged".into())],
            body: Vec::new(),
        };
        let resp = super::send(&target, req, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        let raw = server.join().unwrap().to_ascii_lowercase();
        assert!(raw.starts_with("get /api/v1/x http/1.1"), "{raw}");
        assert_eq!(raw.matches("x-api-key:").count(), 1, "{raw}");
        assert!(raw.contains("x-api-key: the-real-key"), "{raw}");
        assert!(!raw.contains("forged"), "{raw}");
    }
}
