#!/usr/bin/env python3
"""Generates an Open WebUI-shaped SQLite database (data/webui.db) and the
PostgreSQL schema Open WebUI creates for itself (schema/postgres.sql).

Modelled on Open WebUI's own SQLAlchemy/Alembic schema (migrations
7e5b5dc7342b_init, 242a2047eae0 "update chat table" which turned chat.chat
into JSON, 3ab32c4b8f59 "update tags" with the (id, user_id) key of tag, and
the models of folder, memory, message and config): the same table and column
names and the types SQLAlchemy declares on each backend — String → VARCHAR,
Text → TEXT, BigInteger → BIGINT, Boolean → BOOLEAN, JSON → JSON, the app's
JSONField → TEXT. Timestamps are epoch seconds in BIGINT, except channel
messages (nanoseconds, time.time_ns()) and config (DateTime).

Deterministic: `python3 make_data.py` regenerates both files.
"""
import json
import os
import random
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))

TABLES = {
    "auth": [("id", "VARCHAR", "NOT NULL"), ("email", "VARCHAR", ""), ("password", "TEXT", ""), ("active", "BOOLEAN", "")],
    "user": [("id", "VARCHAR", "NOT NULL"), ("name", "VARCHAR", ""), ("email", "VARCHAR", ""), ("role", "VARCHAR", ""),
             ("profile_image_url", "TEXT", ""), ("last_active_at", "BIGINT", ""), ("updated_at", "BIGINT", ""),
             ("created_at", "BIGINT", ""), ("api_key", "VARCHAR", ""), ("settings", "TEXT", ""), ("info", "TEXT", ""),
             ("oauth_sub", "TEXT", "")],
    "chat": [("id", "VARCHAR", "NOT NULL"), ("user_id", "VARCHAR", ""), ("title", "TEXT", ""), ("chat", "JSON", ""),
             ("created_at", "BIGINT", ""), ("updated_at", "BIGINT", ""), ("share_id", "TEXT", ""),
             ("archived", "BOOLEAN", ""), ("pinned", "BOOLEAN", ""), ("meta", "JSON", "NOT NULL DEFAULT '{}'"),
             ("folder_id", "TEXT", "")],
    "tag": [("id", "VARCHAR", "NOT NULL"), ("name", "VARCHAR", ""), ("user_id", "VARCHAR", "NOT NULL"), ("meta", "JSON", "")],
    "folder": [("id", "TEXT", "NOT NULL"), ("parent_id", "TEXT", ""), ("user_id", "TEXT", "NOT NULL"), ("name", "TEXT", ""),
               ("items", "JSON", ""), ("meta", "JSON", ""), ("is_expanded", "BOOLEAN", "NOT NULL"),
               ("created_at", "BIGINT", "NOT NULL"), ("updated_at", "BIGINT", "NOT NULL")],
    "file": [("id", "VARCHAR", "NOT NULL"), ("user_id", "VARCHAR", ""), ("hash", "TEXT", ""), ("filename", "TEXT", ""),
             ("path", "TEXT", ""), ("data", "JSON", ""), ("meta", "JSON", ""), ("created_at", "BIGINT", ""),
             ("updated_at", "BIGINT", "")],
    "memory": [("id", "VARCHAR", "NOT NULL"), ("user_id", "VARCHAR", ""), ("content", "TEXT", ""),
               ("updated_at", "BIGINT", ""), ("created_at", "BIGINT", "")],
    "message": [("id", "TEXT", "NOT NULL"), ("user_id", "TEXT", ""), ("channel_id", "TEXT", ""), ("content", "TEXT", ""),
                ("data", "JSON", ""), ("meta", "JSON", ""), ("created_at", "BIGINT", ""), ("updated_at", "BIGINT", "")],
    "config": [("id", "INTEGER", "NOT NULL"), ("data", "JSON", "NOT NULL"), ("version", "INTEGER", "NOT NULL"),
               ("created_at", "DATETIME", "NOT NULL DEFAULT CURRENT_TIMESTAMP"), ("updated_at", "DATETIME", "")],
}
KEYS = {"auth": ["id"], "user": ["id"], "chat": ["id"], "tag": ["id", "user_id"], "folder": ["id", "user_id"],
        "file": ["id"], "memory": ["id"], "message": ["id"], "config": ["id"]}
UNIQUE = {"user": [["api_key"], ["oauth_sub"]], "chat": [["share_id"]]}
PG_TYPES = {"DATETIME": "TIMESTAMP WITHOUT TIME ZONE"}


def ddl(dialect):
    out = []
    for table, cols in TABLES.items():
        parts = []
        for name, ty, extra in cols:
            ty = PG_TYPES.get(ty, ty) if dialect == "pg" else ty
            if dialect == "pg" and table == "config" and name == "id":
                ty = "SERIAL"
            if dialect == "pg":
                extra = extra.replace("DEFAULT '{}'", "DEFAULT '{}'::json")
            parts.append(f'"{name}" {ty} {extra}'.rstrip())
        parts.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in KEYS[table]) + ")")
        for u in UNIQUE.get(table, []):
            parts.append("UNIQUE (" + ", ".join(f'"{c}"' for c in u) + ")")
        out.append(f'CREATE TABLE "{table}" (\n    ' + ",\n    ".join(parts) + "\n);")
    out.append('CREATE INDEX folder_id_idx ON "chat" ("folder_id");')
    out.append('CREATE INDEX user_id_pinned_idx ON "chat" ("user_id", "pinned");')
    out.append('CREATE TABLE "alembic_version" ("version_num" VARCHAR(32) NOT NULL, PRIMARY KEY ("version_num"));')
    out.append("INSERT INTO \"alembic_version\" VALUES ('3781e22d8b01');")
    return "\n".join(out) + "\n"


def main():
    rng = random.Random(11)
    with open(os.path.join(HERE, "schema", "postgres.sql"), "w") as f:
        f.write("-- The schema Open WebUI creates in PostgreSQL (see make_data.py).\n")
        f.write(ddl("pg"))
    db = os.path.join(HERE, "data", "webui.db")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    con.executescript(ddl("sqlite"))
    base = 1_717_000_000
    users = [f"{rng.getrandbits(64):016x}-u{i}" for i in range(8)]
    for i, uid in enumerate(users):
        email = f"user{i}@example.org"
        con.execute('INSERT INTO "auth" VALUES (?,?,?,?)', (uid, email, "$2b$12$" + "x" * 53, 1 if i != 7 else 0))
        con.execute('INSERT INTO "user" VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
                    (uid, f"User {i}", email, "admin" if i == 0 else "user", "/user.png", base + i * 100,
                     base + i * 50, base - 86400 * i, f"sk-{rng.getrandbits(64):016x}" if i % 3 == 0 else None,
                     json.dumps({"ui": {"theme": rng.choice(["dark", "light"])}}), None, None))
        con.execute('INSERT INTO "memory" VALUES (?,?,?,?,?)',
                    (f"mem-{i}", uid, f"User {i} prefers short answers.", base + i, base + i))
    folders = []
    for i in range(4):
        fid = f"folder-{i}"
        folders.append(fid)
        con.execute('INSERT INTO "folder" VALUES (?,?,?,?,?,?,?,?,?)',
                    (fid, folders[0] if i == 3 else None, users[i % 3], f"Projects {i}", None, None, i % 2, base, base))
    for n in range(40):
        cid = f"chat-{n:03d}"
        uid = users[n % len(users)]
        msgs = [{"id": f"m{k}", "role": "user" if k % 2 == 0 else "assistant",
                 "content": rng.choice(["Hello!", "Plan a trip to Japan 🇯🇵", "Zusammenfassung bitte", "用中文回答", "null byte: \u0000 here"]),
                 "timestamp": base + n * 60 + k} for k in range(rng.randint(2, 6))]
        chat = {"id": cid, "title": f"Chat {n}", "models": ["llama3"], "messages": msgs,
                "history": {"currentId": msgs[-1]["id"], "messages": {m["id"]: m for m in msgs}}}
        con.execute('INSERT INTO "chat" VALUES (?,?,?,?,?,?,?,?,?,?,?)',
                    (cid, uid, f"Chat {n}", json.dumps(chat), base + n * 60, base + n * 60 + 30,
                     f"share-{n}" if n % 9 == 0 else None, 1 if n % 7 == 0 else 0, 1 if n % 5 == 0 else 0,
                     json.dumps({"tags": ["travel"] if n % 4 == 0 else []}), folders[n % 4] if n % 3 == 0 else None))
    for i, uid in enumerate(users[:4]):
        con.execute('INSERT INTO "tag" VALUES (?,?,?,?)', ("travel", "Travel", uid, None))
    for k in range(30):
        con.execute('INSERT INTO "file" VALUES (?,?,?,?,?,?,?,?,?)',
                    (f"file-{k:03d}", users[k % 8], f"{rng.getrandbits(128):032x}", f"report-{k}.pdf",
                     f"/app/backend/data/uploads/file-{k:03d}_report-{k}.pdf", json.dumps({"content": "…"}),
                     json.dumps({"name": f"report-{k}.pdf", "content_type": "application/pdf", "size": 1000 + k}),
                     base + k, base + k))
    for k in range(25):
        con.execute('INSERT INTO "message" VALUES (?,?,?,?,?,?,?,?)',
                    (f"msg-{k:03d}", users[k % 8], "general", f"message {k}", None, None,
                     (base + k) * 1_000_000_000 + k, (base + k) * 1_000_000_000 + k))
    con.execute('INSERT INTO "config" (id, data, version, created_at) VALUES (1, ?, 0, ?)',
                (json.dumps({"version": 0, "ui": {"default_locale": "en-US"}}), "2024-05-29 16:26:40"))
    con.commit()
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    main()
