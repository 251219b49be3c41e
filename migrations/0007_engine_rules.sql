-- The rules each engine session ran with (a session begins at a reset step),
-- so replay evaluates what the live engine evaluated, imported rule files
-- included. `body` is the rule list as JSON.
CREATE TABLE engine_rules (
    at_ms INTEGER PRIMARY KEY,
    body  TEXT NOT NULL
);
