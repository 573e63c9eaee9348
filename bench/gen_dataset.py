#!/usr/bin/env python3
"""Deterministic benchmark dataset (issue 6): a meeting app's SQLite database
in the shape the peers were measured on, and optionally an uploads folder.

    python3 bench/gen_dataset.py OUT_DIR [--transcripts N] [--uploads-mib M]

Tables (default scale, 1.1 M rows):
  users             200
  tasks           2,000   FK users; REAL duration, JSON settings, timestamps
  transcripts 1,000,000   FK tasks; text segments, REAL start/end, BLOB hash
  speaker_mappings ~7,000 FK tasks, users
  audit_logs      100,000 FK users; JSON payload

Same arguments, same bytes: a fixed seed and no time-dependent values, so
every tool is measured on identical input and can be verified against it.
Uploads: files of 4 KiB to 2 MiB under uploads/<task>/, pseudo-random bytes
(incompressible), until M MiB are written.
"""
import argparse
import json
import os
import random
import sqlite3

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    title       TEXT NOT NULL,
    duration_s  REAL,
    settings    TEXT,                 -- JSON
    audio_path  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX tasks_owner ON tasks(owner_id);
CREATE TABLE transcripts (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    seq         INTEGER NOT NULL,
    speaker     TEXT,
    start_s     REAL NOT NULL,
    end_s       REAL NOT NULL,
    text        TEXT NOT NULL,
    digest      BLOB
);
CREATE INDEX transcripts_task ON transcripts(task_id, seq);
CREATE TABLE speaker_mappings (
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    label       TEXT NOT NULL,
    user_id     INTEGER REFERENCES users(id),
    PRIMARY KEY (task_id, label)
);
CREATE TABLE audit_logs (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id),
    action      TEXT NOT NULL,
    payload     TEXT,                 -- JSON
    at          TEXT NOT NULL
);
"""

WORDS = ("the we agreed budget next week launch customer issue roadmap design review "
         "follow up action item hiring metrics latency deploy rollback meeting notes").split()


def ts(rng, base=1_700_000_000):
    t = base + rng.randint(0, 40_000_000)
    import time
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--transcripts", type=int, default=1_000_000)
    ap.add_argument("--uploads-mib", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    db = os.path.join(a.out, "app.db")
    if os.path.exists(db):
        os.remove(db)
    rng = random.Random(20261122)
    con = sqlite3.connect(db)
    con.executescript(SCHEMA)
    con.executemany("INSERT INTO users VALUES (?,?,?,?)",
                    [(u, f"user{u}@example.com", None if u % 17 == 0 else f"User {u}", ts(rng))
                     for u in range(1, 201)])
    tasks = []
    for t in range(1, 2001):
        settings = json.dumps({"lang": rng.choice(["en", "zh", "de"]), "diarize": rng.random() < 0.5,
                               "model": rng.choice(["small", "large-v3"])})
        tasks.append((t, 1 + t % 200, f"Meeting {t}", round(rng.uniform(60, 7200), 3), settings,
                      None if t % 13 == 0 else f"uploads/{t}/audio.m4a", ts(rng)))
    con.executemany("INSERT INTO tasks VALUES (?,?,?,?,?,?,?)", tasks)
    batch = []
    per_task = max(1, a.transcripts // 2000)
    tid = 0
    for t in range(1, 2001):
        start = 0.0
        n = per_task + (a.transcripts - per_task * 2000 if t == 2000 else 0)
        for s in range(n):
            tid += 1
            dur = rng.uniform(0.5, 12.0)
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 24)))
            batch.append((tid, t, s, f"S{rng.randint(0, 3)}", round(start, 3), round(start + dur, 3),
                          words, rng.getrandbits(64).to_bytes(8, "little") if s % 5 == 0 else None))
            start += dur
            if len(batch) >= 50_000:
                con.executemany("INSERT INTO transcripts VALUES (?,?,?,?,?,?,?,?)", batch)
                batch.clear()
    con.executemany("INSERT INTO transcripts VALUES (?,?,?,?,?,?,?,?)", batch)
    maps = []
    for t in range(1, 2001):
        for k in range(rng.randint(2, 5)):
            maps.append((t, f"S{k}", None if rng.random() < 0.2 else rng.randint(1, 200)))
    con.executemany("INSERT INTO speaker_mappings VALUES (?,?,?)", maps)
    logs = [(i, None if i % 50 == 0 else rng.randint(1, 200), rng.choice(["login", "export", "share", "delete"]),
             json.dumps({"ip": f"10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)}", "ok": rng.random() < 0.9}),
             ts(rng)) for i in range(1, 100_001)]
    con.executemany("INSERT INTO audit_logs VALUES (?,?,?,?,?)", logs)
    con.commit()
    con.close()
    written = 0
    limit = a.uploads_mib << 20
    n = 0
    while written < limit:
        n += 1
        size = min(rng.choice([4096, 65536, 262144, 1 << 20, 2 << 20]), limit - written)
        path = os.path.join(a.out, "uploads", str(1 + n % 2000), f"file-{n}.bin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))
        written += size
    print(json.dumps({"db": db, "transcripts": a.transcripts, "speaker_mappings": len(maps),
                      "upload_files": n, "upload_bytes": written}))


if __name__ == "__main__":
    main()
