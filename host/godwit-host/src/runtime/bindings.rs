//! Host bindings generated from the WIT contract.
//!
//! One `bindgen!` over a host-only union world (`host/godwit-host/wit/host.wit`)
//! so that every plugin kind shares the same Rust types. Host resources map to
//! the capability handle types in [`crate::caps`].

#![allow(missing_docs)] // the WIT files document every item; see docs/wit.md

wasmtime::component::bindgen!({
    path: "wit",
    world: "godwit:host/all",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [PartialEq],
    with: {
        "godwit:plugin/sql@0.2.0.connection": crate::caps::sql::ConnectionHandle,
        "godwit:plugin/sql@0.2.0.rows": crate::caps::sql::RowsHandle,
        "godwit:plugin/blob@0.2.0.store": crate::caps::blob::StoreHandle,
        "godwit:plugin/blob@0.2.0.lister": crate::caps::blob::ListerHandle,
        "godwit:plugin/blob@0.2.0.writer": crate::caps::blob::WriterHandle,
    },
});

pub use godwit::plugin::types;
