-- Schema of the sandbox's `recommendations` database, run as a superuser before seed.sql.
-- Safe to run again: tables and roles are only created when missing, grants are idempotent.
-- Passwords are not set here: the sandbox sets them with ALTER ROLE from its environment.
-- No percent signs anywhere, so drivers that interpolate parameters leave the text alone.

CREATE TABLE IF NOT EXISTS items (
    item_id  int PRIMARY KEY,
    title    text,
    category text
);

CREATE TABLE IF NOT EXISTS users (
    user_id      int PRIMARY KEY,
    user_segment int NOT NULL,
    created_at   timestamptz
);

-- The large table read by 2.5.x, one row per (segment, item). It deliberately has no index
-- here: the runbook's "create the index on user_segment" step is what the gates check.
CREATE TABLE IF NOT EXISTS recommendations (
    user_segment int NOT NULL,
    item_id      int NOT NULL,
    score        real NOT NULL,
    generated_at timestamptz
);

-- Read by the stable 2.4.3 by primary key.
CREATE TABLE IF NOT EXISTS user_recommendations (
    user_id int,
    item_id int,
    score   real,
    PRIMARY KEY (user_id, item_id)
);

DO $$
BEGIN
    -- The service's login; it only reads.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'recommendation_app') THEN
        CREATE ROLE recommendation_app LOGIN;
    END IF;
    -- shiftgate's probes: statistics views through pg_monitor, SELECT for EXPLAIN, nothing else.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shiftgate_probe') THEN
        CREATE ROLE shiftgate_probe LOGIN;
    END IF;
    -- The database name is whatever the sandbox chose, hence dynamic SQL.
    EXECUTE 'GRANT CONNECT ON DATABASE ' || quote_ident(current_database())
        || ' TO recommendation_app, shiftgate_probe';
END
$$;

GRANT pg_monitor TO shiftgate_probe;
-- Read-only by default at the role level too (the probe also sets it on every session).
ALTER ROLE shiftgate_probe SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO recommendation_app, shiftgate_probe;
GRANT SELECT ON items, users, recommendations, user_recommendations
    TO recommendation_app, shiftgate_probe;
