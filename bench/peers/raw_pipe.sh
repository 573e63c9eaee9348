#!/usr/bin/env bash
# The raw COPY pipe: what a careful one-off script does. Plain tables, one
# `sqlite3 -csv | psql \copy` per table, then the same keys, unique
# constraints, indexes and foreign keys godwit creates.
#   raw_pipe.sh SQLITE_DB PG_URL
set -euo pipefail
db=$1 url=$2
psql -q -X -v ON_ERROR_STOP=1 "$url" <<'SQL'
CREATE TABLE users (id bigint NOT NULL, email text NOT NULL, name text, created_at text NOT NULL);
CREATE TABLE tasks (id bigint NOT NULL, owner_id bigint NOT NULL, title text NOT NULL,
  duration_s double precision, settings text, audio_path text, created_at text NOT NULL);
CREATE TABLE transcripts (id bigint NOT NULL, task_id bigint NOT NULL, seq bigint NOT NULL,
  speaker text, start_s double precision NOT NULL, end_s double precision NOT NULL,
  text text NOT NULL, digest bytea);
CREATE TABLE speaker_mappings (task_id bigint NOT NULL, label text NOT NULL, user_id bigint);
CREATE TABLE audit_logs (id bigint NOT NULL, user_id bigint, action text NOT NULL, payload text,
  at text NOT NULL);
SQL
copy() { # table, select list
  sqlite3 -csv "$db" "SELECT $2 FROM $1" |
    psql -q -X -v ON_ERROR_STOP=1 "$url" -c "\\copy $1 FROM STDIN (FORMAT csv)"
}
copy users '*'
copy tasks '*'
copy transcripts "id, task_id, seq, speaker, start_s, end_s, text, CASE WHEN digest IS NULL THEN NULL ELSE '\\x' || hex(digest) END"
copy speaker_mappings '*'
copy audit_logs '*'
psql -q -X -v ON_ERROR_STOP=1 "$url" <<'SQL'
ALTER TABLE users ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE tasks ADD PRIMARY KEY (id);
ALTER TABLE transcripts ADD PRIMARY KEY (id);
ALTER TABLE speaker_mappings ADD PRIMARY KEY (task_id, label);
ALTER TABLE audit_logs ADD PRIMARY KEY (id);
CREATE INDEX tasks_owner ON tasks (owner_id);
CREATE INDEX transcripts_task ON transcripts (task_id, seq);
ALTER TABLE tasks ADD FOREIGN KEY (owner_id) REFERENCES users (id);
ALTER TABLE transcripts ADD FOREIGN KEY (task_id) REFERENCES tasks (id);
ALTER TABLE speaker_mappings ADD FOREIGN KEY (task_id) REFERENCES tasks (id),
  ADD FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE audit_logs ADD FOREIGN KEY (user_id) REFERENCES users (id);
SQL
