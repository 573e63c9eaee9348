#!/usr/bin/env python3
"""Tables to JSON Lines files (issue 15, item 7): godwit's jsonl-target
beside `sqlite3 -json` on the same SQLite database, in one run, with the
ratios. Both write every table of the bench dataset into a folder; godwit
also writes a schema file per table and reads its values typed (exact
floats, base64 BLOBs), where `sqlite3 -json` writes one JSON array per
table with BLOBs as hex text.

    python3 bench/export.py --transcripts 1000000 --runs 3

Needs a release build (`cargo build --release -p godwit-cli`) and sqlite3.
Results go to bench/results/export.json and are printed as a table. Not
run in CI (wall-clock numbers belong here, not in tests).
"""

import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (the peer benchmark's helpers)


def godwit_export(work, db, godwit):
    out = os.path.join(work, "godwit-out")
    shutil.rmtree(out, ignore_errors=True)
    project = harness.godwit_project(os.path.join(work, "godwit-export"), f"""
[project]
name = "bench-export"

[connections.app]
dsn = "sqlite://{db}?mode=ro"

[stores.out]
type = "fs"
root = "{out}"

[plugins.src]
path = "builtin:sqlite-source"
grants.sql = {{ source = "app" }}

[plugins.files]
path = "builtin:jsonl-target"
grants.blob = {{ out = "out" }}

[[steps]]
name = "export"
source = "src"
target = "files"
mode = "replace"
workers = 4
""")
    m = harness.measure([godwit, "run", project, "--fresh"],
                        log_path=os.path.join(work, "godwit-export.log"))
    return m, out


def sqlite3_export(work, db, tables):
    out = os.path.join(work, "sqlite3-out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    script = " && ".join(
        f"sqlite3 -json {db} 'SELECT * FROM \"{t}\"' > {out}/{t}.json" for t in tables)
    m = harness.measure(["bash", "-c", script], log_path=os.path.join(work, "sqlite3-export.log"))
    return m, out


def folder_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transcripts", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--godwit", help="the godwit binary (default: target/release/godwit)")
    args = ap.parse_args()
    godwit = args.godwit or os.path.join(harness.ROOT, "target", "release", "godwit")
    if not os.path.exists(godwit):
        sys.exit("build godwit first: cargo build --release -p godwit-cli")
    data, info = harness.dataset(args.transcripts, 0)
    db = os.path.join(data, "app.db")
    tables = sorted(info["tables"])
    work = os.path.join(harness.WORK, "export")
    os.makedirs(work, exist_ok=True)
    results = {"rows": info["rows"], "db_bytes": info["db_bytes"], "runs": {}}
    for name in ["sqlite3 -json", "godwit jsonl-target"]:
        runs = []
        for _ in range(args.runs):
            harness.drop_caches()
            if name == "godwit jsonl-target":
                m, out = godwit_export(work, db, godwit)
                # Every row must be there: one line per row.
                lines = sum(sum(1 for _ in open(os.path.join(out, f"{t}.jsonl"))) for t in tables)
                if m["exit"] != 0 or lines != info["rows"]:
                    sys.exit(f"godwit export failed or incomplete (exit {m['exit']}, {lines} of {info['rows']} rows); see {work}")
            else:
                m, out = sqlite3_export(work, db, tables)
                if m["exit"] != 0:
                    sys.exit(f"sqlite3 export failed; see {work}")
            m["out_bytes"] = folder_bytes(out)
            runs.append(m)
        results["runs"][name] = runs
    base = harness.median(results["runs"]["sqlite3 -json"], "wall_s")
    print(f"{info['rows']} rows, {info['db_bytes'] >> 20} MiB SQLite database, median of {args.runs} runs")
    print(f"{'tool':22} {'wall s':>8} {'ratio':>6} {'peak MiB':>9} {'out MiB':>8}")
    for name, runs in results["runs"].items():
        wall = harness.median(runs, "wall_s")
        results.setdefault("median", {})[name] = {
            "wall_s": wall, "ratio_to_sqlite3": round(wall / base, 2),
            "peak_rss_mib": harness.median(runs, "peak_rss_mib"),
        }
        print(f"{name:22} {wall:8.2f} {wall / base:6.2f} {harness.median(runs, 'peak_rss_mib'):9.1f} "
              f"{harness.median(runs, 'out_bytes') / 2**20:8.1f}")
    os.makedirs(os.path.join(harness.BENCH, "results"), exist_ok=True)
    with open(os.path.join(harness.BENCH, "results", "export.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
