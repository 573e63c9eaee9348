#!/usr/bin/env python3
"""Tables to files and back (issue 15, item 7): godwit's file targets and
sources beside the plain exports and imports a team would script, in one
run, with the ratios.

Cases (every one on the same bench database, every run verified):
- SQLite → folder: `sqlite3 -json` beside `jsonl-target`, `sqlite3 -csv`
  beside `csv-target`;
- SQLite → S3 (s3s-fs on loopback): `jsonl-target` and `csv-target`
  (no peer writes a bucket in one step; their times beside the folder
  ones show the store's cost);
- PostgreSQL → folder: `psql \\copy … TO … CSV HEADER` per table beside
  `postgres-source` → `csv-target`;
- folder → PostgreSQL: `psql \\copy … FROM … CSV HEADER` per table (into
  tables created beforehand from the schema, untimed) beside `csv-source`
  → `postgres-target` (which also creates the tables, keys and indexes).

godwit writes a schema file per table and a manifest, reads every value
typed and checked against its column, and can resume; the peers do none
of that. Row counts are checked after every run (lines per file, rows per
table); a tool that loses rows stops the benchmark.

    python3 bench/export.py --transcripts 1000000 --runs 3

Needs a release build (`cargo build --release -p godwit-cli`), sqlite3,
PostgreSQL's server binaries and psql, and s3s-fs (GODWIT_S3S_FS or
/opt/godwit-tools/bin; without it the S3 cases are skipped and say so).
Results go to bench/results/export.json and are printed as a table. Not
run in CI (wall-clock numbers belong here, not in tests).
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (the peer benchmark's helpers)

csv.field_size_limit(1 << 30)


def project(work, name, source, target, store, workers=4):
    """A godwit project of one step from `source` into `target`."""
    return harness.godwit_project(os.path.join(work, name), f"""
[project]
name = "bench-{name}"
reports_dir = "runs"

{store}
[plugins.src]
{source}

[plugins.dst]
{target}

[[steps]]
name = "{name}"
source = "src"
target = "dst"
mode = "replace"
workers = {workers}
""")


def folder_store(root):
    return f'[stores.files]\ntype = "fs"\nroot = "{root}"\n'


def s3_store(s3):
    return (f'[stores.files]\ntype = "s3"\nbucket = "{harness.S3_BUCKET}"\nendpoint = "{s3.endpoint}"\n'
            'region = "us-east-1"\naccess_key_env = "BENCH_S3_KEY"\nsecret_key_env = "BENCH_S3_SECRET"\n')


def godwit_env(pg=None):
    env = dict(os.environ, BENCH_S3_KEY=harness.S3_KEY, BENCH_S3_SECRET=harness.S3_SECRET)
    if pg:
        env["BENCH_PG_URL"] = pg.url()
    return env


SQLITE_SRC = 'path = "builtin:sqlite-source"\ngrants.sql = {{ source = "app" }}\n'
PG_SRC = 'path = "builtin:postgres-source"\ngrants.sql = { source = "pg" }\n'
PG_DST = 'path = "builtin:postgres-target"\ngrants.sql = { target = "pg" }\n'


def sqlite_conn(db):
    return f'[connections.app]\ndsn = "sqlite://{db}?mode=ro"\n'


PG_CONN = '[connections.pg]\ndsn = "${BENCH_PG_URL}"\n'


def files_target(fmt):
    return f'path = "builtin:{fmt}-target"\ngrants.blob = {{ out = "files" }}\n'


def files_source(fmt):
    return f'path = "builtin:{fmt}-source"\ngrants.blob = {{ in = "files" }}\n'


def count_records(path, fmt):
    """Rows in one exported file: JSON Lines lines, CSV records after the header."""
    if fmt == "jsonl":
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def check_files(root, tables, fmt, want_rows, what):
    got = sum(count_records(os.path.join(root, f"{t}.{fmt}"), fmt) for t in tables)
    if got != want_rows:
        sys.exit(f"{what}: {got} of {want_rows} rows in the files; see {root}")


def folder_bytes(root):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def pg_rows(pg, tables):
    return sum(int(pg.psql(f'SELECT count(*) FROM "{t}"')) for t in tables)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transcripts", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--godwit", help="the godwit binary (default: target/release/godwit)")
    ap.add_argument("--skip", action="append", default=[], choices=["sqlite", "s3", "pg"],
                    help="leave a group of cases out (repeatable)")
    args = ap.parse_args()
    godwit = args.godwit or os.path.join(harness.ROOT, "target", "release", "godwit")
    if not os.path.exists(godwit):
        sys.exit("build godwit first: cargo build --release -p godwit-cli")
    data, info = harness.dataset(args.transcripts, 0)
    db = os.path.join(data, "app.db")
    tables = sorted(info["tables"])
    rows = info["rows"]
    work = os.path.join(harness.WORK, "export")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    s3s = harness.which("s3s-fs", [os.environ.get("GODWIT_S3S_FS"), "/opt/godwit-tools/bin/s3s-fs"])
    results = {"rows": rows, "db_bytes": info["db_bytes"], "runs": {}, "skipped": []}

    def timed(name, prepare, cmd, check, env=None, out=None):
        runs = []
        for _ in range(args.runs):
            prepare()
            harness.drop_caches()
            m = harness.measure(cmd, env=env, log_path=os.path.join(work, f"{name.replace(' ', '_').replace('/', '_')}.log"))
            if m["exit"] != 0:
                sys.exit(f"{name} failed (exit {m['exit']}); see {work}")
            check()
            if out:
                m["out_bytes"] = folder_bytes(out)
            runs.append(m)
        results["runs"][name] = runs
        harness.log(f"{name}: {harness.median(runs, 'wall_s'):.2f} s")

    def fresh_dir(path):
        def f():
            shutil.rmtree(path, ignore_errors=True)
            os.makedirs(path)
        return f

    # --- SQLite → folder ----------------------------------------------------
    if "sqlite" not in args.skip:
        for fmt, flag, ext in [("jsonl", "-json", "json"), ("csv", "-csv -header", "csv")]:
            out = os.path.join(work, f"sqlite3-{fmt}")
            script = " && ".join(
                f"sqlite3 {flag} {db} 'SELECT * FROM \"{t}\"' > {out}/{t}.{ext}" for t in tables)
            timed(f"sqlite3 {flag.split()[0]}", fresh_dir(out), ["bash", "-c", script], lambda: None, out=out)
            out = os.path.join(work, f"godwit-{fmt}")
            p = project(work, f"sqlite-to-{fmt}", SQLITE_SRC.format(), files_target(fmt),
                        sqlite_conn(db) + folder_store(out))
            timed(f"godwit {fmt}-target", fresh_dir(out), [godwit, "run", p, "--fresh"],
                  lambda o=out, f=fmt: check_files(o, tables, f, rows, f"godwit {f}-target"), out=out)

    # --- SQLite → S3 --------------------------------------------------------
    s3 = None
    if "s3" not in args.skip:
        if s3s:
            s3 = harness.S3(s3s)
        else:
            results["skipped"].append("S3 cases: s3s-fs not found")
    try:
        if s3:
            for fmt in ["jsonl", "csv"]:
                p = project(work, f"sqlite-to-s3-{fmt}", SQLITE_SRC.format(), files_target(fmt),
                            sqlite_conn(db) + s3_store(s3))
                timed(f"godwit {fmt}-target → S3", s3.empty_bucket, [godwit, "run", p, "--fresh"],
                      lambda f=fmt: check_files(s3.bucket_dir(), tables, f, rows, f"{f} to S3"),
                      env=godwit_env(), out=s3.bucket_dir())
    finally:
        if s3:
            s3.stop()

    # --- PostgreSQL ↔ folder -------------------------------------------------
    if "pg" not in args.skip:
        pg = harness.Postgres(work)
        try:
            pg.fresh()
            load = project(work, "load-pg", SQLITE_SRC.format(), PG_DST, sqlite_conn(db) + PG_CONN)
            if harness.measure([godwit, "run", load, "--fresh"], env=godwit_env(pg))["exit"] != 0:
                sys.exit("loading the bench database into PostgreSQL failed")
            schema = subprocess.run(["pg_dump", "--schema-only", "--no-owner", pg.url()],
                                    check=True, capture_output=True, text=True).stdout

            out = os.path.join(work, "psql-csv")
            script = " && ".join(
                f"psql -X -q {pg.url()} -c '\\copy \"{t}\" TO '\"'{out}/{t}.csv'\"' CSV HEADER'"
                for t in tables)
            timed("psql \\copy TO", fresh_dir(out), ["bash", "-c", script],
                  lambda: check_files(out, tables, "csv", rows, "psql \\copy TO"), out=out)
            gout = os.path.join(work, "godwit-pg-csv")
            p = project(work, "pg-to-csv", PG_SRC, files_target("csv"), PG_CONN + folder_store(gout))
            timed("godwit postgres-source → csv-target", fresh_dir(gout), [godwit, "run", p, "--fresh"],
                  lambda: check_files(gout, tables, "csv", rows, "postgres-source to csv"),
                  env=godwit_env(pg), out=gout)

            # Back in: the peer into tables created beforehand (untimed).
            def schema_only():
                pg.fresh()
                subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", pg.url()], input=schema,
                               check=True, capture_output=True, text=True)
            script = ("psql -X -q -v ON_ERROR_STOP=1 " + pg.url() + " -c 'SET session_replication_role = replica' "
                      + " ".join(f"-c '\\copy \"{t}\" FROM '\"'{out}/{t}.csv'\"' CSV HEADER'" for t in tables))
            timed("psql \\copy FROM", schema_only, ["bash", "-c", script],
                  lambda: pg_rows(pg, tables) == rows or sys.exit("psql \\copy FROM lost rows"))
            p = project(work, "csv-to-pg", files_source("csv"), PG_DST, PG_CONN + folder_store(gout))
            timed("godwit csv-source → postgres-target", pg.fresh, [godwit, "run", p, "--fresh"],
                  lambda: pg_rows(pg, tables) == rows or sys.exit("csv-source to PostgreSQL lost rows"),
                  env=godwit_env(pg))
        finally:
            pg.stop()

    peers = {
        "godwit jsonl-target": "sqlite3 -json",
        "godwit csv-target": "sqlite3 -csv",
        "godwit jsonl-target → S3": "sqlite3 -json",
        "godwit csv-target → S3": "sqlite3 -csv",
        "godwit postgres-source → csv-target": "psql \\copy TO",
        "godwit csv-source → postgres-target": "psql \\copy FROM",
    }
    print(f"{rows} rows, {info['db_bytes'] >> 20} MiB SQLite database, median of {args.runs} runs")
    print(f"{'tool':38} {'wall s':>8} {'vs peer':>8} {'CPU s':>7} {'peak MiB':>9} {'out MiB':>8}")
    for name, runs in results["runs"].items():
        wall = harness.median(runs, "wall_s")
        peer = peers.get(name)
        ratio = None
        if peer in results["runs"]:
            ratio = round(wall / harness.median(results["runs"][peer], "wall_s"), 2)
        out = harness.median(runs, "out_bytes") if "out_bytes" in runs[0] else None
        results.setdefault("median", {})[name] = {
            "wall_s": wall, "peer": peer, "ratio_to_peer": ratio,
            "cpu_s": harness.median(runs, "cpu_s"),
            "peak_rss_mib": harness.median(runs, "peak_rss_mib"),
            "out_mib": round(out / 2**20, 1) if out is not None else None,
        }
        print(f"{name:38} {wall:8.2f} {('%.2f×' % ratio) if ratio else '':>8} "
              f"{harness.median(runs, 'cpu_s'):7.1f} {harness.median(runs, 'peak_rss_mib'):9.1f} "
              f"{(out or 0) / 2**20:8.1f}")
    for s in results["skipped"]:
        print(f"skipped: {s}")
    os.makedirs(os.path.join(harness.BENCH, "results"), exist_ok=True)
    with open(os.path.join(harness.BENCH, "results", "export.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
