-- National-scale synthetic data: every official commune, about 60,000 villages, 70,000 teams,
-- 350,000 members and :logs assistance logs spread over the 24 months to October 2026.
-- Run on a migrated database holding the official units (bench/reports.sh does it all):
--   psql -v logs=10000000 -f bench/generate.sql
-- The two parts: bench/generate_registry.sql (once) and bench/generate_logs.sql (appends
-- :logs logs; run it again with another -v seed=… to grow the table, as bench/suite.sh does).
\set ON_ERROR_STOP on
\ir generate_registry.sql
\set first 0
\ir generate_logs.sql
