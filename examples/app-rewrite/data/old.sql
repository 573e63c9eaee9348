-- The old backend's SQLite database (Python, SQLAlchemy-style): integer
-- user ids, epoch-second timestamps, one full name, tags keyed by
-- (name, user_id), a link table and messages without a declared primary
-- key, no declared foreign keys. `python3 make_data.py` rebuilds old.db.
CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, created_at INTEGER NOT NULL);
INSERT INTO user VALUES
  (1, 'Ann Smith', 'ann@example.org', 1700000000),
  (2, 'Bob de Vries', 'bob@example.org', 1700000100),
  (3, 'Cher', 'cher@example.org', 1700000200);

CREATE TABLE chat (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT, timestamp INTEGER NOT NULL, share_id TEXT);
INSERT INTO chat VALUES
  ('c1', 1, 'Trip planning', 1700001000, NULL),
  ('c2', 2, 'Recipes', 1700002000, 'share-2'),
  ('c3', 3, 'Untitled', 1700003000, NULL);

CREATE TABLE tag (name TEXT NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (name, user_id));
INSERT INTO tag VALUES ('work', 1), ('home', 1), ('work', 2);

-- No key at all: the link table lists one pair twice (the old app never noticed).
CREATE TABLE chat_tag (chat_id TEXT, tag_name TEXT, user_id INTEGER);
INSERT INTO chat_tag VALUES ('c1', 'work', 1), ('c1', 'home', 1), ('c2', 'work', 2), ('c1', 'work', 1);

-- A unique index on id, but no primary key; one message is empty, which
-- the new schema refuses.
CREATE TABLE message (id TEXT NOT NULL, chat_id TEXT, user_id INTEGER, content TEXT);
CREATE UNIQUE INDEX message_id ON message (id);
INSERT INTO message VALUES
  ('m1', 'c1', 1, 'Where to first?'),
  ('m2', 'c1', 1, ''),
  ('m3', 'c2', 2, 'Soup tonight'),
  ('m4', 'c3', 3, 'Hello');

CREATE TABLE setting (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value TEXT);
INSERT INTO setting VALUES (1, 'theme', 'dark'), (2, 'lang', 'en');

CREATE TABLE alembic_version (version_num TEXT NOT NULL);
INSERT INTO alembic_version VALUES ('9f1c2b7d4e01');

CREATE TABLE legacy_plugin (id INTEGER PRIMARY KEY, code TEXT);
INSERT INTO legacy_plugin VALUES (1, 'print(1)');
