-- Each user's own settings (/settings): a NULL region, language or spoiler choice means the
-- server's default; services are TMDB provider ids, so they survive a change of region.
CREATE TABLE user_settings (
    discord_id  BIGINT PRIMARY KEY REFERENCES users (discord_id) ON DELETE CASCADE,
    region      TEXT CHECK (region ~ '^[A-Z]{2}$'),
    language    TEXT CHECK (language ~ '^[a-z]{2,3}-[A-Z]{2}$'),
    services    INTEGER[] NOT NULL DEFAULT '{}',
    spoilers    BOOLEAN NOT NULL DEFAULT false,
    alerts      BOOLEAN NOT NULL DEFAULT false,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_settings_alerts_idx ON user_settings (discord_id) WHERE alerts;

-- Availability alerts: what each watchlisted film was when last looked at for its user (the
-- services streaming it in their region, whether it was out there). NULL: not looked at yet,
-- and the first look only records (no alert for what was already true).
ALTER TABLE watchlist ADD COLUMN seen_region TEXT;
ALTER TABLE watchlist ADD COLUMN seen_streaming INTEGER[];
ALTER TABLE watchlist ADD COLUMN seen_released BOOLEAN;
CREATE INDEX watchlist_film_idx ON watchlist (media_type, tmdb_id);
-- /watchlist shows, per film, the latest alert that could not be delivered (closed DMs).
CREATE INDEX notices_user_idx ON notices (discord_id, id DESC);
