-- Second migration: tags get a UUID key (the old (name, user_id) key stays
-- unique), the link table points at it, messages get a key, a NOT NULL
-- timestamp in epoch milliseconds and a rule against empty content,
-- settings are keyed by name.
CREATE TABLE tag (
    id       uuid PRIMARY KEY,
    name     text NOT NULL,
    user_id  bigint NOT NULL REFERENCES "user" (id),
    UNIQUE (name, user_id)
);

CREATE TABLE chat_tag (
    chat_id  text NOT NULL REFERENCES chat (id),
    tag_id   uuid NOT NULL REFERENCES tag (id),
    PRIMARY KEY (chat_id, tag_id)
);

CREATE TABLE message (
    id          text PRIMARY KEY,
    chat_id     text NOT NULL REFERENCES chat (id),
    user_id     bigint REFERENCES "user" (id),
    content     text NOT NULL CHECK (content <> ''),
    created_ms  bigint NOT NULL
);

CREATE TABLE setting (
    key    text PRIMARY KEY,
    value  text
);

-- The new backend's own bookkeeping: not the old app's business.
CREATE TABLE _app_migrations (version bigint PRIMARY KEY, description text NOT NULL);
INSERT INTO _app_migrations VALUES (20240101000000, 'init'), (20240201000000, 'reshape');
