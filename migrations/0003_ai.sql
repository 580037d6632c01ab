-- AI search and For You picks: the films an /ask matched (so /history can show and re-run it),
-- each user's taste profile with the fingerprint of the history it was made from, and what
-- /foryou has shown each user (never the same pick twice within a week).
ALTER TABLE search_history ADD COLUMN movie_ids INTEGER[] NOT NULL DEFAULT '{}';

CREATE TABLE taste_profiles (
    discord_id   BIGINT PRIMARY KEY REFERENCES users (discord_id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    model        TEXT NOT NULL,
    profile      JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE foryou_shown (
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    movie_id    INTEGER NOT NULL REFERENCES movies (id),
    shown_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (discord_id, movie_id)
);
CREATE INDEX foryou_shown_recent_idx ON foryou_shown (discord_id, shown_at DESC);
