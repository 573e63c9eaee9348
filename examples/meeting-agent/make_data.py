#!/usr/bin/env python3
"""Generates data/app.db: a meeting-agent backend's SQLite database, the way
real apps leave them: a foreign-key cycle (meetings <-> summaries), a
self-reference (follow-up meetings), timestamps in four formats (naive local
text, ISO with offsets, epoch seconds, epoch milliseconds, epoch nanoseconds),
0/1 flags, JSON in TEXT, and upload paths relative to the app's data folder,
with the uploaded files themselves under data/uploads/.

Deterministic (fixed seed): `python3 make_data.py` regenerates it bit for bit.
"""
import json
import os
import random
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.join(HERE, "data", "app.db")

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT NOT NULL UNIQUE,
    display_name TEXT,
    is_active    INTEGER NOT NULL DEFAULT 1,      -- 0/1
    created_at   TEXT NOT NULL                    -- naive local time (Asia/Shanghai)
);
CREATE TABLE meetings (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id           INTEGER NOT NULL REFERENCES users(id),
    follow_up_of       INTEGER REFERENCES meetings(id),          -- self-reference
    current_summary_id INTEGER REFERENCES summaries(id),         -- cycle with summaries
    title              TEXT NOT NULL,
    audio_path         TEXT,                                     -- relative: uploads/<id>/audio.m4a
    started_at         INTEGER,                                  -- epoch seconds
    ended_at           INTEGER,                                  -- epoch milliseconds
    created_at         DATETIME NOT NULL                         -- ISO with offset, or naive local
);
CREATE INDEX idx_meetings_owner ON meetings(owner_id);
CREATE TABLE summaries (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    model       TEXT,
    meta        TEXT,                                            -- JSON
    created_at  INTEGER NOT NULL                                 -- epoch nanoseconds
);
CREATE TABLE speakers (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    user_id    INTEGER REFERENCES users(id),
    PRIMARY KEY (meeting_id, label)
);
"""

BASE = 1_714_550_400  # 2024-05-01T08:00:00Z


def local(ts):
    """Naive text in UTC+8 for an epoch second."""
    import datetime
    return (datetime.datetime.utcfromtimestamp(ts) + datetime.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def main():
    rng = random.Random(7)
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    if os.path.exists(DB):
        os.remove(DB)
    con = sqlite3.connect(DB)
    con.executescript(SCHEMA)
    for uid in range(1, 13):
        con.execute("INSERT INTO users VALUES (?,?,?,?,?)",
                    (uid, f"member{uid}@example.org", None if uid % 5 == 0 else f"Member {uid}",
                     0 if uid % 6 == 0 else 1, local(BASE - 86400 * (40 - uid))))
    sid = 0
    for mid in range(1, 61):
        start = BASE + mid * 5400
        created = (f"{local(start - 600).replace(' ', 'T')}+08:00" if mid % 2 else local(start - 600))
        con.execute("INSERT INTO meetings (id, owner_id, follow_up_of, title, audio_path, started_at, ended_at, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (mid, 1 + mid % 12, mid - 3 if mid > 3 and mid % 4 == 0 else None,
                     rng.choice(["Weekly sync", "Design review", "Customer call", "Retro", "Kick-off"]) + f" #{mid}",
                     None if mid % 10 == 0 else f"uploads/{mid}/audio.m4a",
                     start, (start + rng.randint(900, 3600)) * 1000 + rng.randint(0, 999), created))
        if mid % 10 != 0:
            sid += 1
            meta = json.dumps({"language": rng.choice(["en", "zh", "de"]), "speakers": rng.randint(1, 4),
                               "topics": rng.sample(["budget", "hiring", "roadmap", "bugs", "launch"], 2)})
            con.execute("INSERT INTO summaries VALUES (?,?,?,?,?,?)",
                        (sid, mid, f"Summary of meeting {mid}: decisions and follow-ups.",
                         rng.choice(["whisper-large", None]), meta, (start + 4000) * 1_000_000_000 + sid))
            con.execute("UPDATE meetings SET current_summary_id = ? WHERE id = ?", (sid, mid))
        for s in range(rng.randint(1, 3)):
            con.execute("INSERT INTO speakers VALUES (?,?,?)", (mid, f"S{s}", rng.choice([None, 1 + (mid + s) % 12])))
    con.commit()
    con.execute("VACUUM")
    con.close()
    make_uploads()


def make_uploads():
    """data/uploads/<id>/audio.m4a for every meeting with an audio_path (the
    bytes are stand-ins, 2-24 KiB each), plus a note nobody points at."""
    import shutil
    rng = random.Random(11)
    root = os.path.join(HERE, "data", "uploads")
    shutil.rmtree(root, ignore_errors=True)
    for mid in range(1, 61):
        if mid % 10 == 0:
            continue
        os.makedirs(os.path.join(root, str(mid)))
        with open(os.path.join(root, str(mid), "audio.m4a"), "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(rng.randint(2048, 24576))))
    with open(os.path.join(root, "7", "transcript draft (ü).txt"), "w", encoding="utf-8") as f:
        f.write("Draft transcript of meeting 7.\n")


if __name__ == "__main__":
    main()
