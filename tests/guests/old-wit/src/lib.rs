//! A well-formed rewrite rule built against an older contract,
//! `godwit:plugin@0.1.0` (the WIT files in `wit/` are that release's): the
//! host must refuse it by name and version, not crash or misbehave.

wit_bindgen::generate!({
    path: "wit",
    world: "godwit:plugin/rewrite@0.1.0",
    generate_all,
});

use exports::godwit::plugin::rewriter::{Guest, Outcome};
use godwit::plugin::types::{Error, PluginInfo, Value};

struct Old;

impl Guest for Old {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "old-wit".into(),
            version: "0.0.1".into(),
            description: "Built against godwit:plugin@0.1.0 (tests only).".into(),
            requests: vec![],
            params_doc: String::new(),
        }
    }
    fn configure(_params: String) -> Result<(), Error> {
        Ok(())
    }
    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        Ok(values.iter().map(|_| Outcome::Unchanged).collect())
    }
}

export!(Old);
