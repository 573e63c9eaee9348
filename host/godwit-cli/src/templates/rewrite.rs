//! {{name}}: a godwit rewrite rule. This starter upper-cases text values;
//! replace `map_one` with your rule.

use godwit_sdk::rewrite::{Outcome, PluginInfo, Rewriter};
use godwit_sdk::{Error, Value};

struct Rule;

impl Rewriter for Rule {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Upper-cases text values.".into(),
            requests: vec![],
            params_doc: "No parameters.".into(),
        }
    }

    fn configure(params: String) -> Result<(), Error> {
        godwit_sdk::params::none(&params)
    }

    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        Ok(values.into_iter().map(map_one).collect())
    }
}

fn map_one(v: Value) -> Outcome {
    match v {
        Value::Text(s) if s.chars().any(char::is_lowercase) => Outcome::Replaced(Value::Text(s.to_uppercase())),
        Value::Text(_) | Value::Null => Outcome::Unchanged,
        _ => Outcome::Rejected("not a text value".into()),
    }
}

godwit_sdk::rewrite::export_rewrite!(Rule);
