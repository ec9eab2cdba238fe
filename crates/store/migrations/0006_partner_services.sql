-- The services organisations declare on the partner portal (their sandbox client is a row of
-- service_providers). Agents' names are not kept: the agent who declared it by their agent sub.
CREATE TABLE IF NOT EXISTS partner_services (
    id TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    registration TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS partner_services_by_organisation ON partner_services (organisation);
