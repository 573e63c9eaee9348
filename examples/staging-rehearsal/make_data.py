#!/usr/bin/env python3
"""Generates the staging-rehearsal example: data/prod.sql, a production-like
PostgreSQL schema with data (load it into the "production" database), and
data/app-data/, the application's `/app/.data` folder that its rows point at:

- knowledge_materials.storage_path = /app/.data/knowledge/<id>/<file>
- ugc_assets.storage_path         = /app/.data/ugc/<user>/<file>
- gallery_items.storage_dir       = /app/.data/gallery/<id>/   (a folder)

Deterministic (fixed seed): `python3 make_data.py` regenerates both.
plant_defects.sh adds the defects the validators must find.
"""
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
SQL = os.path.join(HERE, "data", "prod.sql")
ASSETS = os.path.join(HERE, "data", "app-data")

SCHEMA = """
CREATE TABLE users (
    id         bigint PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
CREATE TABLE knowledge_materials (
    id           bigint PRIMARY KEY,
    title        text NOT NULL,
    storage_path text NOT NULL,
    size_bytes   integer NOT NULL,
    meta         jsonb
);
CREATE TABLE ugc_assets (
    id           bigint PRIMARY KEY,
    owner_id     bigint NOT NULL,
    storage_path text,
    uploaded_at  timestamptz NOT NULL
);
ALTER TABLE ugc_assets ADD CONSTRAINT ugc_assets_owner_fk FOREIGN KEY (owner_id) REFERENCES users(id);
CREATE INDEX ugc_assets_owner_idx ON ugc_assets (owner_id);
CREATE TABLE gallery_items (
    id          bigint PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES users(id),
    caption     text,
    storage_dir text NOT NULL
);
"""


def sql_text(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def put(rel, data):
    path = os.path.join(ASSETS, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def blob(rng, lo, hi):
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(lo, hi)))


def main():
    rng = random.Random(2026)
    shutil.rmtree(ASSETS, ignore_errors=True)
    os.makedirs(os.path.dirname(SQL), exist_ok=True)
    out = [SCHEMA.strip(), ""]
    for uid in range(1, 16):
        out.append(f"INSERT INTO users VALUES ({uid}, 'user{uid}@example.com', '2025-0{1 + uid % 9}-1{uid % 10} 09:30:00+00');")
    for i in range(1, 41):
        name = rng.choice(["handbook.pdf", "faq.md", "pricing sheet.xlsx", "规范.docx", "notes (v2).txt"])
        data = blob(rng, 800, 12000)
        rel = f"knowledge/{i}/{name}"
        put(rel, data)
        meta = '{"lang": "%s", "pages": %d}' % (rng.choice(["en", "zh"]), rng.randint(1, 40))
        out.append(f"INSERT INTO knowledge_materials VALUES ({i}, {sql_text('Material ' + str(i))}, "
                   f"{sql_text('/app/.data/' + rel)}, {len(data)}, {sql_text(meta)});")
    for i in range(1, 61):
        owner = 1 + i % 15
        rel = f"ugc/{owner}/{i:04d}.jpg"
        put(rel, blob(rng, 300, 6000))
        path = None if i % 11 == 0 else "/app/.data/" + rel
        out.append(f"INSERT INTO ugc_assets VALUES ({i}, {owner}, {sql_text(path)}, '2025-06-01 12:00:00+00'::timestamptz + interval '{i} hours');")
    for i in range(1, 13):
        for n in range(1, 1 + rng.randint(1, 4)):
            put(f"gallery/{i}/{n}.png", blob(rng, 200, 3000))
        out.append(f"INSERT INTO gallery_items VALUES ({i}, {1 + i % 15}, {sql_text('Gallery ' + str(i))}, '/app/.data/gallery/{i}/');")
    with open(SQL, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
