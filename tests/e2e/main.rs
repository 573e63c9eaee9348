//! End-to-end tests: the real `godwit` binary, real Wasm guests, real SQLite.
//! One test binary with a module per area (see STYLE.md: link once).

mod app_schema;
mod bundles;
mod common;
mod conformance;
mod contract;
mod faults;
mod fidelity;
mod foundation;
mod objects;
mod project_file;
mod rehearsal;
mod relational;
mod sandbox;
mod scaffold;
mod validation;
