-- Counts every dashboard page asks for (per gateway and kind, and the
-- federation's totals) are kept, not counted: catalog_count holds, per gateway
-- and kind of entry, how many entries it has and how many of them are enabled.
-- Statement-level triggers over transition tables maintain it in the same
-- transaction as every write (catalog syncs, toggles, deletes, cascades and any
-- direct SQL), so it is exact by construction and costs one aggregate per
-- statement rather than one update per row.
CREATE TABLE "catalog_count" (
    "gateway_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "entries" INTEGER NOT NULL DEFAULT 0,
    "enabled" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "catalog_count_pkey" PRIMARY KEY ("gateway_id", "kind"),
    CONSTRAINT "catalog_count_kind_check" CHECK ("kind" IN ('tool', 'resource', 'resource_template', 'prompt'))
);

ALTER TABLE "catalog_count" ADD CONSTRAINT "catalog_count_gateway_id_fkey"
    FOREIGN KEY ("gateway_id") REFERENCES "gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Added and updated rows: one upsert per gateway whose counts moved. A rename
-- or a description change moves nothing and takes no lock on the count row.
CREATE FUNCTION "catalog_count_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO catalog_count AS c (gateway_id, kind, entries, enabled)
    SELECT gateway_id, TG_ARGV[0], count(*), count(*) FILTER (WHERE enabled) FROM new_rows GROUP BY gateway_id
    ON CONFLICT (gateway_id, kind) DO UPDATE SET entries = c.entries + excluded.entries, enabled = c.enabled + excluded.enabled;
  ELSE
    INSERT INTO catalog_count AS c (gateway_id, kind, entries, enabled)
    SELECT gateway_id, TG_ARGV[0], sum(entries), sum(enabled) FROM (
      SELECT gateway_id, 1 AS entries, enabled::int AS enabled FROM new_rows
      UNION ALL
      SELECT gateway_id, -1, -(enabled::int) FROM old_rows
    ) AS moved GROUP BY gateway_id HAVING sum(entries) <> 0 OR sum(enabled) <> 0
    ON CONFLICT (gateway_id, kind) DO UPDATE SET entries = c.entries + excluded.entries, enabled = c.enabled + excluded.enabled;
  END IF;
  RETURN NULL;
END $$;

-- Deleted rows only ever lower an existing count; when the gateway itself goes,
-- its count rows go with it by cascade, in whichever order, and nothing is inserted.
CREATE FUNCTION "catalog_count_removed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalog_count AS c SET entries = c.entries - gone.entries, enabled = c.enabled - gone.enabled
  FROM (SELECT gateway_id, count(*) AS entries, count(*) FILTER (WHERE enabled) AS enabled FROM old_rows GROUP BY gateway_id) AS gone
  WHERE c.gateway_id = gone.gateway_id AND c.kind = TG_ARGV[0];
  RETURN NULL;
END $$;

CREATE TRIGGER "tool_count_insert" AFTER INSERT ON "tool" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('tool');
CREATE TRIGGER "tool_count_update" AFTER UPDATE ON "tool" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('tool');
CREATE TRIGGER "tool_count_delete" AFTER DELETE ON "tool" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_removed"('tool');

CREATE TRIGGER "resource_count_insert" AFTER INSERT ON "resource" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('resource');
CREATE TRIGGER "resource_count_update" AFTER UPDATE ON "resource" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('resource');
CREATE TRIGGER "resource_count_delete" AFTER DELETE ON "resource" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_removed"('resource');

CREATE TRIGGER "resource_template_count_insert" AFTER INSERT ON "resource_template" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('resource_template');
CREATE TRIGGER "resource_template_count_update" AFTER UPDATE ON "resource_template" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('resource_template');
CREATE TRIGGER "resource_template_count_delete" AFTER DELETE ON "resource_template" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_removed"('resource_template');

CREATE TRIGGER "prompt_count_insert" AFTER INSERT ON "prompt" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('prompt');
CREATE TRIGGER "prompt_count_update" AFTER UPDATE ON "prompt" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_added"('prompt');
CREATE TRIGGER "prompt_count_delete" AFTER DELETE ON "prompt" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "catalog_count_removed"('prompt');

-- What is already there. The migration runs in one transaction, so no write
-- slips between this backfill and the triggers.
INSERT INTO catalog_count (gateway_id, kind, entries, enabled)
SELECT gateway_id, 'tool', count(*), count(*) FILTER (WHERE enabled) FROM tool GROUP BY gateway_id
UNION ALL
SELECT gateway_id, 'resource', count(*), count(*) FILTER (WHERE enabled) FROM resource GROUP BY gateway_id
UNION ALL
SELECT gateway_id, 'resource_template', count(*), count(*) FILTER (WHERE enabled) FROM resource_template GROUP BY gateway_id
UNION ALL
SELECT gateway_id, 'prompt', count(*), count(*) FILTER (WHERE enabled) FROM prompt GROUP BY gateway_id;

-- A gateway's page of tools or prompts is in name order: read it from an index,
-- not by sorting every entry of the gateway.
CREATE INDEX "tool_gateway_id_name_idx" ON "tool"("gateway_id", "name");
CREATE INDEX "prompt_gateway_id_name_idx" ON "prompt"("gateway_id", "name");

-- Catalog search: a trigram index over name, title and description, which
-- serves case-insensitive substring matches (ILIKE) without reading every row,
-- and one over the name alone, for the matches in the name that a search lists
-- first (without it, a word no name holds walks every name to find none).
-- The expression must stay the same as SEARCH_TEXT_SQL in src/catalog/catalog-search.ts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX "tool_search_idx" ON "tool" USING gin ((name || ' ' || coalesce(title, '') || ' ' || coalesce(description, '')) gin_trgm_ops);
CREATE INDEX "resource_search_idx" ON "resource" USING gin ((name || ' ' || coalesce(title, '') || ' ' || coalesce(description, '')) gin_trgm_ops);
CREATE INDEX "resource_template_search_idx" ON "resource_template" USING gin ((name || ' ' || coalesce(title, '') || ' ' || coalesce(description, '')) gin_trgm_ops);
CREATE INDEX "prompt_search_idx" ON "prompt" USING gin ((name || ' ' || coalesce(title, '') || ' ' || coalesce(description, '')) gin_trgm_ops);
CREATE INDEX "tool_name_search_idx" ON "tool" USING gin (name gin_trgm_ops);
CREATE INDEX "resource_name_search_idx" ON "resource" USING gin (name gin_trgm_ops);
CREATE INDEX "resource_template_name_search_idx" ON "resource_template" USING gin (name gin_trgm_ops);
CREATE INDEX "prompt_name_search_idx" ON "prompt" USING gin (name gin_trgm_ops);
