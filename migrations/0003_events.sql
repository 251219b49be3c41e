-- Kubernetes events as the sources delivered them, kept as long as the
-- history (the API server forgets them after an hour). `body` is the
-- event as JSON; the other columns are what the history page filters on.
CREATE TABLE cluster_events (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    namespace TEXT NOT NULL,
    object    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX cluster_events_by_time ON cluster_events (at_ms);
