-- Your data in (/import from Letterboxd, IMDb and Trakt) and out (/mydata).

-- A rating kept beside 👍/👎, out of 10 (Letterboxd's half stars doubled; IMDb and Trakt as
-- given). A middling rating has no verdict, hence NULL. `updated_at` is when the verdict or rating
-- was given: an import sets it to the file's date, so only a newer rating replaces one.
ALTER TABLE feedback ALTER COLUMN verdict DROP NOT NULL;
ALTER TABLE feedback ADD COLUMN rating SMALLINT CHECK (rating BETWEEN 1 AND 10);
ALTER TABLE feedback ADD CONSTRAINT feedback_says_something CHECK (verdict IS NOT NULL OR rating IS NOT NULL);

-- One row per import: what was asked, where it is, and its summary once done. A refused import
-- is recorded too (status 'refused'), with nothing staged.
CREATE TABLE imports (
    id           BIGSERIAL PRIMARY KEY,
    discord_id   BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    source       TEXT NOT NULL CHECK (source IN ('letterboxd', 'imdb', 'trakt')),
    filename     TEXT,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'refused', 'failed')),
    staged       BOOLEAN NOT NULL DEFAULT true, -- false: a Trakt import still connecting and reading
    skipped      JSONB NOT NULL DEFAULT '{}',   -- reason -> rows dropped while reading the file
    summary      JSONB,
    error        TEXT,
    heartbeat_at TIMESTAMPTZ,                   -- the running worker's latest sign of life
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
-- One import per user at a time.
CREATE UNIQUE INDEX imports_one_at_a_time ON imports (discord_id) WHERE status IN ('queued', 'running');

-- The rows an import read, staged until applied. `film_key` is what identifies the film in the
-- source (a Letterboxd name and year, an IMDb id, a TMDB id); `tmdb_id` is set once matched
-- (`matched` true), so a worker that stops half way never asks TMDB twice.
CREATE TABLE import_rows (
    import_id   BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_no      INTEGER NOT NULL,
    list        TEXT NOT NULL CHECK (list IN ('watched', 'rating', 'watchlist')),
    name        TEXT NOT NULL,
    year        INTEGER,
    film_key    TEXT NOT NULL,
    rating      SMALLINT CHECK (rating BETWEEN 1 AND 10),
    verdict     SMALLINT CHECK (verdict IN (-1, 1)),
    at          TIMESTAMPTZ,
    matched     BOOLEAN NOT NULL DEFAULT false,
    tmdb_id     INTEGER,
    PRIMARY KEY (import_id, row_no)
);
CREATE INDEX import_rows_key_idx ON import_rows (import_id, film_key);

-- A user's Trakt connection: tokens encrypted with MARQUEE_SECRET_KEY (Fernet), and where the
-- last sync got to (Trakt's last_activities, compared to skip users with nothing new).
CREATE TABLE trakt_links (
    discord_id      BIGINT PRIMARY KEY REFERENCES users (discord_id) ON DELETE CASCADE,
    access_token    TEXT NOT NULL,
    refresh_token   TEXT NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    activities      JSONB,
    synced_at       TIMESTAMPTZ,
    broken          TEXT,  -- why the sync stopped (revoked or expired): the user was told once
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
