-- Where the history came from: each source (demo, prometheus, alertmanager,
-- kubernetes), its cluster, and when it first and last answered.
CREATE TABLE sources (
    name     TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    cluster  TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms  INTEGER NOT NULL
);
