-- Generated from the statements `toso serve` issues for this route (captured with
-- log_statement=all; see bench/suite.sh). Variables from bench/suite.sh: -D sid=… -D uid=… (a live
-- session of the calling account) and the ones named below. Run with pgbench -M prepared.
-- GET /api/v1/villages?commune=… as bench.admin: the first page of 50. A commune's 18 villages fit in
-- one page, and a short page tells the total, so no count is issued (issue 16, `db::page_of!`).
-- The commune is the first commune code at or above a random number in [commune_min,
-- commune_max] (the API side picks uniformly among the codes; every commune has 18 villages).
\set n random(:commune_min, :commune_max)
-- (Issue 16: the session check is answered from the in-process cache of live sessions, so a
-- warm request issues no statement for it; the first request of a session reads it once.)
SELECT "villages"."id", "villages"."commune_code", "villages"."province_code", "villages"."name", "villages"."search_name", "villages"."kind", "villages"."households", "villages"."population", "villages"."archived_at", "villages"."version", "villages"."created_at", "villages"."updated_at" FROM "villages" WHERE (("villages"."commune_code" = (SELECT code FROM admin_units WHERE level = 'commune' AND code >= lpad(:n::text, 5, '0') ORDER BY code LIMIT 1)) AND ("villages"."archived_at" IS NULL)) ORDER BY "villages"."commune_code" ASC, "villages"."search_name" ASC, "villages"."id" ASC LIMIT 50 OFFSET 0;
