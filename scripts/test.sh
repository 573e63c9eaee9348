#!/usr/bin/env bash
# The whole test suite, from a fresh machine with rustup: installs what the
# tests need, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain and the wasm32-wasip2 target from rust-toolchain.toml.
rustup toolchain install

# Real servers the end-to-end tests start (see tests/lib.rs). SQLite is
# compiled into sqlx; PostgreSQL and MariaDB come from Debian when missing.
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${GODWIT_PG_BIN:-}" ]; then
  need+=(postgresql)
fi
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# An S3-compatible server for the object-storage tests: s3s-fs, built from
# crates.io once (about 5 minutes on 2 cores; 0.14.1 is the newest release
# that builds with our pinned rustc 1.95).
tools="${GODWIT_TOOLS:-/opt/godwit-tools}"
mkdir -p "$tools" 2>/dev/null && [ -w "$tools" ] || tools="$HOME/.cache/godwit-tools"
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs@0.14.1 --locked --features binary --root "$tools"
fi
export GODWIT_S3S_FS="$tools/bin/s3s-fs"
# cargo-deny for the supply-chain check, cargo-fuzz for the fuzz targets
# (about 4 and 2 minutes, once).
if [ ! -x "$tools/bin/cargo-deny" ]; then
  cargo install cargo-deny@0.20.2 --locked --root "$tools"
fi
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  cargo install cargo-fuzz@0.13.2 --locked --root "$tools"
fi

cargo fmt --all -- --check
# Supply chain: licenses, banned crates, sources (deny.toml). Advisories need
# RustSec's database from GitHub, which CI cannot reach (see deny.toml).
"$tools/bin/cargo-deny" check licenses bans sources
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Wasm guests are separate workspaces (built by build scripts): lint them too.
for ws in plugins tests/guests; do
  cargo clippy --manifest-path "$ws/Cargo.toml" --release --target wasm32-wasip2 \
    --target-dir "target/wasm-lint" --locked -- -D warnings
done
# The SDKs (godwit-sdk and godwit-sdk-v0-3, one workspace), every feature.
cargo clippy --manifest-path sdk/Cargo.toml --workspace --all-features --release \
  --target wasm32-wasip2 --target-dir "target/wasm-lint" --locked -- -D warnings
# Fuzz targets (fuzz/): project files, bundles, plugin batches; a short run
# each here (libFuzzer; RUSTC_BOOTSTRAP lets cargo-fuzz's -Z flags through on
# our stable toolchain). Longer, with AddressSanitizer, on demand:
#   (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run project_file -- -max_total_time=3600)
for t in project_file bundle batch jsonl_row csv_record; do
  (cd fuzz && RUSTC_BOOTSTRAP=1 "$tools/bin/cargo-fuzz" run -O --sanitizer none "$t" -- \
     -max_total_time="${GODWIT_FUZZ_SECONDS:-15}" -print_final_stats=0 2>&1 | tail -n 2)
done

# The SDK's own unit tests (the JSON Lines codec round trips every value
# kind; CHECK translation and the function calls found in PostgreSQL text),
# on the host target.
cargo test --manifest-path sdk/Cargo.toml --features jsonl,checks,csv --lib --locked

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole run (cargo prints one summary per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
