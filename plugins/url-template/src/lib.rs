//! `url-template`: turns an object key (or a path under a prefix) into a URL
//! from a template: `template = "https://{bucket}.{endpoint}/{key}"` with
//! `bucket` and `endpoint` given as parameters and `{key}` the value with
//! `strip_prefix` removed. Every path segment of the key is percent-encoded
//! (RFC 3986 unreserved characters kept), so spaces and Unicode stay valid.

use godwit_sdk::params::Configured;
use std::collections::BTreeMap;

use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};
use serde::Deserialize;

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Params {
    template: String,
    #[serde(default)]
    strip_prefix: String,
    /// Values for the other `{placeholders}` of the template.
    #[serde(default)]
    vars: BTreeMap<String, String>,
    #[serde(default = "yes")]
    encode: bool,
}

fn yes() -> bool {
    true
}

static PARAMS: Configured<Params> = Configured::new();

struct UrlTemplate;

impl Rewriter for UrlTemplate {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "url-template".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Builds URLs from a template and the value as the object key.".into(),
            requests: vec![],
            params_doc: "- `template` (string, required): e.g. `https://{bucket}.{endpoint}/{key}`\n\
                         - `vars` (table): values of the other placeholders, e.g. `{ bucket = \"meetings\", endpoint = \"tos.example.com\" }`\n\
                         - `strip_prefix` (string): removed from the value before it becomes `{key}`; values without it are rejected\n\
                         - `encode` (bool, default true): percent-encode each key segment"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        if !p.template.contains("{key}") {
            return Err(Error::InvalidInput("template must contain {key}".into()));
        }
        let mut rest = p.template.as_str();
        while let Some(start) = rest.find('{') {
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| Error::InvalidInput("unclosed { in template".into()))?;
            let name = &rest[start + 1..start + end];
            if name != "key" && !p.vars.contains_key(name) {
                return Err(Error::InvalidInput(format!(
                    "template placeholder {{{name}}} has no value in vars"
                )));
            }
            rest = &rest[start + end + 1..];
        }
        PARAMS.set(p);
        Ok(())
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        let p = PARAMS.get()?;
        Ok(values
            .into_iter()
            .map(|v| match v {
                Value::Null => Outcome::Unchanged,
                Value::Text(s) => match s.strip_prefix(p.strip_prefix.as_str()) {
                    Some(key) => {
                        let key = key.trim_start_matches('/');
                        let key = if p.encode {
                            key.split('/').map(encode).collect::<Vec<_>>().join("/")
                        } else {
                            key.to_owned()
                        };
                        let mut url = p.template.replace("{key}", &key);
                        for (name, value) in &p.vars {
                            url = url.replace(&format!("{{{name}}}"), value);
                        }
                        Outcome::Replaced(Value::Text(url))
                    }
                    None => {
                        Outcome::Rejected(format!("value does not start with {:?}", p.strip_prefix))
                    }
                },
                _ => Outcome::Rejected("not a text value".into()),
            })
            .collect())
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

godwit_sdk::rewrite::export_rewrite!(UrlTemplate);
