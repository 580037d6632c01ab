-- Embeddings of any model and size. The foundation's vector(1536) column could hold one size
-- only; vectors are now stored untyped with their model and dimensions, one row per film and
-- embedding space, so a new model or size can be embedded beside the old one while searches keep
-- using the old set until the new one is complete. HNSW needs a fixed size, so each space gets a
-- partial expression index of its own (created by the app for the configured space:
-- services/embeddings/store.py), as pgvector's README describes for mixed dimensions.
-- Nothing was ever written to the old table (no pipeline filled it), so it is replaced.
DROP TABLE movie_embeddings;

CREATE TABLE movie_embeddings (
    movie_id     INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    model        TEXT NOT NULL,
    dimensions   INTEGER NOT NULL CHECK (dimensions BETWEEN 1 AND 4000),
    content_hash TEXT NOT NULL,
    embedding    vector NOT NULL CHECK (vector_dims(embedding) = dimensions),
    -- Copied from the film so that search filters run inside the index scan, not after a join.
    release_year SMALLINT,
    adult        BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (movie_id, model, dimensions)
);
CREATE INDEX movie_embeddings_space_idx ON movie_embeddings (model, dimensions);

-- TMDB's adult flag, so that no feature ever shows such a film.
ALTER TABLE movies ADD COLUMN adult BOOLEAN NOT NULL DEFAULT false;

-- `marquee catalog sync`: the TMDB pages already pulled, so a second run fetches none twice.
CREATE TABLE catalog_sync_pages (
    source     TEXT NOT NULL,        -- e.g. 'popular' or 'discover:genre=28:decade=1990'
    page       INTEGER NOT NULL,
    films      INTEGER NOT NULL,
    total_pages INTEGER NOT NULL,
    synced_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, page)
);
