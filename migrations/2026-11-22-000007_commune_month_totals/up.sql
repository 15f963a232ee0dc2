-- Logs and citizens helped per commune and month: what trends read, 24 rows a year per commune.
CREATE TABLE commune_month_totals (
    month         DATE NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    logs          BIGINT NOT NULL,
    citizens      BIGINT NOT NULL,
    PRIMARY KEY (month, commune_code)
);
CREATE INDEX commune_month_totals_province_idx ON commune_month_totals (province_code, month);

-- Trends read one area's months: index by area first.
CREATE INDEX member_month_logs_province_month_idx ON member_month_logs (province_code, month);
CREATE INDEX member_month_logs_commune_month_idx ON member_month_logs (commune_code, month);

INSERT INTO commune_month_totals
SELECT month, province_code, commune_code, sum(logs), sum(citizens)
FROM log_rollups GROUP BY 1, 2, 3;

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
    EXECUTE format($q$
        WITH changes AS (%s), summed AS (
            SELECT month, province_code, commune_code, sum(sign) AS logs, sum(sign * citizens_helped) AS citizens
            FROM changes GROUP BY 1, 2, 3 HAVING sum(sign) <> 0 OR sum(sign * citizens_helped) <> 0 ORDER BY 1, 3
        )
        INSERT INTO commune_month_totals AS t SELECT * FROM summed
        ON CONFLICT (month, commune_code) DO UPDATE SET logs = t.logs + excluded.logs, citizens = t.citizens + excluded.citizens
    $q$, src);
    RETURN NULL;
END
$$;
