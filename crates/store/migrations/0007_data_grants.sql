-- Data scopes granted to a registered service by the partner portal (its sandbox client, then
-- its validated habilitation request), kept apart from the data providers' rows so that the
-- configuration file, which rewrites those, leaves them alone. Read merged into each data
-- provider's allow-list.
CREATE TABLE IF NOT EXISTS data_grants (
    sp TEXT NOT NULL,
    dp TEXT NOT NULL,
    scopes TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sp, dp)
);
