-- Movie nights together (/movienight) and each server's own defaults (/server-settings).

-- A server's defaults for its members who have not chosen their own region or language, whether
-- AI commands may run there, and whether answers are public. NULL region or language: the bot's
-- defaults (TMDB_REGION, TMDB_LANGUAGE).
CREATE TABLE server_settings (
    guild_id    BIGINT PRIMARY KEY,
    region      TEXT CHECK (region ~ '^[A-Z]{2}$'),
    language    TEXT CHECK (language ~ '^[a-z]{2,3}-[A-Z]{2}$'),
    ai_commands BOOLEAN NOT NULL DEFAULT true,
    answers     TEXT NOT NULL DEFAULT 'public' CHECK (answers IN ('public', 'ephemeral')),
    updated_by  BIGINT,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per night: who hosts it and who is invited, its candidates as posted, where its public
-- message is, and when it closes. `status` open -> closed (the final tally and the winner's card
-- were posted) or gone (its message or channel was deleted, or Discord kept refusing). Closing
-- takes the row's lock (SELECT ... FOR UPDATE), so each night closes once whichever process or
-- how many try; a vote takes FOR KEY SHARE on it, so no vote lands after the close.
CREATE TABLE movie_nights (
    id             BIGSERIAL PRIMARY KEY,
    guild_id       BIGINT NOT NULL,
    channel_id     BIGINT NOT NULL,
    message_id     BIGINT,                       -- NULL until the message is posted
    host_id        BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    members        BIGINT[] NOT NULL,            -- the invited members, the host not among them
    members_only   BOOLEAN NOT NULL DEFAULT false,
    region         TEXT NOT NULL,                -- the host's, for the winner's where to watch
    language       TEXT NOT NULL,
    candidates     JSONB NOT NULL,               -- [{media_type, tmdb_id, title, year, reason, suits}]
    neutral        BIGINT[] NOT NULL DEFAULT '{}', -- participants with too little history to blend
    names          JSONB NOT NULL,               -- discord id -> display name when it started
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'gone')),
    closes_at      TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    winner         SMALLINT,                     -- 1-based; NULL: no votes (or not closed yet)
    close_failures SMALLINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX movie_nights_due_idx ON movie_nights (closes_at) WHERE status = 'open';
CREATE INDEX movie_nights_host_idx ON movie_nights (host_id);

-- One vote per person per night, changeable until it closes.
CREATE TABLE night_votes (
    night_id   BIGINT NOT NULL REFERENCES movie_nights (id) ON DELETE CASCADE,
    discord_id BIGINT NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    choice     SMALLINT NOT NULL CHECK (choice BETWEEN 1 AND 5),
    voted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (night_id, discord_id)
);
CREATE INDEX night_votes_voter_idx ON night_votes (discord_id);
