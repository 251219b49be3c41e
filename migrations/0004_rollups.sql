-- One-minute summaries of raw samples that aged out of the raw retention
-- (or the disk budget): the minute's min, max, sum and count per series.
CREATE TABLE rollups (
    series_id INTEGER NOT NULL REFERENCES series (id),
    minute_ms INTEGER NOT NULL,
    min       REAL NOT NULL,
    max       REAL NOT NULL,
    sum       REAL NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (series_id, minute_ms)
) WITHOUT ROWID;
CREATE INDEX rollups_by_minute ON rollups (minute_ms);
