//! `regex-rewrite`: replaces the first match of a regular expression in text
//! values, with `$1`/`${name}` capture references in the replacement.
//!
//! `pattern = "^/app/\\.data/uploads/(\\d+)/(.+)$"`,
//! `replacement = "s3://meetings/uploads/$1/$2"`. Values that do not match are
//! kept (or rejected with `on_mismatch = "reject"`); NULLs are kept.

use std::cell::RefCell;

use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};
use regex::Regex;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    pattern: String,
    replacement: String,
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

struct Rule {
    re: Regex,
    replacement: String,
    on_mismatch: OnMismatch,
}

thread_local! {
    static RULE: RefCell<Option<Rule>> = const { RefCell::new(None) };
}

struct RegexRewrite;

impl Rewriter for RegexRewrite {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "regex-rewrite".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Rewrites text values with a regular expression and capture references.".into(),
            requests: vec![],
            params_doc: "- `pattern` (string, required): a regular expression (Rust `regex` syntax)\n\
                         - `replacement` (string, required): may use `$1`, `${name}`; `$$` is a literal `$`\n\
                         - `on_mismatch` (`keep` | `reject`, default `keep`)"
                .into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        let p: Params = godwit_sdk::params::parse(&params)?;
        let re =
            Regex::new(&p.pattern).map_err(|e| Error::InvalidInput(format!("pattern: {e}")))?;
        RULE.with(|r| {
            *r.borrow_mut() = Some(Rule {
                re,
                replacement: p.replacement,
                on_mismatch: p.on_mismatch,
            })
        });
        Ok(())
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        RULE.with(|r| {
            let r = r.borrow();
            let rule = r
                .as_ref()
                .ok_or_else(|| Error::Internal("configure was not called".into()))?;
            Ok(values
                .into_iter()
                .map(|v| match v {
                    Value::Null => Outcome::Unchanged,
                    Value::Text(s) => match rule.re.captures(&s) {
                        Some(caps) => {
                            let whole = caps.get(0).expect("group 0 exists");
                            let mut out = String::with_capacity(s.len() + rule.replacement.len());
                            out.push_str(&s[..whole.start()]);
                            caps.expand(&rule.replacement, &mut out);
                            out.push_str(&s[whole.end()..]);
                            if out == s {
                                Outcome::Unchanged
                            } else {
                                Outcome::Replaced(Value::Text(out))
                            }
                        }
                        None if rule.on_mismatch == OnMismatch::Reject => {
                            Outcome::Rejected(format!("value does not match {}", rule.re.as_str()))
                        }
                        None => Outcome::Unchanged,
                    },
                    _ => Outcome::Rejected("not a text value".into()),
                })
                .collect())
        })
    }
}

godwit_sdk::rewrite::export_rewrite!(RegexRewrite);
