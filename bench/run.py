#!/usr/bin/env python3
"""godwit side by side with its peers (issue 6), verified, in one run.

    bash bench/run.sh [--transcripts N] [--big N] [--uploads-mib M] [--runs R]

(`run.sh` installs the peers and builds godwit, then calls this file.)

What it does, in order:
  1. Generates the deterministic dataset (bench/gen_dataset.py) under
     bench/.work/, once per scale.
  2. Starts a throwaway PostgreSQL cluster and an S3 server (s3s-fs) on
     free loopback ports, both removed at the end.
  3. SQLite -> PostgreSQL, R rounds; in each round every tool runs once, in
     an order rotated per round: the raw `sqlite3 -csv | psql \\copy` pipe
     (with the same keys, indexes and foreign keys created afterwards),
     godwit, godwit with a rewrite rule on a 1 M-row column, pgloader and
     sling. Before each run: a fresh database, the page cache dropped, and a
     wait for a quiet machine.
  4. After each run, and outside its timing, every table is compared with
     the source row by row and cell by cell (counts AND values), and the
     constraints present are counted. A tool that changes data is reported
     as such.
  5. The same at --big transcripts for godwit and the raw pipe (peak memory
     must stay flat).
  6. Files: godwit and rclone copy the uploads folder local -> local and
     local -> S3, each followed by a re-run over the complete destination;
     `cp -r` as a floor. Every copy is verified against the source's MD5s.
  7. Writes bench/results/<time>.json, latest.json and latest.md, and the
     results section of docs/performance.md.

Measured per run: wall time; CPU (user + system) and peak RSS of the tool's
process tree as the kernel reports them for the reaped tree (peak RSS is
that of its largest process; the PostgreSQL server's own work is not in
these figures for any tool); rows/s or MiB/s. Ratios are to the raw pipe
(SQL) and to rclone (files), each median against median of the same run.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.path.join(BENCH, ".work")
RESULTS = os.path.join(BENCH, "results")
DOC = os.path.join(ROOT, "docs", "performance.md")

# Credentials of the throwaway S3 server (loopback only, removed at the end).
S3_KEY, S3_SECRET, S3_BUCKET = "AKIDGODWITBENCH", "godwit-bench-secret", "bench"
# Machine counted as quiet below this share of busy CPU (over 0.5 s).
QUIET_BUSY = 0.15
# Longest wait for a quiet machine before a run starts anyway (noted).
QUIET_MAX_WAIT_S = 30
# Longest a single tool run may take.
RUN_TIMEOUT_S = 1800
# Mismatch examples kept per table.
EXAMPLES = 3
# The column the rewrite-rule variant rewrites: the largest table, so the
# rule sees 1 M values (the realistic path column, tasks.audio_path, has
# only 2,000 rows and would hide the rule's cost).
REWRITE_COLUMN = ("transcripts", "speaker")
REWRITE_FROM, REWRITE_TO = "S", "spk/S"
# JSON columns: a tool storing them as jsonb changes their text but not
# their meaning; such cells count as "normalized", not as changed.
JSON_COLUMNS = {("tasks", "settings"), ("audit_logs", "payload")}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def which(name, extra=()):
    for p in extra:
        if p and os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return shutil.which(name)


# ---------------------------------------------------------------- machine


def machine_facts():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass

    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except Exception:
            return None

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {},
        "version_probe": version,
    }


def drop_caches():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def cpu_busy(interval=0.5):
    def snap():
        v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v), idle

    t1, i1 = snap()
    time.sleep(interval)
    t2, i2 = snap()
    return 1.0 - (i2 - i1) / max(1, t2 - t1)


def wait_quiet():
    start = time.monotonic()
    busy = cpu_busy()
    while busy > QUIET_BUSY and time.monotonic() - start < QUIET_MAX_WAIT_S:
        busy = cpu_busy()
    return round(busy, 3)


def measure(cmd, env=None, cwd=None, log_path=None):
    """Runs cmd; returns wall/CPU/peak RSS of its reaped process tree."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = t0 + RUN_TIMEOUT_S
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(p.pid, 9)
        time.sleep(0.01)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if log_path:
        out.close()
    return {
        "exit": p.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_mib": round(ru.ru_maxrss / 1024, 1),
    }


def tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        return "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", l) for l in lines[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------- servers


class Postgres:
    def __init__(self, work):
        bins = sorted(d for d in os.listdir("/usr/lib/postgresql") if d.isdigit())
        if not bins:
            raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = f"/usr/lib/postgresql/{bins[-1]}/bin"
        self.version = bins[-1]
        self.dir = tempfile.mkdtemp(prefix="godwit-bench-pg-", dir="/tmp")
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        self._as_pg(["initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
                     "-E", "UTF8", "--locale=C.UTF-8"])
        # The harness's settings (docs/performance.md says so): durability
        # off for every tool alike, so the figures measure the tools.
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._as_pg(["pg_ctl", "-D", data, "-l", os.path.join(self.dir, "server.log"), "-w",
                     "-t", "60", "-o", opts, "start"])
        self.data = data

    def _as_pg(self, args):
        cmd = ["runuser", "-u", "postgres", "--", os.path.join(self.bin, args[0])] + args[1:]
        subprocess.run(cmd, check=True, capture_output=True)

    def url(self, db="bench"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql, db="bench"):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url(db),
                              "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return out.stdout

    def fresh(self):
        self.psql("DROP DATABASE IF EXISTS bench WITH (FORCE)", "postgres")
        self.psql("CREATE DATABASE bench", "postgres")

    def stop(self):
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, "pg_ctl"), "-D",
                        self.data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self):
        return tail(os.path.join(self.dir, "server.log"), 20)


class S3:
    def __init__(self, binary):
        self.root = tempfile.mkdtemp(prefix="godwit-bench-s3-", dir="/tmp")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(self.port), "--access-key", S3_KEY,
             "--secret-key", S3_SECRET, self.root],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("s3s-fs did not start")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def bucket_dir(self):
        return os.path.join(self.root, S3_BUCKET)

    def empty_bucket(self):
        shutil.rmtree(self.bucket_dir(), ignore_errors=True)
        os.makedirs(self.bucket_dir())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- dataset


def dataset(transcripts, uploads_mib):
    out = os.path.join(WORK, f"data-{transcripts}")
    meta = os.path.join(out, "dataset.json")
    want = {"transcripts": transcripts, "uploads_mib": uploads_mib}
    if os.path.exists(meta):
        info = json.load(open(meta))
        if info.get("args") == want:
            return out, info
    log(f"generating the dataset: {transcripts} transcripts, {uploads_mib} MiB of uploads")
    shutil.rmtree(out, ignore_errors=True)
    res = subprocess.run([sys.executable, os.path.join(BENCH, "gen_dataset.py"), out,
                          "--transcripts", str(transcripts), "--uploads-mib", str(uploads_mib)],
                         check=True, capture_output=True, text=True)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    info["args"] = want
    info["tables"] = source_tables(os.path.join(out, "app.db"))
    info["rows"] = sum(t["rows"] for t in info["tables"].values())
    info["db_bytes"] = os.path.getsize(os.path.join(out, "app.db"))
    json.dump(info, open(meta, "w"), indent=1)
    return out, info


def source_tables(db):
    """Per table: columns with their kinds, the primary key, row count and
    the constraints a faithful copy has."""
    con = sqlite3.connect(db)
    tables = {}
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' "
                               "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
        cols, pk, not_null = [], [], 0
        for _, col, decl, notnull, _, pkpos in con.execute(f"PRAGMA table_info({name})"):
            d = (decl or "").upper()
            kind = ("int" if "INT" in d else "float" if any(x in d for x in ("REAL", "FLOA", "DOUB"))
                    else "blob" if "BLOB" in d else "json" if (name, col) in JSON_COLUMNS else "text")
            cols.append([col, kind])
            if pkpos:
                pk.append((pkpos, col))
            if notnull or pkpos:
                not_null += 1
        fks = {row[0] for row in con.execute(f"PRAGMA foreign_key_list({name})")}
        idx = list(con.execute(f"PRAGMA index_list({name})"))
        tables[name] = {
            "columns": cols,
            "pk": [c for _, c in sorted(pk)],
            "rows": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0],
            "constraints": {
                "primary_key": 1 if pk else 0,
                "foreign_keys": len(fks),
                "unique": sum(1 for r in idx if r[3] == "u"),
                "indexes": sum(1 for r in idx if r[3] == "c"),
                "not_null": not_null,
            },
        }
    con.close()
    return tables


def file_manifest(root):
    """{relative path: (size, md5)} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            h = hashlib.md5()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.relpath(p, root)] = (os.path.getsize(p), h.hexdigest())
    return out


# ---------------------------------------------------------------- verification


def unescape_copy(field):
    """A field of PostgreSQL's COPY text format, decoded."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    table = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(table.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def compare_cell(kind, src, tgt):
    """'same', 'normalized' (same meaning, other text) or 'changed'."""
    if src is None or tgt is None:
        return "same" if src is None and tgt is None else "changed"
    if kind == "int":
        try:
            return "same" if isinstance(src, int) and int(tgt) == src else "changed"
        except ValueError:
            return "changed"
    if kind == "float":
        try:
            return "same" if float(tgt) == float(src) else "changed"
        except ValueError:
            return "changed"
    if kind == "blob":
        if tgt.startswith("\\x"):
            try:
                return "same" if bytes.fromhex(tgt[2:]) == bytes(src) else "changed"
            except ValueError:
                return "changed"
        return "changed"
    if tgt == src:
        return "same"
    if kind == "json":
        try:
            return "normalized" if json.loads(tgt) == json.loads(src) else "changed"
        except ValueError:
            return "changed"
    return "changed"


def verify_database(pg, db_path, tables, transform=None):
    """Every table compared with the source, merged on the primary key."""
    transform = transform or {}
    con = sqlite3.connect(db_path)
    report = {"tables": {}, "verdict": "exact"}
    present = set(pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split())
    for name, t in tables.items():
        cols = [c for c, _ in t["columns"]]
        kinds = [k for _, k in t["columns"]]
        pk = t["pk"]
        pki = [cols.index(k) for k in pk]
        r = {"source_rows": t["rows"], "target_rows": 0, "missing": 0, "extra": 0,
             "changed_cells": {}, "normalized_cells": {}, "examples": []}
        report["tables"][name] = r
        if name not in present:
            r["error"] = "table missing in the target"
            r["missing"] = t["rows"]
            report["verdict"] = "changed"
            continue
        target_cols = set(pg.psql(
            f"SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            f"AND table_name = '{name}'").split())
        absent = [c for c in cols if c not in target_cols]
        if absent:
            r["error"] = f"columns missing in the target: {absent}"
            report["verdict"] = "changed"
            continue
        qcols = ", ".join(f'"{c}"' for c in cols)
        # Floats read as float8 whatever the target type, so a tool that
        # stored them as float4 shows its rounding (float4's own text
        # output would hide it).
        tcols = ", ".join(f'"{c}"::float8' if k == "float" else f'"{c}"'
                          for c, k in t["columns"])
        order = ", ".join(f'"{c}"' for c in pk)
        proc = subprocess.Popen(
            ["psql", "-X", "-q", pg.url(), "-c",
             f"COPY (SELECT {tcols} FROM public.\"{name}\" ORDER BY {order}) TO STDOUT"],
            stdout=subprocess.PIPE, text=True, encoding="utf-8", errors="surrogateescape")
        src_rows = con.execute(f"SELECT {qcols} FROM \"{name}\" ORDER BY {order}")

        def key_of_target(vals):
            return tuple(int(vals[i]) if kinds[i] == "int" else vals[i] for i in pki)

        def target_rows():
            for line in proc.stdout:
                yield [unescape_copy(f) for f in line.rstrip("\n").split("\t")]

        tgt_iter = target_rows()
        s = next(src_rows, None)
        g = next(tgt_iter, None)
        while s is not None or g is not None:
            if g is not None:
                try:
                    gk = key_of_target(g)
                except (TypeError, ValueError):
                    gk = None
            if s is not None:
                sk = tuple(s[i] for i in pki)
            if g is None or (s is not None and gk is not None and sk < gk):
                r["missing"] += 1
                if len(r["examples"]) < EXAMPLES:
                    r["examples"].append({"key": list(sk), "problem": "missing in the target"})
                s = next(src_rows, None)
                continue
            r["target_rows"] += 1
            if s is None or gk is None or gk < sk:
                r["extra"] += 1
                if len(r["examples"]) < EXAMPLES:
                    r["examples"].append({"key": g[:len(pki)], "problem": "not in the source"})
                g = next(tgt_iter, None)
                continue
            for i, (sv, gv) in enumerate(zip(s, g)):
                f = transform.get((name, cols[i]))
                if f:
                    sv = f(sv)
                verdict = compare_cell(kinds[i], sv, gv)
                if verdict == "same":
                    continue
                bucket = r["changed_cells"] if verdict == "changed" else r["normalized_cells"]
                bucket[cols[i]] = bucket.get(cols[i], 0) + 1
                if verdict == "changed" and len(r["examples"]) < EXAMPLES:
                    sv_show = sv.hex() if isinstance(sv, bytes) else sv
                    r["examples"].append({"key": list(sk), "column": cols[i],
                                          "source": str(sv_show)[:80], "target": str(gv)[:80]})
            s = next(src_rows, None)
            g = next(tgt_iter, None)
        proc.wait()
        if r["missing"] or r["extra"] or r["changed_cells"]:
            report["verdict"] = "changed"
        elif r["normalized_cells"] and report["verdict"] == "exact":
            report["verdict"] = "normalized"
    con.close()
    report["constraints"] = constraints(pg, tables)
    return report


def constraints(pg, tables):
    """Constraints present in the target against those of the source."""
    want = {k: sum(t["constraints"][k] for t in tables.values())
            for k in ("primary_key", "foreign_keys", "unique", "indexes", "not_null")}
    names = ",".join(f"'{n}'" for n in tables)
    # Keys and unique constraints counted by their indexes, so a unique
    # index made instead of a UNIQUE constraint counts as one.
    rows = pg.psql(
        "SELECT i.indisprimary, i.indisunique, count(*) FROM pg_index i "
        f"JOIN pg_class r ON r.oid = i.indrelid WHERE r.relname IN ({names}) "
        "AND r.relnamespace = 'public'::regnamespace GROUP BY 1, 2")
    pkc = uq = idx = 0
    for line in rows.split():
        primary, unique, n = line.split("|")
        if primary == "t":
            pkc += int(n)
        elif unique == "t":
            uq += int(n)
        else:
            idx += int(n)
    fk = int(pg.psql(
        "SELECT count(*) FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
        f"WHERE r.relname IN ({names}) AND c.contype = 'f' "
        "AND r.relnamespace = 'public'::regnamespace").strip())
    nn = int(pg.psql(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid "
        f"WHERE r.relname IN ({names}) AND r.relkind = 'r' AND a.attnum > 0 AND a.attnotnull "
        "AND NOT a.attisdropped AND r.relnamespace = 'public'::regnamespace").strip())
    have = {"primary_key": pkc, "foreign_keys": fk, "unique": uq, "indexes": idx, "not_null": nn}
    return {"want": want, "have": have, "all": all(have[k] >= want[k] for k in want)}


def verify_files(manifest, root):
    """Target files against the source manifest."""
    got = file_manifest(root) if os.path.isdir(root) else {}
    missing = [k for k in manifest if k not in got]
    wrong = [k for k in manifest if k in got and got[k] != manifest[k]]
    extra = [k for k in got if k not in manifest]
    ok = not (missing or wrong or extra)
    return {"verdict": "exact" if ok else "changed", "files": len(got), "missing": len(missing),
            "different": len(wrong), "extra": len(extra),
            "examples": (missing + wrong + extra)[:EXAMPLES]}


# ---------------------------------------------------------------- tools


def godwit_project(path, body):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "godwit.toml"), "w") as f:
        f.write(body)
    shutil.rmtree(os.path.join(path, ".godwit"), ignore_errors=True)
    return path


def sql_project(work, db, rewrite):
    name = "godwit-rewrite" if rewrite else "godwit"
    body = f"""[project]
name = "bench-{name}"
reports_dir = "runs"

[connections.app]
dsn = "sqlite://{db}?mode=ro"

[connections.pg]
dsn = "${{BENCH_PG_URL}}"

[plugins.app]
path = "builtin:sqlite-source"
grants.sql = {{ source = "app" }}

[plugins.pg]
path = "builtin:postgres-target"
grants.sql = {{ target = "pg" }}
"""
    if rewrite:
        body += f"""
[plugins.rule]
path = "builtin:prefix-rewrite"
params = {{ from = "{REWRITE_FROM}", to = "{REWRITE_TO}", on_mismatch = "reject" }}
"""
    body += """
[[steps]]
name = "app-to-pg"
source = "app"
target = "pg"
mode = "create"
"""
    if rewrite:
        body += f'rewrites = [{{ column = "{REWRITE_COLUMN[0]}.{REWRITE_COLUMN[1]}", rule = "rule" }}]\n'
    return godwit_project(os.path.join(work, "projects", name), body)


def files_project(work, src_root, target):
    """A copy of uploads/ into a local folder or the S3 bucket."""
    name = f"godwit-files-{target['kind']}"
    if target["kind"] == "local":
        store = f'type = "fs"\nroot = "{target["root"]}"'
    else:
        store = (f'type = "s3"\nbucket = "{S3_BUCKET}"\nendpoint = "{target["endpoint"]}"\n'
                 'region = "us-east-1"\naccess_key_env = "BENCH_S3_KEY"\n'
                 'secret_key_env = "BENCH_S3_SECRET"')
    body = f"""[project]
name = "bench-{name}"
reports_dir = "runs"

[stores.src]
type = "fs"
root = "{src_root}"

[stores.dst]
{store}

[[copies]]
name = "uploads"
from = "src"
to = "dst"
prefix = "uploads/"
"""
    return godwit_project(os.path.join(work, "projects", name), body)


def last_report(project):
    runs = os.path.join(project, "runs")
    if not os.path.isdir(runs):
        return None
    latest = sorted(os.listdir(runs))[-1]
    try:
        return json.load(open(os.path.join(runs, latest, "report.json")))
    except (OSError, ValueError):
        return None


SLING_REPLICATION = """source: SRC
target: TGT
defaults:
  mode: full-refresh
  object: public.{stream_table}
streams:
  main.users:
  main.tasks:
  main.speaker_mappings:
  main.audit_logs:
  main.transcripts:
    # sling reads SQLite BLOBs as text and PostgreSQL refuses the bytes
    # (invalid UTF-8), so the digest crosses as hex text: verification
    # reports that column as changed.
    sql: SELECT id, task_id, seq, speaker, start_s, end_s, text, hex(digest) AS digest FROM transcripts
"""


class Tools:
    def __init__(self, args):
        self.godwit = args.godwit or os.path.join(ROOT, "target", "release", "godwit")
        if not os.path.exists(self.godwit):
            raise SystemExit(f"{self.godwit} not found: run bench/run.sh (it builds godwit)")
        self.sqlite3 = which("sqlite3")
        self.pgloader = which("pgloader")
        self.rclone = which("rclone")
        sling_pkg = None
        try:
            import sling_linux_amd64  # noqa: F401
            sling_pkg = os.path.join(os.path.dirname(sling_linux_amd64.__file__), "bin",
                                     "sling-linux-amd64")
        except ImportError:
            pass
        self.sling = which("sling", [os.environ.get("SLING_BIN"), sling_pkg])
        self.s3s = which("s3s-fs", [os.environ.get("GODWIT_S3S_FS"),
                                    "/opt/godwit-tools/bin/s3s-fs",
                                    os.path.expanduser("~/.cache/godwit-tools/bin/s3s-fs")])

    def versions(self):
        def first(cmd):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                text = (out.stdout + out.stderr).strip()
                return re.sub(r"\x1b\[[0-9;]*m", "", text.splitlines()[0]) if text else None
            except Exception:
                return None

        return {
            "godwit": first([self.godwit, "--version"]),
            "sqlite3": self.sqlite3 and first([self.sqlite3, "--version"]),
            "psql": first(["psql", "--version"]),
            "pgloader": self.pgloader and first([self.pgloader, "--version"]),
            "sling": self.sling and first([self.sling, "--version"]),
            "rclone": self.rclone and first([self.rclone, "--version"]),
        }


def sql_runs(tools, pg, data, info, work):
    db = os.path.join(data, "app.db")
    url = pg.url()
    env = dict(os.environ, BENCH_PG_URL=url)
    entries = {
        "raw pipe": (["bash", os.path.join(BENCH, "peers", "raw_pipe.sh"), db, url], None, None),
        "godwit": ([tools.godwit, "run", sql_project(work, db, False)], None, None),
        "godwit + rewrite": ([tools.godwit, "run", sql_project(work, db, True)],
                             {REWRITE_COLUMN: lambda v: None if v is None else
                              (REWRITE_TO + v[len(REWRITE_FROM):] if v.startswith(REWRITE_FROM)
                               else v)}, None),
    }
    if tools.pgloader:
        entries["pgloader"] = ([tools.pgloader, f"sqlite://{db}", url], None, None)
    if tools.sling:
        sl = os.path.join(work, "sling")
        os.makedirs(sl, exist_ok=True)
        with open(os.path.join(sl, "replication.yaml"), "w") as f:
            f.write(SLING_REPLICATION)
        sling_env = dict(env, SRC=f"sqlite://{db}", TGT=url + "?sslmode=disable",
                         SLING_DISABLE_TELEMETRY="true", SLING_HOME_DIR=os.path.join(sl, "home"))
        entries["sling"] = ([tools.sling, "run", "-r", os.path.join(sl, "replication.yaml")],
                            None, sling_env)
    return entries


def run_sql(tools, pg, data, info, work, runs, only=None):
    entries = sql_runs(tools, pg, data, info, work)
    if only:
        entries = {k: v for k, v in entries.items() if k in only}
    names = list(entries)
    results = {n: [] for n in names}
    for r in range(runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            cmd, transform, env = entries[name]
            pg.fresh()
            dropped = drop_caches()
            busy = wait_quiet()
            logp = os.path.join(work, "logs", f"{name.replace(' ', '_')}-{info['transcripts']}-{r + 1}.log")
            os.makedirs(os.path.dirname(logp), exist_ok=True)
            m = measure(cmd, env=env or dict(os.environ, BENCH_PG_URL=pg.url()),
                        cwd=work, log_path=logp)
            m.update(run=r + 1, cache_dropped=dropped, busy_before=busy,
                         log=os.path.relpath(logp, work))
            if m["exit"] != 0:
                m["error"] = tail(logp)
            m["rows_per_s"] = round(info["rows"] / m["wall_s"]) if m["wall_s"] else None
            if name.startswith("godwit"):
                rep = last_report(cmd[-1])
                if rep:
                    m["plugin_start"] = [p.get("start") for p in rep.get("plugins", [])]
            m["verification"] = verify_database(pg, os.path.join(data, "app.db"), info["tables"],
                                                transform)
            log(f"{name:<18} run {r + 1}: {m['wall_s']:7.2f} s  cpu {m['cpu_s']:6.2f} s  "
                f"rss {m['peak_rss_mib']:6.1f} MiB  exit {m['exit']}  "
                f"data {m['verification']['verdict']}")
            results[name].append(m)
    return results


def run_files(tools, s3, data, work, runs, manifest):
    src_root = data
    uploads = os.path.join(data, "uploads")
    local_dst = os.path.join(work, "files-dst")
    env = dict(os.environ, BENCH_S3_KEY=S3_KEY, BENCH_S3_SECRET=S3_SECRET,
               RCLONE_CONFIG_BENCH_TYPE="s3", RCLONE_CONFIG_BENCH_PROVIDER="Other",
               RCLONE_CONFIG_BENCH_ENDPOINT=s3.endpoint if s3 else "",
               RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3_KEY,
               RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3_SECRET,
               RCLONE_CONFIG_BENCH_REGION="us-east-1", RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true",
               RCLONE_CONFIG=os.path.join(work, "rclone.conf"))
    # rclone 1.60 refuses to start its S3 client when AWS_CA_BUNDLE is set
    # ("unsupported transport"); the endpoint is plain HTTP on loopback.
    env.pop("AWS_CA_BUNDLE", None)
    open(env["RCLONE_CONFIG"], "a").close()
    # (name, target kind, command builder, where the copy lands, reset)
    local_root = lambda: os.path.join(local_dst, "uploads")  # noqa: E731
    bucket_root = lambda: os.path.join(s3.bucket_dir(), "uploads")  # noqa: E731

    def reset_local():
        shutil.rmtree(local_dst, ignore_errors=True)
        os.makedirs(local_dst)

    entries = [
        ("cp -r", "local", ["cp", "-r", uploads, local_dst + "/"], local_root, reset_local, False),
        ("godwit", "local", [tools.godwit, "run", files_project(
            work, src_root, {"kind": "local", "root": local_dst})], local_root, reset_local, True),
    ]
    if tools.rclone:
        entries.append(("rclone", "local", [tools.rclone, "copy", uploads,
                                            os.path.join(local_dst, "uploads")],
                        local_root, reset_local, True))
    if s3:
        entries.append(("godwit", "s3", [tools.godwit, "run", files_project(
            work, src_root, {"kind": "s3", "endpoint": s3.endpoint})], bucket_root,
            s3.empty_bucket, True))
        if tools.rclone:
            entries.append(("rclone", "s3", [tools.rclone, "copy", uploads,
                                             f"bench:{S3_BUCKET}/uploads"], bucket_root,
                            s3.empty_bucket, True))
    results = {}
    total = sum(size for size, _ in manifest.values())
    for r in range(runs):
        k = r % len(entries)
        for name, kind, cmd, where, reset, rerun in entries[k:] + entries[:k]:
            key = f"{name} ({kind})"
            reset()
            if name == "godwit":
                shutil.rmtree(os.path.join(cmd[-1], ".godwit"), ignore_errors=True)
            phases = [("copy", cmd)]
            if rerun:
                phases.append(("re-run", cmd))
            if rerun and name == "rclone":
                # rclone's default re-run compares size and modification
                # time (a HEAD per object on S3); with --checksum it compares
                # MD5s (hashing every source file) instead.
                phases.append(("re-run --checksum", cmd[:2] + ["--checksum"] + cmd[2:]))
            for phase, cmd in phases:
                dropped = drop_caches()
                busy = wait_quiet()
                slug = re.sub(r"[^a-z0-9]+", "_", f"{name}-{kind}-{phase}")
                logp = os.path.join(work, "logs", f"files-{slug}-{r + 1}.log")
                m = measure(cmd, env=env, cwd=work, log_path=logp)
                m.update(run=r + 1, cache_dropped=dropped, busy_before=busy,
                         log=os.path.relpath(logp, work))
                if m["exit"] != 0:
                    m["error"] = tail(logp)
                m["mib_per_s"] = round(total / 1048576 / m["wall_s"], 1) if m["wall_s"] else None
                m["verification"] = verify_files(manifest, where())
                log(f"{key:<18} {phase:<6} run {r + 1}: {m['wall_s']:7.2f} s  "
                    f"cpu {m['cpu_s']:6.2f} s  rss {m['peak_rss_mib']:6.1f} MiB  "
                    f"exit {m['exit']}  files {m['verification']['verdict']}")
                results.setdefault(f"{key} {phase}", []).append(m)
    return results


# ---------------------------------------------------------------- summary


def median(runs, field):
    vals = [r[field] for r in runs if r.get(field) is not None and r.get("exit") == 0]
    if not vals:
        vals = [r[field] for r in runs if r.get(field) is not None]
    return statistics.median(vals) if vals else None


def summarize(results, baseline):
    base = results.get(baseline)
    out = []
    for name, runs in results.items():
        row = {"tool": name, "runs": len(runs),
               "ok_runs": sum(1 for r in runs if r["exit"] == 0)}
        for f in ("wall_s", "cpu_s", "peak_rss_mib", "rows_per_s", "mib_per_s"):
            v = median(runs, f)
            if v is not None:
                row[f] = v
                b = median(base, f) if base else None
                if b:
                    row[f + "_ratio"] = round(v / b, 2)
        verdicts = {r["verification"]["verdict"] for r in runs}
        row["data"] = "changed" if "changed" in verdicts else (
            "normalized" if "normalized" in verdicts else "exact")
        if runs and "constraints" in runs[-1]["verification"]:
            c = runs[-1]["verification"]["constraints"]
            row["constraints"] = "all" if c["all"] else ", ".join(
                f"{k} {c['have'][k]}/{c['want'][k]}" for k in c["want"]
                if c["have"][k] < c["want"][k])
        changes = {}
        for r in runs[-1:]:
            for t, tr in r["verification"].get("tables", {}).items():
                for col, n in tr["changed_cells"].items():
                    changes[f"{t}.{col}"] = n
                if tr.get("missing"):
                    changes[f"{t} (missing rows)"] = tr["missing"]
                if tr.get("error"):
                    changes[t] = tr["error"]
            if r["verification"].get("missing"):
                changes["missing files"] = r["verification"]["missing"]
            if r["verification"].get("different"):
                changes["different files"] = r["verification"]["different"]
        if changes:
            row["changes"] = changes
        errors = [r["error"].splitlines()[-1] for r in runs if r.get("error")]
        if errors:
            row["error"] = errors[-1][:200]
        out.append(row)
    return out


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def markdown(res):
    m = res["machine"]
    lines = [
        f"Run {res['started']} on {m['cpu']} ({m['cores']} cores, {m['memory_mib']:,} MiB), "
        f"kernel {m['kernel']}; PostgreSQL {res['postgres']} on loopback with fsync off for "
        f"every tool; page cache dropped before each run: {res['cache_dropped']}; "
        f"median of {res['runs']} runs, tools alternating.",
        "",
        "Versions: " + ", ".join(f"{k} `{v}`" for k, v in m["versions"].items() if v) + ".",
        "",
    ]
    for key, title, unit_field, unit, base in (
            ("sql", "SQLite → PostgreSQL", "rows_per_s", " rows/s", "raw pipe"),
            ("sql_big", "SQLite → PostgreSQL, larger scale", "rows_per_s", " rows/s", "raw pipe"),
            ("files", "Files", "mib_per_s", " MiB/s", "rclone")):
        if key not in res:
            continue
        sec = res[key]
        lines += [f"### {title}: {sec['dataset']}", "",
                  f"| tool | wall | × {base} | CPU | peak RSS | {unit.strip()} | data | constraints |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in sec["summary"]:
            note = ""
            if row.get("ok_runs", 0) < row["runs"]:
                note = f" ({row['runs'] - row['ok_runs']} of {row['runs']} runs failed)"
            data = row["data"]
            if row.get("changes"):
                data += ": " + "; ".join(f"{k} {v}" for k, v in list(row["changes"].items())[:3])
            lines.append(
                f"| {row['tool']}{note} | {fmt(row.get('wall_s'), ' s')} | "
                f"{fmt(row.get('wall_s_ratio'), '×')} | {fmt(row.get('cpu_s'), ' s')} | "
                f"{fmt(row.get('peak_rss_mib'), ' MiB')} | {fmt(row.get(unit_field))} | {data} | "
                f"{row.get('constraints', '—')} |")
        lines.append("")
    if res.get("plugin_start"):
        ps = res["plugin_start"]
        lines += [f"Plugin start (cached compilation, {ps['samples']} starts): load "
                  f"{ps['compile_ms_median']:.2f} ms, instantiate {ps['instantiate_ms_median']:.2f} ms "
                  f"(median; max {ps['instantiate_ms_max']:.2f} ms).", ""]
    return "\n".join(lines)


def targets(res):
    """The issue's targets, each met or not, from this run's figures."""
    out = []

    def row(name, want, have, ok):
        out.append({"target": name, "want": want, "have": have, "met": ok})

    def get(sec, tool):
        for r in res.get(sec, {}).get("summary", []):
            if r["tool"] == tool:
                return r
        return None

    g, raw, gr = get("sql", "godwit"), get("sql", "raw pipe"), get("sql", "godwit + rewrite")
    if g and raw:
        ok = g["wall_s_ratio"] <= 1.1 and g["data"] == "exact" and g.get("constraints") == "all"
        row("SQLite → PostgreSQL, all constraints, zero mismatches", "≤ 1.1× raw pipe",
            f"{g['wall_s_ratio']}× ({g['data']}, constraints {g.get('constraints')})", ok)
    bigs = get("sql_big", "godwit")
    if g:
        have = f"{g['peak_rss_mib']} MiB"
        ok = g["peak_rss_mib"] <= 128
        if bigs:
            have += f" at {res['sql']['transcripts']:,}, {bigs['peak_rss_mib']} MiB at {res['sql_big']['transcripts']:,}"
            ok = ok and bigs["peak_rss_mib"] <= 128 and bigs["peak_rss_mib"] <= g["peak_rss_mib"] * 1.25
        row("Peak RSS, flat with scale", "≤ 128 MiB", have, ok)
    if g and gr:
        ratio = round(gr["wall_s"] / g["wall_s"], 2)
        row("With a rewrite rule on a 1 M-row column", "≤ 1.1× without", f"{ratio}×",
            ratio <= 1.1 and gr["data"] == "exact")
    for kind in ("local", "s3"):
        gw, rc = get("files", f"godwit ({kind}) copy"), get("files", f"rclone ({kind}) copy")
        if gw and rc:
            row(f"Files local → {kind}", "≥ rclone MiB/s", f"{gw['mib_per_s']} vs {rc['mib_per_s']} MiB/s",
                gw["mib_per_s"] >= rc["mib_per_s"] and gw["data"] == "exact")
        gw2, rc2 = get("files", f"godwit ({kind}) re-run"), get("files", f"rclone ({kind}) re-run")
        if gw2 and rc2:
            row(f"Re-run over a complete {kind} destination", "≤ rclone's time",
                f"{gw2['wall_s']} vs {rc2['wall_s']} s", gw2["wall_s"] <= rc2["wall_s"])
    ps = res.get("plugin_start")
    if ps:
        row("Cached plugin start", "≪ 10 ms",
            f"{ps['compile_ms_median'] + ps['instantiate_ms_median']:.2f} ms (load + instantiate)",
            ps["compile_ms_median"] + ps["instantiate_ms_median"] < 10)
    return out


def write_results(res):
    os.makedirs(RESULTS, exist_ok=True)
    stamp = res["started"].replace(":", "").replace("-", "")
    text = json.dumps(res, indent=1, default=str)
    for name in (f"{stamp}.json", "latest.json"):
        with open(os.path.join(RESULTS, name), "w") as f:
            f.write(text)
    md = markdown(res)
    tgt = targets(res)
    md += "\n### Targets\n\n| target | wanted | this run | met |\n|---|---|---|---|\n"
    md += "\n".join(f"| {t['target']} | {t['want']} | {t['have']} | {'yes' if t['met'] else '**no**'} |"
                    for t in tgt) + "\n"
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(md)
    if os.path.exists(DOC):
        doc = open(DOC).read()
        a, b = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
        if a in doc and b in doc:
            doc = doc[:doc.index(a) + len(a)] + "\n" + md + "\n" + doc[doc.index(b):]
            with open(DOC, "w") as f:
                f.write(doc)
    return md


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transcripts", type=int, default=1_000_000)
    ap.add_argument("--big", type=int, default=5_000_000,
                    help="transcripts at the larger scale (0: skip)")
    ap.add_argument("--big-runs", type=int, default=1)
    ap.add_argument("--uploads-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip", action="append", default=[], choices=["sql", "big", "files"])
    ap.add_argument("--only", action="append", default=[],
                    help="run only this SQL tool (repeatable): raw pipe, godwit, "
                         "godwit + rewrite, pgloader, sling")
    ap.add_argument("--godwit", help="godwit binary (default: target/release/godwit)")
    args = ap.parse_args()

    os.makedirs(WORK, exist_ok=True)
    # Datasets, the database, WAL and three copies of the uploads: refuse to
    # start rather than fill the disk halfway through (a full disk crashes
    # the PostgreSQL server and fails whichever tool runs then).
    need = (args.uploads_mib * 4 + max(args.transcripts, args.big) // 1_000_000 * 1600 + 2048) << 20
    free = shutil.disk_usage(WORK).free
    if free < need:
        raise SystemExit(f"{free >> 30} GiB free under {WORK}, the run needs about "
                         f"{need >> 30} GiB (fewer --uploads-mib or a smaller --big)")
    tools = Tools(args)
    facts = machine_facts()
    facts.pop("version_probe")
    facts["versions"] = tools.versions()
    missing = [n for n in ("sqlite3", "pgloader", "sling", "rclone", "s3s") if not getattr(tools, n)]
    if missing:
        log(f"not installed, left out: {', '.join(missing)} (bench/run.sh installs them)")
    res = {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": facts, "runs": args.runs, "missing_tools": missing}
    work = tempfile.mkdtemp(prefix="run-", dir=WORK)
    pg = Postgres(work)
    res["postgres"] = pg.version
    s3 = None
    try:
        data, info = dataset(args.transcripts, args.uploads_mib)
        if "sql" not in args.skip:
            results = run_sql(tools, pg, data, info, work, args.runs, set(args.only) or None)
            res["sql"] = {"dataset": f"{info['rows']:,} rows ({info['transcripts']:,} transcripts), "
                                     f"SQLite file {info['db_bytes'] / 1048576:.0f} MiB",
                          "transcripts": info["transcripts"], "rows": info["rows"],
                          "runs": results, "summary": summarize(results, "raw pipe")}
        if "big" not in args.skip and args.big:
            big, binfo = dataset(args.big, 0)
            results = run_sql(tools, pg, big, binfo, work, args.big_runs,
                              only={"raw pipe", "godwit"})
            res["sql_big"] = {"dataset": f"{binfo['rows']:,} rows ({binfo['transcripts']:,} transcripts)",
                              "transcripts": binfo["transcripts"], "rows": binfo["rows"],
                              "runs": results, "summary": summarize(results, "raw pipe")}
        if "files" not in args.skip and args.uploads_mib:
            manifest = file_manifest(os.path.join(data, "uploads"))
            if tools.s3s:
                s3 = S3(tools.s3s)
            results = run_files(tools, s3, data, work, args.runs, manifest)
            total = sum(s for s, _ in manifest.values())
            res["files"] = {"dataset": f"{len(manifest):,} files, {total / 1048576:,.0f} MiB "
                                       "(4 KiB–2 MiB each), checksum-verified copies",
                            "runs": results, "summary": []}
            for kind in ("local", "s3"):
                for phase in ("copy", "re-run"):
                    part = {k: v for k, v in results.items() if f"({kind}) {phase}" in k}
                    base = f"rclone ({kind}) {phase}"
                    res["files"]["summary"] += summarize(part, base)
        starts = [s for sec in ("sql", "sql_big") for runs in res.get(sec, {}).get("runs", {}).values()
                  for r in runs for s in r.get("plugin_start", []) if s and s.get("from_cache")]
        if starts:
            res["plugin_start"] = {
                "samples": len(starts),
                "compile_ms_median": statistics.median(s["compile_ms"] for s in starts),
                "instantiate_ms_median": statistics.median(s["instantiate_ms"] for s in starts),
                "instantiate_ms_max": max(s["instantiate_ms"] for s in starts),
            }
        res["cache_dropped"] = all(r.get("cache_dropped") for sec in ("sql", "sql_big", "files")
                                   for runs in res.get(sec, {}).get("runs", {}).values() for r in runs)
        res["targets"] = targets(res)
        print(write_results(res))
        log(f"results in {os.path.relpath(RESULTS, ROOT)}/latest.md and latest.json")
    finally:
        # The logs of the last run are kept for a look at failures.
        logs = os.path.join(WORK, "last-logs")
        shutil.rmtree(logs, ignore_errors=True)
        os.makedirs(os.path.join(work, "logs"), exist_ok=True)
        with open(os.path.join(work, "logs", "postgres.log"), "w") as f:
            f.write(pg.log_tail())
        shutil.move(os.path.join(work, "logs"), logs)
        pg.stop()
        if s3:
            s3.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
