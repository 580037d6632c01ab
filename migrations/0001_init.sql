-- Marquee schema: users by Discord ID, histories, the TMDB catalogue we have seen,
-- embeddings for semantic search and the Stripe events already applied.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
    discord_id             BIGINT PRIMARY KEY,
    tier                   TEXT NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro')),
    stripe_customer_id     TEXT UNIQUE,
    stripe_subscription_id TEXT UNIQUE,
    subscription_status    TEXT,
    current_period_end     TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE movies (
    id            INTEGER PRIMARY KEY,             -- the TMDB id
    title         TEXT NOT NULL,
    original_title TEXT,
    release_date  DATE,
    overview      TEXT NOT NULL DEFAULT '',
    poster_path   TEXT,
    genre_ids     INTEGER[] NOT NULL DEFAULT '{}',
    popularity    DOUBLE PRECISION NOT NULL DEFAULT 0,
    vote_average  DOUBLE PRECISION NOT NULL DEFAULT 0,
    vote_count    INTEGER NOT NULL DEFAULT 0,
    runtime       INTEGER,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX movies_title_lower_idx ON movies (lower(title) text_pattern_ops);

CREATE TABLE search_history (
    id          BIGSERIAL PRIMARY KEY,
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('search', 'ask', 'semantic')),
    query       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX search_history_user_idx ON search_history (discord_id, created_at DESC);

CREATE TABLE watch_history (
    discord_id  BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    movie_id    INTEGER NOT NULL REFERENCES movies (id),
    watched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (discord_id, movie_id)
);
CREATE INDEX watch_history_user_idx ON watch_history (discord_id, watched_at DESC);

CREATE TABLE movie_embeddings (
    movie_id     INTEGER PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
    model        TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    embedding    vector(1536) NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX movie_embeddings_hnsw_idx ON movie_embeddings USING hnsw (embedding vector_cosine_ops);

CREATE TABLE stripe_events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Small facts the processes share, e.g. the hash of the last synced command tree.
CREATE TABLE app_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
