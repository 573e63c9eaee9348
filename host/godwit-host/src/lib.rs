//! # godwit-host
//!
//! The library behind the `godwit` command: the project model
//! ([`project`]), the Wasm runtime that sandboxes plugins ([`runtime`]), the
//! capabilities plugins are granted ([`caps`]), and the engine that plans,
//! runs and validates migrations ([`engine`]).
//!
//! It is for the CLI and for tests; it prints nothing itself (events go
//! through `tracing`, results come back as data). It is not a plugin SDK:
//! plugins are written with `godwit-sdk` and run inside Wasm.

pub mod builtin;
pub mod bundle;
pub mod caps;
pub mod engine;
pub mod error;
pub mod model;
pub mod project;
pub mod redact;
pub mod runtime;
pub mod text;
pub mod value;

pub use error::{Error, ErrorKind, Result};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: validation failed (a validator reported an error finding, or rows were rejected).
pub const EXIT_VALIDATION: i32 = 1;
/// Exit code: usage or project-file error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: runtime failure (plugin trap or error, database or store failure).
pub const EXIT_RUNTIME: i32 = 3;
/// Exit code: interrupted by SIGINT or SIGTERM (the shell's 128 + SIGINT);
/// the reject file and a report of the interruption are written first, and
/// a plain `run` resumes.
pub const EXIT_INTERRUPTED: i32 = 130;
