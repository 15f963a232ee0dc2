-- Programme indicators (chỉ tiêu): an admin-managed catalogue with stable codes, like the
-- assistance categories. A count is summed up the tree; a rate is numerator / denominator and
-- aggregates as the sum of numerators over the sum of denominators, never an average of rates.
-- `source` says where the numerator comes from: toso's own records (citizens helped in
-- `category_code` from the log rollups, participants of citizen classes, villages with an
-- active team) or a value an officer enters each month. `level` says where entered values are
-- recorded: per commune, or per village (the commune's figure is then the sum of its villages).
CREATE TABLE indicators (
    code          TEXT PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind          TEXT NOT NULL CHECK (kind IN ('count', 'rate')),
    denominator   TEXT CHECK (denominator IN ('adults', 'households', 'population', 'villages', 'dossiers', 'entered')),
    aggregation   TEXT NOT NULL CHECK (aggregation IN ('sum', 'ratio_of_sums')),
    source        TEXT NOT NULL CHECK (source IN ('logs', 'trainings', 'villages', 'entered')),
    level         TEXT NOT NULL CHECK (level IN ('commune', 'village')),
    category_code TEXT REFERENCES assistance_categories (code),
    sort_order    INTEGER NOT NULL DEFAULT 100,
    retired_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid      BIGINT NOT NULL DEFAULT 0,
    sync_seq      BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT indicators_rate_has_denominator CHECK ((kind = 'rate') = (denominator IS NOT NULL)),
    CONSTRAINT indicators_aggregation_fits_kind CHECK ((kind = 'rate') = (aggregation = 'ratio_of_sums')),
    CONSTRAINT indicators_logs_have_category CHECK ((source = 'logs') = (category_code IS NOT NULL)),
    CONSTRAINT indicators_computed_at_commune CHECK (source = 'entered' OR level = 'commune')
);
CREATE TRIGGER indicators_sync BEFORE INSERT OR UPDATE ON indicators
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX indicators_sync_idx ON indicators (sync_xid, sync_seq);

INSERT INTO indicators (code, name, kind, denominator, aggregation, source, level, sort_order) VALUES
    ('vneid_level2', 'Người từ 15 tuổi có tài khoản định danh điện tử mức 2', 'rate', 'adults', 'ratio_of_sums', 'entered', 'commune', 10),
    ('smartphone', 'Người từ 15 tuổi sử dụng điện thoại thông minh', 'rate', 'adults', 'ratio_of_sums', 'entered', 'village', 20),
    ('fibre_households', 'Hộ gia đình có Internet cáp quang', 'rate', 'households', 'ratio_of_sums', 'entered', 'commune', 30),
    ('cashless_account', 'Người từ 15 tuổi có tài khoản thanh toán không dùng tiền mặt', 'rate', 'adults', 'ratio_of_sums', 'entered', 'commune', 40),
    ('basic_skills_households', 'Hộ gia đình có người có đủ 5 kỹ năng số cơ bản', 'rate', 'households', 'ratio_of_sums', 'entered', 'village', 50),
    ('online_dossiers', 'Hồ sơ thủ tục hành chính nộp trực tuyến', 'rate', 'dossiers', 'ratio_of_sums', 'entered', 'commune', 60),
    ('ecommerce_farms', 'Hộ sản xuất nông nghiệp có tài khoản thương mại điện tử', 'count', NULL, 'sum', 'entered', 'commune', 70),
    ('ecommerce_farms_active', 'Hộ sản xuất nông nghiệp có tài khoản thương mại điện tử đang hoạt động', 'count', NULL, 'sum', 'entered', 'commune', 80),
    ('tech_savvy_per_100', 'Người am hiểu công nghệ số trên 100 dân', 'rate', 'population', 'ratio_of_sums', 'entered', 'commune', 90),
    ('village_community_group', 'Thôn, tổ dân phố có nhóm Zalo cộng đồng', 'rate', 'villages', 'ratio_of_sums', 'entered', 'village', 100),
    ('skills_course_enrolled', 'Người dân tham gia lớp kỹ năng số cơ bản', 'count', NULL, 'sum', 'trainings', 'commune', 110),
    ('skills_course_completed', 'Người dân hoàn thành lớp kỹ năng số cơ bản', 'count', NULL, 'sum', 'entered', 'commune', 120);
UPDATE indicators SET sync_seq = 0;
