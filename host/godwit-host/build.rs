//! Builds the built-in plugins (`plugins/`) for wasm32-wasip2 and embeds them.
use std::path::Path;

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    let guests = godwit_wasm_build::build(
        &root.join("plugins"),
        "godwit-plugin-",
        "wasm-plugins",
        &[&root.join("sdk"), &root.join("wit")],
    );
    let mut code = String::from("/// Built-in plugins: (name, component bytes).\npub static BUILTINS: &[(&str, &[u8])] = &[\n");
    for g in guests {
        code.push_str(&format!(
            "    ({:?}, include_bytes!({:?})),\n",
            g.name,
            g.wasm.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtins.rs");
    std::fs::write(out, code).unwrap();
}
