-- One outbox for every DM the worker sends, whatever the feature (billing now; alerts and imports
-- later): billing_notices becomes notices, its kinds no longer fixed here. A notice Discord answers
-- with a 429 or a 5xx is tried again later (attempts, next_attempt_at, the last error); only a
-- definitive refusal (closed DMs) or the end of its attempts is a failure.
ALTER TABLE billing_notices RENAME TO notices;
ALTER TABLE notices DROP CONSTRAINT billing_notices_kind_check;
ALTER TABLE notices RENAME CONSTRAINT billing_notices_pkey TO notices_pkey;
ALTER TABLE notices RENAME CONSTRAINT billing_notices_dedupe_key_key TO notices_dedupe_key_key;
ALTER TABLE notices RENAME CONSTRAINT billing_notices_discord_id_fkey TO notices_discord_id_fkey;
ALTER SEQUENCE billing_notices_id_seq RENAME TO notices_id_seq;
ALTER TABLE notices ADD COLUMN payload JSONB NOT NULL DEFAULT '{}';
ALTER TABLE notices ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE notices ADD COLUMN last_error TEXT;
DROP INDEX billing_notices_unsent_idx;
CREATE INDEX notices_due_idx ON notices (coalesce(next_attempt_at, created_at)) WHERE sent_at IS NULL AND failure IS NULL;
