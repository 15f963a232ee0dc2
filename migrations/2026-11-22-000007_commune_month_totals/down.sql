DROP INDEX member_month_logs_commune_month_idx;
DROP INDEX member_month_logs_province_month_idx;
DROP TABLE commune_month_totals CASCADE;

CREATE OR REPLACE FUNCTION apply_log_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cols CONSTANT TEXT := format('vn_month(occurred_at) AS month, province_code, commune_code, team_id, '
        'coalesce(village_id, 0) AS village_id, category_code, outcome, channel, '
        'coalesce(citizen_sex, %L) AS citizen_sex, coalesce(citizen_age_band, %L) AS citizen_age_band, '
        'member_id, citizens_helped', '', '');
    plus TEXT := format('SELECT %s, 1 AS sign FROM new_rows WHERE archived_at IS NULL', cols);
    minus TEXT := format('SELECT %s, -1 AS sign FROM old_rows WHERE archived_at IS NULL', cols);
    src TEXT;
BEGIN
    src := CASE TG_OP WHEN 'INSERT' THEN plus WHEN 'DELETE' THEN minus ELSE plus || ' UNION ALL ' || minus END;
    EXECUTE format($q$
        WITH changes AS (%s), summed AS (
            SELECT month, province_code, commune_code, team_id, village_id, category_code, outcome, channel,
                   citizen_sex, citizen_age_band, sum(sign) AS logs, sum(sign * citizens_helped) AS citizens
            FROM changes
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            HAVING sum(sign) <> 0 OR sum(sign * citizens_helped) <> 0
            ORDER BY 1, 3, 4, 5, 6, 7, 8, 9, 10
        )
        INSERT INTO log_rollups AS r SELECT * FROM summed
        ON CONFLICT (month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band)
        DO UPDATE SET logs = r.logs + excluded.logs, citizens = r.citizens + excluded.citizens
    $q$, src);
    EXECUTE format($q$
        WITH changes AS (%s), summed AS (
            SELECT month, member_id, province_code, commune_code, team_id, sum(sign) AS logs
            FROM changes GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2
        )
        INSERT INTO member_month_logs AS m SELECT * FROM summed
        ON CONFLICT (month, member_id) DO UPDATE SET logs = m.logs + excluded.logs
    $q$, src);
    RETURN NULL;
END
$$;
