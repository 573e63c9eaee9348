//! Any bytes as a bundle archive, and any text as its manifest: reading
//! returns a bundle or an error, never panics, and never accepts an archive
//! whose components do not match the manifest.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use godwit_host::bundle::{Bundle, MANIFEST};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.bundle");
    if let Ok(b) = Bundle::from_archive_bytes(path, data) {
        for c in &b.manifest.components {
            assert!(b.components.contains_key(&c.name));
        }
        let _ = b.check_signatures();
    }
    let mut entries = BTreeMap::new();
    entries.insert(MANIFEST.to_owned(), data.to_vec());
    if let Ok(b) = Bundle::from_entries(path, entries) {
        assert!(b.manifest.components.is_empty(), "components without files accepted");
    }
});
