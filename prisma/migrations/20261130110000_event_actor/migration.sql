-- The event log as an API: who caused each event, a TOOL_TOGGLED event, and
-- indexes for the history query's filters (keyset pages on the id).

-- A new enum value cannot be used in the transaction that adds it; nothing here uses it.
ALTER TYPE "EventType" ADD VALUE 'TOOL_TOGGLED';

-- The actor: the API token of the operation (null for ADMIN_TOKEN and for the
-- system) and its name. Events recorded before this migration are the system's.
ALTER TABLE "gateway_event"
    ADD COLUMN "actor_token_id" UUID,
    ADD COLUMN "actor_name" TEXT NOT NULL DEFAULT 'system';

-- events(filter: { types }) pages on the id within the types.
CREATE INDEX "gateway_event_type_id_idx" ON "gateway_event"("type", "id");

-- events(filter: { since, until }): the range of creation times.
CREATE INDEX "gateway_event_created_at_idx" ON "gateway_event"("created_at");
