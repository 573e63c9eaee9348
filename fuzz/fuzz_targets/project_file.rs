//! Any text as `godwit.toml`: parsing returns a project or an error naming a
//! line and column, and never panics.
#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let env = |name: &str| (name.len() < 8).then(|| format!("value-of-{name}"));
        let _ = godwit_host::project::parse(
            Path::new("/nonexistent-project"),
            Path::new("godwit.toml"),
            text,
            &env,
        );
    }
});
