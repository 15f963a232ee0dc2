// Diesel table definitions; they mirror `migrations/` (regenerate with `diesel print-schema`).

diesel::table! {
    admin_levels (code) {
        code -> Text,
        depth -> Int4,
        name -> Text,
    }
}

diesel::table! {
    admin_units (code) {
        code -> Text,
        name -> Text,
        search_name -> Text,
        level -> Text,
        unit_type -> Text,
        parent_code -> Nullable<Text>,
        province_code -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        full_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        unit_code -> Nullable<Text>,
        province_code -> Nullable<Text>,
        team_id -> Nullable<Int8>,
        disabled -> Bool,
        password_changed_at -> Timestamptz,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        must_change_password -> Bool,
    }
}

diesel::table! {
    auth_sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Int4,
        window_start -> Timestamptz,
        blocked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    villages (id) {
        id -> Int8,
        commune_code -> Text,
        province_code -> Text,
        name -> Text,
        search_name -> Text,
        kind -> Text,
        households -> Nullable<Int4>,
        population -> Nullable<Int4>,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    teams (id) {
        id -> Int8,
        commune_code -> Text,
        province_code -> Text,
        village_id -> Nullable<Int8>,
        name -> Text,
        search_name -> Text,
        decision_number -> Nullable<Text>,
        decision_date -> Nullable<Date>,
        established_on -> Nullable<Date>,
        dissolved_on -> Nullable<Date>,
        status -> Text,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    members (id) {
        id -> Int8,
        person_id -> Uuid,
        team_id -> Int8,
        commune_code -> Text,
        province_code -> Text,
        full_name -> Text,
        search_name -> Text,
        phone -> Nullable<Text>,
        sex -> Nullable<Text>,
        birth_year -> Nullable<Int4>,
        affiliation -> Text,
        team_role -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        user_id -> Nullable<Uuid>,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_username -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        province_code -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        import_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    assistance_categories (code) {
        code -> Text,
        name -> Text,
        sort_order -> Int4,
        retired_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    /// Partitioned by month of `occurred_at`: the real primary key is (id, occurred_at) and
    /// the uniqueness of `id` is kept by `log_ids`, so `id` alone is declared here for lookups.
    assistance_logs (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        member_id -> Int8,
        team_id -> Int8,
        commune_code -> Text,
        province_code -> Text,
        village_id -> Nullable<Int8>,
        category_code -> Text,
        channel -> Text,
        citizens_helped -> Int4,
        citizen_sex -> Nullable<Text>,
        citizen_age_band -> Nullable<Text>,
        outcome -> Text,
        note -> Nullable<Text>,
        created_by -> Uuid,
        device_id -> Nullable<Text>,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    /// The id of every stored log, whatever its month: the uniqueness of client ids.
    log_ids (id) {
        id -> Uuid,
    }
}

diesel::table! {
    trainings (id) {
        id -> Uuid,
        title -> Text,
        topics -> Array<Text>,
        kind -> Text,
        mode -> Text,
        platform -> Nullable<Text>,
        organiser -> Nullable<Text>,
        trainer -> Nullable<Text>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        commune_code -> Text,
        province_code -> Text,
        village_id -> Nullable<Int8>,
        team_id -> Nullable<Int8>,
        participants -> Nullable<Int4>,
        participants_male -> Nullable<Int4>,
        participants_female -> Nullable<Int4>,
        age_under_18 -> Nullable<Int4>,
        age_18_35 -> Nullable<Int4>,
        age_36_59 -> Nullable<Int4>,
        age_60_plus -> Nullable<Int4>,
        created_by -> Uuid,
        archived_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    training_attendance (id) {
        id -> Uuid,
        training_id -> Uuid,
        member_id -> Int8,
        team_id -> Int8,
        commune_code -> Text,
        province_code -> Text,
        status -> Text,
        certificate_ref -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    report_periods (commune_code, month) {
        commune_code -> Text,
        province_code -> Text,
        month -> Date,
        status -> Text,
        submitted_by -> Nullable<Uuid>,
        submitted_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        reason -> Nullable<Text>,
        snapshot -> Nullable<Jsonb>,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    commune_month_totals (month, commune_code) {
        month -> Date,
        province_code -> Text,
        commune_code -> Text,
        logs -> Int8,
        citizens -> Int8,
    }
}

diesel::table! {
    indicators (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        denominator -> Nullable<Text>,
        aggregation -> Text,
        source -> Text,
        level -> Text,
        category_code -> Nullable<Text>,
        sort_order -> Int4,
        retired_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    denominators (id) {
        id -> Int8,
        year -> Int4,
        commune_code -> Text,
        province_code -> Text,
        village_id -> Nullable<Int8>,
        population -> Nullable<Int4>,
        adults -> Nullable<Int4>,
        households -> Nullable<Int4>,
        source_note -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    indicator_values (id) {
        id -> Int8,
        indicator_code -> Text,
        month -> Date,
        commune_code -> Text,
        province_code -> Text,
        village_id -> Nullable<Int8>,
        value -> Int8,
        denominator -> Nullable<Int8>,
        source_note -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    indicator_targets (id) {
        id -> Int8,
        indicator_code -> Text,
        year -> Int4,
        month -> Nullable<Date>,
        unit_kind -> Text,
        unit_key -> Text,
        province_code -> Text,
        commune_code -> Nullable<Text>,
        target_value -> Nullable<Int8>,
        target_rate -> Nullable<Float8>,
        due_on -> Date,
        split_from -> Nullable<Int8>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sync_xid -> Int8,
        sync_seq -> Int8,
    }
}

diesel::table! {
    reporting_settings (province_code) {
        province_code -> Text,
        due_day -> Int4,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    activation_codes (user_id) {
        user_id -> Uuid,
        code_hash -> Bytea,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    imports (id) {
        id -> Uuid,
        actor_id -> Nullable<Uuid>,
        actor_username -> Text,
        unit_code -> Nullable<Text>,
        province_code -> Nullable<Text>,
        file_name -> Text,
        sha256 -> Text,
        size_bytes -> Int8,
        dry_run -> Bool,
        result -> Text,
        counts -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    import_rows (import_id, seq) {
        import_id -> Uuid,
        seq -> Int4,
        sheet -> Text,
        row_number -> Int4,
        entity -> Text,
        outcome -> Text,
        record_id -> Nullable<Int8>,
        label -> Text,
        errors -> Jsonb,
    }
}

diesel::joinable!(auth_sessions -> users (user_id));
diesel::joinable!(members -> teams (team_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));

diesel::table! {
    report_versions (month, province_code, commune_code) {
        month -> Date,
        province_code -> Text,
        commune_code -> Text,
        version -> Int8,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    admin_levels,
    admin_units,
    users,
    auth_sessions,
    refresh_tokens,
    login_throttle,
    villages,
    teams,
    members,
    audit_log,
    assistance_categories,
    assistance_logs,
    log_ids,
    trainings,
    training_attendance,
    report_periods,
    commune_month_totals,
    indicators,
    denominators,
    indicator_values,
    indicator_targets,
    reporting_settings,
    activation_codes,
    imports,
    import_rows,
    report_versions,
);
