-- Notifications to administrations (Standard Webhooks): the subscriptions, part of the
-- registry (the signing secret sealed), and the transactional outbox: one message per event and
-- subscription, written in the same transaction as the trace of what caused it, its payload
-- sealed and erased once delivered. The traces gain the message a record is about.
ALTER TABLE traces ADD COLUMN reference TEXT;

CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY,
    registration TEXT NOT NULL,
    status TEXT NOT NULL,
    failing_since BIGINT,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS webhook_messages (
    id TEXT PRIMARY KEY,
    subscription TEXT NOT NULL,
    event_type TEXT NOT NULL,
    person TEXT,
    payload TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_error TEXT,
    finished_at BIGINT
);

CREATE INDEX IF NOT EXISTS webhook_messages_due ON webhook_messages (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_messages_by_subscription ON webhook_messages (subscription, state);
