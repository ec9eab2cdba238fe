-- Habilitations: an organisation (SIREN or SIRET), for a procedure, under a legal basis, may
-- receive these scopes of one data provider until a date. No personal data.
CREATE TABLE IF NOT EXISTS habilitations (
    id TEXT PRIMARY KEY,
    registration TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
