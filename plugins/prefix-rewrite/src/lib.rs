//! `prefix-rewrite`: replaces a leading prefix of text values.
//!
//! `from = "/app/.data/uploads/"`, `to = "s3://meetings/uploads/"` turns
//! `/app/.data/uploads/42/audio.m4a` into `s3://meetings/uploads/42/audio.m4a`.
//! Values that do not start with `from` are kept (or rejected with
//! `on_mismatch = "reject"`); NULLs are kept; non-text values are rejected.

use godwit_sdk::params::Configured;
use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};
use serde::Deserialize;

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Params {
    from: String,
    to: String,
    #[serde(default)]
    on_mismatch: OnMismatch,
}

#[derive(Deserialize, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum OnMismatch {
    #[default]
    Keep,
    Reject,
}

static PARAMS: Configured<Params> = Configured::new();

struct PrefixRewrite;

impl Rewriter for PrefixRewrite {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "prefix-rewrite".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Replaces a leading prefix of text values (paths, URLs, keys).".into(),
            requests: vec![],
            params_doc: "- `from` (string, required): prefix to replace\n\
                         - `to` (string, required): replacement\n\
                         - `on_mismatch` (`keep` | `reject`, default `keep`): values not starting with `from`"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        if p.from.is_empty() {
            return Err(Error::InvalidInput("`from` must not be empty".into()));
        }
        PARAMS.set(p);
        Ok(())
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        let p = PARAMS.get()?;
        Ok(values.into_iter().map(|v| map_one(&p, v)).collect())
    }
}

fn map_one(p: &Params, v: Value) -> Outcome {
    match v {
        Value::Null => Outcome::Unchanged,
        Value::Text(s) => match s.strip_prefix(p.from.as_str()) {
            Some(rest) => Outcome::Replaced(Value::Text(format!("{}{}", p.to, rest))),
            None if p.on_mismatch == OnMismatch::Reject => {
                Outcome::Rejected(format!("value does not start with {:?}", p.from))
            }
            None => Outcome::Unchanged,
        },
        other => Outcome::Rejected(format!("not a text value: {}", kind(&other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int(_) | Value::Uint(_) => "integer",
        Value::Float(_) => "float",
        Value::Bytes(_) => "bytes",
        _ => "non-text",
    }
}

godwit_sdk::rewrite::export_rewrite!(PrefixRewrite);
