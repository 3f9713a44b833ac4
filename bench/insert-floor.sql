-- PostgreSQL's own cost of storing 10,000 catalog rows: no JSON, no network.
-- Rows are built first into a temporary table; the timed statement copies them
-- into `tool` with all its constraints, then again without the foreign key,
-- then with neither the foreign key nor the indexes. Everything is rolled back.
-- Usage: psql -X -f bench/insert-floor.sql postgres://…/a-migrated-database
\set ON_ERROR_STOP on
\set QUIET on
BEGIN;
INSERT INTO gateway (id, name, slug, url, transport, auth_type, auth_fingerprint, updated_at)
VALUES ('0190a000-0000-7000-8000-000000000000', 'floor', 'floor', 'http://127.0.0.1:1/mcp', 'AUTO', 'NONE', 'floor', now());
-- Ascending ids, as our time-ordered UUIDv7s are within one sync.
CREATE TEMP TABLE floor_rows ON COMMIT DROP AS
SELECT ('0190a000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
       'floor__tool_' || lpad(i::text, 5, '0') AS name,
       'tool_' || lpad(i::text, 5, '0') AS original_name,
       'Tool number ' || i AS description,
       '{"type":"object","properties":{"n":{"type":"number"}},"required":["n"]}'::jsonb AS input_schema
FROM generate_series(1, 10000) AS i;
\set copy_rows 'INSERT INTO tool (id, gateway_id, name, original_name, description, input_schema, updated_at) SELECT id, ''0190a000-0000-7000-8000-000000000000'', name, original_name, description, input_schema, now() FROM floor_rows'
\timing on
\echo 'with every constraint (three runs):'
SAVEPOINT run; :copy_rows; ROLLBACK TO run;
SAVEPOINT run; :copy_rows; ROLLBACK TO run;
SAVEPOINT run; :copy_rows; ROLLBACK TO run;
\echo 'without the foreign key:'
SAVEPOINT run; ALTER TABLE tool DROP CONSTRAINT tool_gateway_id_fkey; :copy_rows; ROLLBACK TO run;
\echo 'without the foreign key and the three unique indexes (the heap alone):'
SAVEPOINT run; ALTER TABLE tool DROP CONSTRAINT tool_gateway_id_fkey, DROP CONSTRAINT tool_pkey; DROP INDEX tool_name_key, tool_gateway_id_original_name_key; :copy_rows; ROLLBACK TO run;
\timing off
ROLLBACK;
