-- The least SQL that answers GET /api/v1/villages?commune=… (first page of 50 and the total):
-- one page query carrying the total as a window count. The commune is picked as in
-- villages.sql (the first commune code at or above a random number), so both scripts pay the
-- same small lookup. -D commune_min=… -D commune_max=…
\set n random(:commune_min, :commune_max)
SELECT "villages"."id", "villages"."commune_code", "villages"."province_code", "villages"."name", "villages"."search_name", "villages"."kind", "villages"."households", "villages"."population", "villages"."archived_at", "villages"."version", "villages"."created_at", "villages"."updated_at", count(*) OVER () AS total FROM "villages" WHERE "villages"."commune_code" = (SELECT code FROM admin_units WHERE level = 'commune' AND code >= lpad(:n::text, 5, '0') ORDER BY code LIMIT 1) AND "villages"."archived_at" IS NULL ORDER BY "villages"."commune_code" ASC, "villages"."search_name" ASC, "villages"."id" ASC LIMIT 50;
