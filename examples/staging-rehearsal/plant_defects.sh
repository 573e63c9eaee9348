#!/usr/bin/env bash
# Plants the defects a rehearsal must catch, into a production database
# loaded from data/prod.sql and a copy of data/app-data:
#   1. an orphan: a ugc_assets row whose owner does not exist, let in by
#      re-adding the foreign key NOT VALID (the way it happens in real life);
#   2. a missing file: a knowledge_materials row whose file is gone;
#   3. an unreadable file: mode 000 (root could still read it; the app not);
#   4. a path outside /app/.data.
# Usage: plant_defects.sh PROD_DATABASE_URL APP_DATA_DIR
set -euo pipefail
url="$1"; data="$2"
psql -X -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
ALTER TABLE ugc_assets DROP CONSTRAINT ugc_assets_owner_fk;
INSERT INTO ugc_assets VALUES (900, 4242, '/app/.data/ugc/2/0001.jpg', '2025-07-01 00:00:00+00');
ALTER TABLE ugc_assets ADD CONSTRAINT ugc_assets_owner_fk FOREIGN KEY (owner_id) REFERENCES users(id) NOT VALID;
UPDATE knowledge_materials SET storage_path = '/srv/legacy/handbook.pdf' WHERE id = 3;
SQL
missing=$(psql -X -q -t -A "$url" -c "SELECT storage_path FROM knowledge_materials WHERE id = 5")
rm "$data/${missing#/app/.data/}"
unreadable=$(psql -X -q -t -A "$url" -c "SELECT storage_path FROM knowledge_materials WHERE id = 7")
chmod 000 "$data/${unreadable#/app/.data/}"
