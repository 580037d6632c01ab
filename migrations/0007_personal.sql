-- What each user tells Marquee about films: a watchlist, and 👍/👎 (the latest click counts);
-- and the filters of the /ask searches they made.
-- Keyed by TMDB's media type beside the id ('movie' today), so series can join later without
-- re-keying; films are read from `movies` (where every listed or rated film is stored).
CREATE TABLE watchlist (
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    media_type  TEXT NOT NULL DEFAULT 'movie' CHECK (media_type IN ('movie')),
    tmdb_id     INTEGER NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (discord_id, media_type, tmdb_id)
);
CREATE INDEX watchlist_user_idx ON watchlist (discord_id, added_at DESC);

CREATE TABLE feedback (
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    media_type  TEXT NOT NULL DEFAULT 'movie' CHECK (media_type IN ('movie')),
    tmdb_id     INTEGER NOT NULL,
    verdict     SMALLINT NOT NULL CHECK (verdict IN (-1, 1)),  -- 👎 / 👍
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (discord_id, media_type, tmdb_id)
);
CREATE INDEX feedback_user_idx ON feedback (discord_id, updated_at DESC);

-- The filters an /ask was asked with (genre, decade, max_runtime, language), so /history runs it again as it was.
ALTER TABLE search_history ADD COLUMN filters JSONB NOT NULL DEFAULT '{}';
