#!/usr/bin/env python3
"""Generates the staging-assets example: data/app.db, an application's SQLite
database whose rows point at files under the app's data folder
(`/app/.data/...`, absolute, as the app stores them), and data/app-data/, a
copy of that folder (what `/app/.data` holds in production).

Deterministic (fixed seed): `python3 make_data.py` regenerates both.
"""
import os
import random
import shutil
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.join(HERE, "data", "app.db")
ASSETS = os.path.join(HERE, "data", "app-data")

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE knowledge_materials (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    storage_path TEXT NOT NULL            -- /app/.data/knowledge/<id>/<file>
);
CREATE TABLE ugc_assets (
    id           INTEGER PRIMARY KEY,
    owner        TEXT NOT NULL,
    storage_path TEXT                     -- /app/.data/ugc/<owner>/<file>
);
CREATE TABLE gallery_items (
    id          INTEGER PRIMARY KEY,
    caption     TEXT,
    storage_dir TEXT NOT NULL             -- /app/.data/gallery/<id>/ (a folder)
);
"""


def put(rel, data):
    path = os.path.join(ASSETS, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    rng = random.Random(5)
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    if os.path.exists(DB):
        os.remove(DB)
    shutil.rmtree(ASSETS, ignore_errors=True)
    con = sqlite3.connect(DB)
    con.executescript(SCHEMA)
    for i in range(1, 31):
        name = rng.choice(["handbook.pdf", "faq.md", "onboarding deck.pptx", "规范.docx"])
        rel = f"knowledge/{i}/{name}"
        put(rel, bytes(rng.getrandbits(8) for _ in range(rng.randint(1000, 20000))))
        con.execute("INSERT INTO knowledge_materials VALUES (?,?,?)", (i, f"Material {i}", "/app/.data/" + rel))
    for i in range(1, 41):
        owner = f"user{1 + i % 7}"
        rel = f"ugc/{owner}/{i:04d}.jpg"
        put(rel, bytes(rng.getrandbits(8) for _ in range(rng.randint(500, 8000))))
        con.execute("INSERT INTO ugc_assets VALUES (?,?,?)", (i, owner, None if i % 9 == 0 else "/app/.data/" + rel))
    for i in range(1, 11):
        for n in range(1, 1 + rng.randint(1, 3)):
            put(f"gallery/{i}/{n}.png", bytes(rng.getrandbits(8) for _ in range(rng.randint(300, 3000))))
        con.execute("INSERT INTO gallery_items VALUES (?,?,?)", (i, f"Gallery {i}", f"/app/.data/gallery/{i}/"))
    con.commit()
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main()
