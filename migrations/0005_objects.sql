-- Pods, nodes and alerts as the app saw them, kept as changes: a row when
-- one appears or changes, and a row without a body when it goes away. The
-- picture at any moment is the newest row of each object up to then.
CREATE TABLE object_changes (
    seq   INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    -- 'pod', 'node' or 'alert'
    kind  TEXT NOT NULL,
    -- namespace/name for pods, the name for nodes, the fingerprint for alerts
    key   TEXT NOT NULL,
    -- JSON as the sources delivered it; NULL once gone
    body  TEXT
);
CREATE INDEX object_changes_by_time ON object_changes (at_ms);
CREATE INDEX object_changes_by_key ON object_changes (kind, key, seq);
