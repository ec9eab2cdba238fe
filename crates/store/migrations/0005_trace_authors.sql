-- A change of the registry (admin API, partner portal) is traced in the same hash chain, with
-- its author: an operator credential's name or a partner agent's `sub`. No person's identity.
ALTER TABLE traces ADD COLUMN author TEXT;
