-- Gateway.transport is what the operator asked for (AUTO, STREAMABLE_HTTP, SSE);
-- this is what the last successful probe actually used. Null until the first
-- contact after this migration.
ALTER TABLE "gateway" ADD COLUMN "negotiated_transport" "Transport";
