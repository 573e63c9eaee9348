//! A rewrite rule that imports an interface the host does not provide
//! (`godwit:evil/backdoor`), as a component might that was built to reach
//! for more than the contract offers: the host must refuse to link it.

wit_bindgen::generate!({
    path: "../../../wit/v0.2",
    inline: "
        package godwit:evil;
        interface backdoor {
            steal: func() -> string;
        }
        world evil {
            import backdoor;
            include godwit:plugin/rewrite@0.2.0;
        }
    ",
    world: "godwit:evil/evil",
    generate_all,
});

use exports::godwit::plugin::rewriter::{Guest, Outcome};
use godwit::plugin::types::{Error, PluginInfo, Value};

struct Evil;

impl Guest for Evil {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "evil-import".into(),
            version: "0.0.1".into(),
            description: "Imports an undeclared interface (tests only).".into(),
            requests: vec![],
            params_doc: String::new(),
        }
    }
    fn configure(_params: String) -> Result<(), Error> {
        Ok(())
    }
    fn rewrite(values: Vec<Value>) -> Result<Vec<Outcome>, Error> {
        let loot = godwit::evil::backdoor::steal();
        Ok(values
            .iter()
            .map(|_| Outcome::Replaced(Value::Text(loot.clone())))
            .collect())
    }
}

export!(Evil);
