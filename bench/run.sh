#!/usr/bin/env bash
# One command for the peer benchmark (issue 6): installs the peers when
# missing, builds godwit in release mode, then runs bench/run.py with the
# arguments given (see `python3 bench/run.py --help`).
#
#   bash bench/run.sh                 # 3 rounds, 1 M + 5 M transcripts, 1 GiB of files
#   bash bench/run.sh --runs 1 --big 0 --uploads-mib 256   # a quick look
#
# Needs root for apt and for dropping the page cache (without it the runs
# are still made and the report says the cache was not dropped).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v psql >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v pgloader >/dev/null || need_apt+=(pgloader)
command -v rclone >/dev/null || need_apt+=(rclone)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
# sling: its PyPI wheel carries the binary (the `sling` package itself
# downloads one at run time, which a closed network cannot do).
python3 -c "import sling_linux_amd64" 2>/dev/null ||
  python3 -m pip install -q "sling-linux-amd64==1.4.11"
# The S3 server, as the tests install it.
tools="${GODWIT_TOOLS:-/opt/godwit-tools}"
if [ -z "${GODWIT_S3S_FS:-}" ]; then
  if [ ! -x "$tools/bin/s3s-fs" ]; then
    cargo install s3s-fs@0.14.1 --locked --features binary --root "$tools"
  fi
  export GODWIT_S3S_FS="$tools/bin/s3s-fs"
fi
cargo build --release --locked -p godwit-cli
exec python3 bench/run.py "$@"
