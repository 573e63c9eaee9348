-- The schema Open WebUI creates in PostgreSQL (see make_data.py).
CREATE TABLE "auth" (
    "id" VARCHAR NOT NULL,
    "email" VARCHAR,
    "password" TEXT,
    "active" BOOLEAN,
    PRIMARY KEY ("id")
);
CREATE TABLE "user" (
    "id" VARCHAR NOT NULL,
    "name" VARCHAR,
    "email" VARCHAR,
    "role" VARCHAR,
    "profile_image_url" TEXT,
    "last_active_at" BIGINT,
    "updated_at" BIGINT,
    "created_at" BIGINT,
    "api_key" VARCHAR,
    "settings" TEXT,
    "info" TEXT,
    "oauth_sub" TEXT,
    PRIMARY KEY ("id"),
    UNIQUE ("api_key"),
    UNIQUE ("oauth_sub")
);
CREATE TABLE "chat" (
    "id" VARCHAR NOT NULL,
    "user_id" VARCHAR,
    "title" TEXT,
    "chat" JSON,
    "created_at" BIGINT,
    "updated_at" BIGINT,
    "share_id" TEXT,
    "archived" BOOLEAN,
    "pinned" BOOLEAN,
    "meta" JSON NOT NULL DEFAULT '{}'::json,
    "folder_id" TEXT,
    PRIMARY KEY ("id"),
    UNIQUE ("share_id")
);
CREATE TABLE "tag" (
    "id" VARCHAR NOT NULL,
    "name" VARCHAR,
    "user_id" VARCHAR NOT NULL,
    "meta" JSON,
    PRIMARY KEY ("id", "user_id")
);
CREATE TABLE "folder" (
    "id" TEXT NOT NULL,
    "parent_id" TEXT,
    "user_id" TEXT NOT NULL,
    "name" TEXT,
    "items" JSON,
    "meta" JSON,
    "is_expanded" BOOLEAN NOT NULL,
    "created_at" BIGINT NOT NULL,
    "updated_at" BIGINT NOT NULL,
    PRIMARY KEY ("id", "user_id")
);
CREATE TABLE "file" (
    "id" VARCHAR NOT NULL,
    "user_id" VARCHAR,
    "hash" TEXT,
    "filename" TEXT,
    "path" TEXT,
    "data" JSON,
    "meta" JSON,
    "created_at" BIGINT,
    "updated_at" BIGINT,
    PRIMARY KEY ("id")
);
CREATE TABLE "memory" (
    "id" VARCHAR NOT NULL,
    "user_id" VARCHAR,
    "content" TEXT,
    "updated_at" BIGINT,
    "created_at" BIGINT,
    PRIMARY KEY ("id")
);
CREATE TABLE "message" (
    "id" TEXT NOT NULL,
    "user_id" TEXT,
    "channel_id" TEXT,
    "content" TEXT,
    "data" JSON,
    "meta" JSON,
    "created_at" BIGINT,
    "updated_at" BIGINT,
    PRIMARY KEY ("id")
);
CREATE TABLE "config" (
    "id" SERIAL NOT NULL,
    "data" JSON NOT NULL,
    "version" INTEGER NOT NULL,
    "created_at" TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY ("id")
);
CREATE INDEX folder_id_idx ON "chat" ("folder_id");
CREATE INDEX user_id_pinned_idx ON "chat" ("user_id", "pinned");
CREATE TABLE "alembic_version" ("version_num" VARCHAR(32) NOT NULL, PRIMARY KEY ("version_num"));
INSERT INTO "alembic_version" VALUES ('3781e22d8b01');
