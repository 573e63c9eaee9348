//! Builds the benchmark guest for wasm32-wasip2.
use std::path::Path;

fn main() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guests =
        godwit_wasm_build::build_one(&here.join("guest"), "wasm-bench", &[&here.join("wit")]);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("guest.rs");
    std::fs::write(
        out,
        format!(
            "const GUEST: &[u8] = include_bytes!({:?});\n",
            guests.display().to_string()
        ),
    )
    .unwrap();
}
