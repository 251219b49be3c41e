-- Incidents as the incident manager last reported them (members, lifecycle
-- changes and scope in `body`, JSON), with the columns the Incidents page
-- filters on. A later version of an incident replaces the earlier one.
CREATE TABLE incidents (
    id         TEXT PRIMARY KEY,
    opened_ms  INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    state      TEXT NOT NULL,
    severity   TEXT NOT NULL,
    -- Namespaces touched, space-separated with a space at each end
    -- (" shop payments "), so a filter is one LIKE.
    namespaces TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX incidents_by_opened ON incidents (opened_ms);
CREATE INDEX audit_by_target ON audit (target);
