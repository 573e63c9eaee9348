//! Process-wide secret scrubbing, the last line of defence.
//!
//! Secrets are kept out of messages by construction ([`Secret`]
//! redacts itself). But dependencies log too (a driver may echo a connection
//! parameter), so every secret the project resolves is also registered here,
//! and the CLI passes everything it prints — logs included — through
//! [`scrub`].

use std::fmt;
use std::sync::RwLock;

/// Shortest value treated as a secret: shorter ones would match ordinary text.
pub const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value; it will be replaced by `***` in [`scrub`].
pub fn register(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_owned());
        // Longest first, so a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret (and its percent-encoded form) replaced by `***`.
pub fn scrub(text: &str) -> String {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for s in all.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
        let encoded = percent_encode(s);
        if encoded != *s && out.contains(&encoded) {
            out = out.replace(&encoded, "***");
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string that may hold a secret (a DSN with a password). Shown redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value (read from the environment or a DSN).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the code that must use it (the connection opener).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", redact_dsn(&self.0))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_dsn(&self.0))
    }
}

/// Replaces the password of a URL-style DSN (`scheme://user:password@host/...`)
/// and any `password=`/`pwd=`/`secret=`/`token=` parameter with `***`.
pub fn redact_dsn(dsn: &str) -> String {
    let mut out = dsn.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    for key in ["password=", "pwd=", "secret=", "token=", "sslpassword="] {
        let mut from = 0;
        while let Some(pos) = out[from..].to_ascii_lowercase().find(key) {
            let start = from + pos + key.len();
            let end = out[start..]
                .find(['&', ';', ' '])
                .map_or(out.len(), |i| start + i);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_scrubbed() {
        register("hunter2-long");
        register("p@ss word");
        assert_eq!(scrub("pw=hunter2-long!"), "pw=***!");
        assert_eq!(scrub("url p%40ss%20word here"), "url *** here");
        assert_eq!(scrub("nothing"), "nothing");
        register("ab");
        assert_eq!(scrub("ab"), "ab", "too short to be treated as a secret");
    }
}
