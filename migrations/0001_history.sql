-- History: the engine's input log (samples in compressed chunks, the step
-- log, removed series), findings as the engine reported them, operator
-- feedback, the audit log and non-secret settings. Forward-only.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A series: its metric and labels (JSON object, keys sorted).
CREATE TABLE series (
    id     INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    UNIQUE (metric, labels)
);

-- Samples of one series, Gorilla-compressed, in the order they were fed.
-- The newest chunk of a series is rewritten in place until it is sealed.
CREATE TABLE chunks (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series (id),
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE INDEX chunks_by_start ON chunks (start_ms);
CREATE INDEX chunks_by_series ON chunks (series_id, start_ms);

-- Series the engine was told to forget (a deleted pod), and when.
CREATE TABLE removals (
    series_id INTEGER NOT NULL REFERENCES series (id),
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (at_ms, series_id)
) WITHOUT ROWID;

-- Every finding the engine reported (fired, escalated, resolved), in order,
-- with its trace.
CREATE TABLE finding_events (
    seq        INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    state      TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX finding_events_by_finding ON finding_events (finding_id);
CREATE INDEX finding_events_by_time ON finding_events (at_ms);

-- The operator's verdict on a finding (the latest one wins).
CREATE TABLE feedback (
    finding_id TEXT PRIMARY KEY,
    mark       TEXT NOT NULL,
    at_ms      INTEGER NOT NULL
);

-- What operators did: feedback, acks, silences, exports.
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
