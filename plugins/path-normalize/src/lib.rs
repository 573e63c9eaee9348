//! `path-normalize`: normalises stored file paths — backslashes become `/`,
//! `./` segments and duplicate slashes disappear — and refuses paths that
//! climb out with `..` (the row is rejected with the reason, never guessed).
//! With `root = "/app/.data"`, paths must also lie under that root.

use godwit_sdk::params::Configured;
use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};
use serde::Deserialize;

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    root: Option<String>,
}

static PARAMS: Configured<Params> = Configured::new();

struct PathNormalize;

impl Rewriter for PathNormalize {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "path-normalize".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Normalises paths (backslashes, ./, //) and refuses .. escapes.".into(),
            requests: vec![],
            params_doc: "- `root` (string, optional): every path must lie under it".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        PARAMS.set(p);
        Ok(())
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        let root = PARAMS
            .get_or_default()
            .root
            .map(|r| normalize(&r).unwrap_or(r));
        Ok(values
            .into_iter()
            .map(|v| match v {
                Value::Null => Outcome::Unchanged,
                Value::Text(s) => match normalize(&s) {
                    Err(reason) => Outcome::Rejected(reason),
                    Ok(n) => match &root {
                        Some(r)
                            if n != *r
                                && !n.starts_with(&format!("{}/", r.trim_end_matches('/'))) =>
                        {
                            Outcome::Rejected(format!("{n:?} is outside {r:?}"))
                        }
                        _ if n == s => Outcome::Unchanged,
                        _ => Outcome::Replaced(Value::Text(n)),
                    },
                },
                _ => Outcome::Rejected("not a text value".into()),
            })
            .collect())
    }
}

/// The normalised path, or why it is refused.
fn normalize(path: &str) -> Result<String, String> {
    let unified = path.replace('\\', "/");
    let absolute = unified.starts_with('/');
    let mut parts = Vec::new();
    for seg in unified.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "{path:?} contains \"..\", which could escape its folder"
                ))
            }
            s => parts.push(s),
        }
    }
    let mut joined = parts.join("/");
    // A trailing slash says "a folder"; applications rely on it.
    if unified.ends_with('/') && !parts.is_empty() {
        joined.push('/');
    }
    Ok(if absolute {
        format!("/{joined}")
    } else {
        joined
    })
}

godwit_sdk::rewrite::export_rewrite!(PathNormalize);
