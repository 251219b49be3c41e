-- One-minute summaries of raw samples that aged out of the raw retention:
-- per series, a block of minutes with each minute's min, max, sum and
-- count, compressed like sample chunks (four streams over the minutes).
CREATE TABLE rollups (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES series (id),
    start_ms  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    -- minutes in the block
    count     INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE INDEX rollups_by_series ON rollups (series_id, start_ms);
CREATE INDEX rollups_by_end ON rollups (end_ms);
