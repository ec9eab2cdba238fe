-- The partner portal's habilitation requests (DataPass's), with their history: one row each,
-- by the portal service they are for. Contacts are agents' professional addresses; no person.
CREATE TABLE IF NOT EXISTS habilitation_requests (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    state TEXT NOT NULL,
    registration TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS habilitation_requests_by_service ON habilitation_requests (service);
