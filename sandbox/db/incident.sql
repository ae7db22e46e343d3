-- Restores the state of the runbook's last failed release: `recommendations` has no index at
-- all, so 2.5.x's `WHERE user_segment = ...` query reads the whole table on every request.
-- Run as a superuser after seed.sql (and again to reset the sandbox after a drill).
-- Every index is found through pg_index, so leftovers of interrupted builds (invalid indexes,
-- `*_ccnew` from REINDEX CONCURRENTLY) go too; indexes behind a constraint are dropped by
-- dropping the constraint. max_connections is left to the sandbox (ALTER SYSTEM).

DO $$
DECLARE
    ix record;
BEGIN
    FOR ix IN
        SELECT i.indexrelid::regclass::text AS index_name, c.conname
        FROM pg_index AS i
        LEFT JOIN pg_constraint AS c ON c.conindid = i.indexrelid
            AND c.conrelid = i.indrelid
        WHERE i.indrelid = 'public.recommendations'::regclass
    LOOP
        IF ix.conname IS NOT NULL THEN
            EXECUTE 'ALTER TABLE public.recommendations DROP CONSTRAINT '
                || quote_ident(ix.conname) || ' CASCADE';
        ELSE
            EXECUTE 'DROP INDEX ' || ix.index_name;
        END IF;
        RAISE NOTICE USING MESSAGE = 'incident: dropped index ' || ix.index_name;
    END LOOP;
END
$$;

ANALYZE recommendations;
