-- Billing: what a user's subscription looked like at Stripe when we last read it, what each
-- applied webhook event did, and the DMs owed to users about their plan (sent by the worker,
-- once each: a notice is keyed by the change it announces).
ALTER TABLE users ADD COLUMN cancel_at_period_end BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN billing_synced_at TIMESTAMPTZ;
CREATE INDEX users_billing_due_idx ON users (current_period_end) WHERE stripe_customer_id IS NOT NULL;

ALTER TABLE stripe_events ADD COLUMN outcome TEXT NOT NULL DEFAULT '';

CREATE TABLE billing_notices (
    id          BIGSERIAL PRIMARY KEY,
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('pro_started', 'payment_failed', 'pro_ended')),
    dedupe_key  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at     TIMESTAMPTZ,
    failure     TEXT
);
CREATE INDEX billing_notices_unsent_idx ON billing_notices (created_at) WHERE sent_at IS NULL AND failure IS NULL;
