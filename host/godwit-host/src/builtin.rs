//! Plugins compiled into the godwit binary, referenced as `builtin:NAME`.
//!
//! They are ordinary components built from `plugins/` with the SDK and run in
//! the same sandbox as any third-party plugin; embedding them only saves users
//! from locating `.wasm` files.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Names of the built-in plugins.
pub fn names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// The component bytes of a built-in plugin.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}
