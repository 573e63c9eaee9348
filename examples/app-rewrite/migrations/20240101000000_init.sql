-- The new backend's first migration (SQLx style: applied in file-name order
-- by the application itself, `sqlx migrate run` or at start-up).
CREATE TABLE "user" (
    id          bigint PRIMARY KEY,
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    email       text,
    role        text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE chat (
    id          text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES "user" (id),
    title       text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    imported_at timestamptz NOT NULL
);
