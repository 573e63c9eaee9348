#!/usr/bin/env python3
"""Generates data/app.db: a small, realistic meeting-transcription app database.

Deterministic (fixed seed) so the checked-in file can be regenerated bit for
bit: `python3 make_data.py`. Tables: users; tasks with an `audio_path` under
/app/.data/uploads/<task_id>/audio.m4a; transcripts (JSON segments, epoch
seconds); speakers (composite key). Foreign keys between all of them.
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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    email       VARCHAR(255) NOT NULL UNIQUE,
    full_name   TEXT,
    is_admin    BOOLEAN NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    audio_path       TEXT,
    duration_seconds REAL,
    created_at       DATETIME NOT NULL
);
CREATE INDEX idx_tasks_user ON tasks(user_id);
CREATE INDEX idx_tasks_status_created ON tasks(status, created_at);
CREATE TABLE transcripts (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL UNIQUE REFERENCES tasks(id) ON DELETE CASCADE,
    language    TEXT,
    body        TEXT NOT NULL,
    segments    JSON,
    word_count  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE TABLE speakers (
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    display     TEXT,
    voiceprint  BLOB,
    PRIMARY KEY (task_id, label)
);
CREATE VIEW task_overview AS
    SELECT t.id, u.email, t.title, t.status FROM tasks t JOIN users u ON u.id = t.user_id;
"""

WORDS = ("meeting budget roadmap hiring launch review quarterly sync design "
         "customer feedback retro planning standup incident postmortem ünïcödé 会议").split()


def main():
    rng = random.Random(42)
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    if os.path.exists(DB):
        os.remove(DB)
    con = sqlite3.connect(DB)
    con.executescript(SCHEMA)
    base = 1_700_000_000
    for uid in range(1, 26):
        con.execute(
            "INSERT INTO users (id, email, full_name, is_admin, created_at) VALUES (?,?,?,?,?)",
            (uid, f"user{uid}@example.com", None if uid % 7 == 0 else f"User {uid}",
             1 if uid == 1 else 0, f"2024-0{1 + uid % 9}-1{uid % 10} 09:{uid:02d}:00"),
        )
    tid = 0
    for uid in range(1, 26):
        for _ in range(rng.randint(2, 12)):
            tid += 1
            status = rng.choice(["pending", "processing", "done", "done", "failed"])
            audio = None if status == "pending" and tid % 3 == 0 else f"/app/.data/uploads/{tid}/audio.m4a"
            con.execute(
                "INSERT INTO tasks (id, user_id, title, status, audio_path, duration_seconds, created_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (tid, uid, " ".join(rng.choice(WORDS) for _ in range(3)).title(), status, audio,
                 None if audio is None else round(rng.uniform(30, 5400), 3),
                 f"2024-10-{1 + tid % 28:02d} {tid % 24:02d}:{tid % 60:02d}:{(tid * 7) % 60:02d}"),
            )
            if status == "done":
                words = [rng.choice(WORDS) for _ in range(rng.randint(20, 400))]
                segments = [{"start": i * 4.5, "end": i * 4.5 + 4.0, "speaker": f"S{i % 3}",
                             "text": " ".join(words[i * 5:(i + 1) * 5])} for i in range(len(words) // 5)]
                con.execute(
                    "INSERT INTO transcripts (task_id, language, body, segments, word_count, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (tid, rng.choice(["en", "de", "zh", None]), " ".join(words),
                     json.dumps(segments, ensure_ascii=False), len(words), base + tid * 3600),
                )
                for s in range(rng.randint(1, 3)):
                    con.execute(
                        "INSERT INTO speakers (task_id, label, display, voiceprint) VALUES (?,?,?,?)",
                        (tid, f"S{s}", None if s == 2 else f"Speaker {s + 1}",
                         bytes(rng.getrandbits(8) for _ in range(32))),
                    )
    con.commit()
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main()
