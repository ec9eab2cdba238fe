-- The hub's checks that each data provider answers, one row a minute per provider whichever
-- node made it (the first one's answer is kept): the catalogue's availability over 30 days.
CREATE TABLE IF NOT EXISTS provider_checks (
    dp TEXT NOT NULL,
    minute BIGINT NOT NULL,
    up INTEGER NOT NULL,
    PRIMARY KEY (dp, minute)
);
