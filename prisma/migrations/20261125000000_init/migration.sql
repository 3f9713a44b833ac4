-- CreateEnum
CREATE TYPE "Transport" AS ENUM ('AUTO', 'STREAMABLE_HTTP', 'SSE');

-- CreateEnum
CREATE TYPE "PeerAuthType" AS ENUM ('NONE', 'BASIC', 'BEARER', 'HEADERS', 'OAUTH2_CLIENT_CREDENTIALS');

-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('GATEWAY_ADDED', 'GATEWAY_UPDATED', 'GATEWAY_DELETED', 'GATEWAY_ACTIVATED', 'GATEWAY_DEACTIVATED', 'GATEWAY_HEALTH_CHANGED', 'GATEWAY_CATALOG_CHANGED');

-- CreateEnum
CREATE TYPE "ApiScope" AS ENUM ('read', 'write', 'invoke', 'admin');

-- CreateTable
CREATE TABLE "gateway" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "transport" "Transport" NOT NULL DEFAULT 'AUTO',
    "description" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "reachable" BOOLEAN NOT NULL DEFAULT true,
    "capabilities" JSONB NOT NULL DEFAULT '{}',
    "protocol_version" TEXT,
    "server_info" JSONB,
    "instructions" TEXT,
    "auth_type" "PeerAuthType" NOT NULL DEFAULT 'NONE',
    "auth_public" JSONB,
    "auth_secret" TEXT,
    "auth_fingerprint" TEXT,
    "last_seen_at" TIMESTAMPTZ(3),
    "last_checked_at" TIMESTAMPTZ(3),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "gateway_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tool" (
    "id" UUID NOT NULL,
    "gateway_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "original_name" TEXT NOT NULL,
    "title" TEXT,
    "description" TEXT,
    "input_schema" JSONB NOT NULL DEFAULT '{}',
    "output_schema" JSONB,
    "annotations" JSONB,
    "icons" JSONB,
    "meta" JSONB,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tool_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "resource" (
    "id" UUID NOT NULL,
    "gateway_id" UUID NOT NULL,
    "uri" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "title" TEXT,
    "description" TEXT,
    "mime_type" TEXT,
    "size" INTEGER,
    "annotations" JSONB,
    "icons" JSONB,
    "meta" JSONB,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "resource_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "resource_template" (
    "id" UUID NOT NULL,
    "gateway_id" UUID NOT NULL,
    "uri_template" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "title" TEXT,
    "description" TEXT,
    "mime_type" TEXT,
    "annotations" JSONB,
    "icons" JSONB,
    "meta" JSONB,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "resource_template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prompt" (
    "id" UUID NOT NULL,
    "gateway_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "original_name" TEXT NOT NULL,
    "title" TEXT,
    "description" TEXT,
    "arguments" JSONB NOT NULL DEFAULT '[]',
    "icons" JSONB,
    "meta" JSONB,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "prompt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "gateway_event" (
    "id" BIGSERIAL NOT NULL,
    "type" "EventType" NOT NULL,
    "gateway_id" UUID,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "gateway_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_token" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" "ApiScope"[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "gateway_name_key" ON "gateway"("name");

-- CreateIndex
CREATE UNIQUE INDEX "gateway_slug_key" ON "gateway"("slug");

-- CreateIndex
CREATE INDEX "gateway_auth_fingerprint_idx" ON "gateway"("auth_fingerprint");

-- CreateIndex
CREATE UNIQUE INDEX "tool_name_key" ON "tool"("name");

-- CreateIndex
CREATE UNIQUE INDEX "tool_gateway_id_original_name_key" ON "tool"("gateway_id", "original_name");

-- CreateIndex
CREATE UNIQUE INDEX "resource_gateway_id_uri_key" ON "resource"("gateway_id", "uri");

-- CreateIndex
CREATE UNIQUE INDEX "resource_template_gateway_id_uri_template_key" ON "resource_template"("gateway_id", "uri_template");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_name_key" ON "prompt"("name");

-- CreateIndex
CREATE UNIQUE INDEX "prompt_gateway_id_original_name_key" ON "prompt"("gateway_id", "original_name");

-- CreateIndex
CREATE INDEX "gateway_event_gateway_id_id_idx" ON "gateway_event"("gateway_id", "id");

-- AddForeignKey
ALTER TABLE "tool" ADD CONSTRAINT "tool_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "resource" ADD CONSTRAINT "resource_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "resource_template" ADD CONSTRAINT "resource_template_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prompt" ADD CONSTRAINT "prompt_gateway_id_fkey" FOREIGN KEY ("gateway_id") REFERENCES "gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;
