#!/usr/bin/env bash
# The whole test suite, from a fresh machine with rustup: installs what the
# tests need, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain and the wasm32-wasip2 target from rust-toolchain.toml.
rustup toolchain install

# (Servers for the relational and object-storage suites are installed here
# once those suites exist; the foundation suite needs only SQLite, which is
# compiled into sqlx.)

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
