-- MCP gives a resource's size as any JSON number; 32 bits dropped every size
-- over 2 GiB. Integers JavaScript carries exactly (up to 2^53 - 1) now fit.
ALTER TABLE "resource" ALTER COLUMN "size" SET DATA TYPE BIGINT;
