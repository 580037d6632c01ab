-- Each user's watchlist. Keyed by TMDB's media type beside the id ('movie' today), so series can
-- join later without re-keying; films are read from `movies` (where every listed film is stored).
CREATE TABLE watchlist (
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    media_type  TEXT NOT NULL DEFAULT 'movie' CHECK (media_type IN ('movie')),
    tmdb_id     INTEGER NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (discord_id, media_type, tmdb_id)
);
CREATE INDEX watchlist_user_idx ON watchlist (discord_id, added_at DESC);
