-- The least-privilege role of shiftgate's PostgreSQL probe (checks/database/).
-- Run once as a superuser (or a role with CREATEROLE and the grants below), in the service's
-- database, with psql:
--   psql "$ADMIN_DSN" -v probe_password="'<generated>'" -f deploy/sql/shiftgate-probe-role.sql
-- Then give shiftgate the DSN through the variable named by database.dsn_env, e.g.
--   postgresql://shiftgate_probe:<password>@db:5432/recommendations
--
-- What the probe needs, and why:
--   CONNECT on the database       to open a session;
--   pg_monitor                    pg_stat_activity (all sessions' application_name),
--                                 pg_settings, pg_stat_progress_create_index;
--   USAGE on the schema, SELECT on the tables whose query plans are checked:
--                                 EXPLAIN needs the right to run the query (it never does:
--                                 no ANALYZE).
-- Nothing else: no write, no DDL. The probe also sets default_transaction_read_only,
-- statement_timeout and lock_timeout on every session; the role defaults below make those
-- hold even for someone who logs in by hand with it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shiftgate_probe') THEN
        CREATE ROLE shiftgate_probe LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
    EXECUTE 'GRANT CONNECT ON DATABASE ' || quote_ident(current_database()) || ' TO shiftgate_probe';
END
$$;

\if :{?probe_password}
ALTER ROLE shiftgate_probe WITH PASSWORD :probe_password;
\endif

-- A few sessions are plenty (one per gate run); a runaway loop cannot eat the pool's slots.
ALTER ROLE shiftgate_probe CONNECTION LIMIT 5;
ALTER ROLE shiftgate_probe SET default_transaction_read_only = on;
ALTER ROLE shiftgate_probe SET statement_timeout = '5s';
ALTER ROLE shiftgate_probe SET lock_timeout = '1s';

GRANT pg_monitor TO shiftgate_probe;
GRANT USAGE ON SCHEMA public TO shiftgate_probe;
-- The tables of the critical queries in environments/*.yaml (versions.specs.*.critical_queries).
GRANT SELECT ON public.recommendations, public.user_recommendations, public.users
    TO shiftgate_probe;
