//! Builds the test guests (`tests/guests/`) for wasm32-wasip2.
use std::path::Path;

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guests = godwit_wasm_build::build(
        &here.join("guests"),
        "godwit-guest-",
        "wasm-guests",
        &[&here.join("../sdk"), &here.join("../wit")],
    );
    let mut code = String::new();
    for g in guests {
        code.push_str(&format!(
            "/// Component file of the `{}` test guest.\npub const {}: &str = {:?};\n",
            g.name,
            g.name.to_uppercase().replace('-', "_"),
            g.wasm.display().to_string()
        ));
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("guests.rs");
    std::fs::write(out, code).unwrap();
}
