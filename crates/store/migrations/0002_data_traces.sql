-- Data providers, traces (hash-chained, append-only) and each person's preferences, keyed by
-- a keyed hash of their identity, never the identity.
CREATE TABLE IF NOT EXISTS data_providers (
    id TEXT PRIMARY KEY,
    registration TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS traces (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    person TEXT,
    sub TEXT,
    sp TEXT,
    idp TEXT,
    dp TEXT,
    scopes TEXT NOT NULL,
    outcome TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS traces_by_person ON traces (person, seq);

CREATE TABLE IF NOT EXISTS person_preferences (
    person TEXT PRIMARY KEY,
    blocked_idps TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
