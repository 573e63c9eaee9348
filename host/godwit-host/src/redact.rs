//! Process-wide secret scrubbing, the last line of defence.
//!
//! Secrets are kept out of messages by construction ([`crate::project::Secret`]
//! redacts itself). But dependencies log too (a driver may echo a connection
//! parameter), so every secret the project resolves is also registered here,
//! and the CLI passes everything it prints — logs included — through
//! [`scrub`].

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
