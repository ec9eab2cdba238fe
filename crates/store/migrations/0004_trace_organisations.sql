-- An agent's access to a person's data is traced under the person's key with the agent's
-- establishment (SIRET) and the habilitation it was made under: organisations, not agents.
ALTER TABLE traces ADD COLUMN organisation TEXT;
ALTER TABLE traces ADD COLUMN habilitation TEXT;
