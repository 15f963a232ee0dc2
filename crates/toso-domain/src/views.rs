//! What a client sees of a record: the served shape of each row of the register and of field
//! work, kept apart from the rows (as crates.io's `views`). The API's answers, the audit
//! trail's snapshots and the phones' sync pulls all serialize these views, so the three show
//! one shape; the rows (`db`) derive neither `Serialize` nor `ToSchema`, and a column the
//! database keeps for itself (`search_name`) is simply left out here.
//!
//! Each view is written once, in `views!`: its fields, in the order they are served, with
//! their documentation (the OpenAPI descriptions) and `#[schema]` attributes; `name in fields`
//! reads the field from a part the row embeds (`Village::fields`, the columns it was inserted
//! with). The macro
//! derives `Serialize` and `ToSchema` (named as the row was, e.g. `Village`), writes the
//! conversions from the row (by value, moving each field, and by reference) and ties the row
//! to its view (`Served`). A doc comment on a view itself would become the schema's
//! description, so the views carry none.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::db::audit::AuditEntry;
use crate::db::categories::Category;
use crate::db::discipline::{InactiveMember, ReportingSettings};
use crate::db::indicators::{Denominator, Indicator, IndicatorValue, Target};
use crate::db::logs::AssistanceLog;
use crate::db::members::Member;
use crate::db::teams::Team;
use crate::db::trainings::{Attendance, Training};
use crate::db::villages::Village;
use crate::ids::{LogId, MemberId, PersonId, TeamId, TrainingId, UserId, VillageId};
use crate::vocab::{
    Affiliation, AgeBand, AttendanceStatus, Channel, Outcome, Platform, Sex, TeamRole, TeamStatus,
    TrainingKind, TrainingMode, VillageKind,
};

/// A row with a served shape: `View` is what the API, the audit trail and the sync pull show.
pub trait Served: Sized {
    type View: serde::Serialize + From<Self> + for<'a> From<&'a Self>;
}

/// The views of rows, in the order given.
pub fn all<T: Served>(rows: Vec<T>) -> Vec<T::View> {
    rows.into_iter().map(T::View::from).collect()
}

/// Declares each view: the struct, its conversions from the row and the `Served` impl.
macro_rules! views {
    ($(
        $view:ident as $name:ident from $row:ty {
            $( $(#[$field_meta:meta])* $field:ident $(in $part:ident)?: $ty:ty, )+
        }
    )+) => {$(
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[schema(as = $name)]
        pub struct $view {
            $( $(#[$field_meta])* pub $field: $ty, )+
        }

        impl From<$row> for $view {
            fn from(row: $row) -> Self {
                $view { $( $field: row$(.$part)?.$field, )+ }
            }
        }

        impl From<&$row> for $view {
            fn from(row: &$row) -> Self {
                $view { $( $field: Clone::clone(&row$(.$part)?.$field), )+ }
            }
        }

        impl Served for $row {
            type View = $view;
        }
    )+};
}

views! {
    VillageView as Village from Village {
        #[schema(value_type = i64)]
        id: VillageId,
        commune_code in fields: String,
        province_code in fields: String,
        name in fields: String,
        /// thon, ap, ban, lang, buon, phum, soc, to_dan_pho, khu_pho, khom, other.
        kind in fields: VillageKind,
        households in fields: Option<i32>,
        population in fields: Option<i32>,
        archived_at: Option<DateTime<Utc>>,
        /// Optimistic-concurrency version, also sent as `ETag`.
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    TeamView as Team from Team {
        #[schema(value_type = i64)]
        id: TeamId,
        commune_code in fields: String,
        province_code in fields: String,
        #[schema(value_type = Option<i64>)]
        village_id in fields: Option<VillageId>,
        name in fields: String,
        /// Number of the commune chairman's decision establishing the team.
        decision_number in fields: Option<String>,
        decision_date in fields: Option<NaiveDate>,
        established_on in fields: Option<NaiveDate>,
        dissolved_on in fields: Option<NaiveDate>,
        /// active, inactive or dissolved.
        status in fields: TeamStatus,
        archived_at: Option<DateTime<Utc>>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    MemberView as Member from Member {
        #[schema(value_type = i64)]
        id: MemberId,
        /// The same person across moves between teams.
        #[schema(value_type = Uuid)]
        person_id in fields: PersonId,
        #[schema(value_type = i64)]
        team_id in fields: TeamId,
        commune_code in fields: String,
        province_code in fields: String,
        full_name in fields: String,
        /// National mobile form, e.g. 0912345678.
        phone in fields: Option<String>,
        /// male, female or other.
        sex in fields: Option<Sex>,
        birth_year in fields: Option<i32>,
        affiliation in fields: Affiliation,
        /// leader, deputy or member.
        team_role in fields: TeamRole,
        joined_on in fields: NaiveDate,
        left_on: Option<NaiveDate>,
        /// The account the member uses in the mobile app.
        #[schema(value_type = Option<Uuid>)]
        user_id in fields: Option<UserId>,
        archived_at: Option<DateTime<Utc>>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    LogView as AssistanceLog from AssistanceLog {
        /// Generated on the phone (UUID); resending it never creates a second log.
        #[schema(value_type = Uuid)]
        id: LogId,
        occurred_at in fields: DateTime<Utc>,
        #[schema(value_type = i64)]
        member_id in fields: MemberId,
        #[schema(value_type = i64)]
        team_id in fields: TeamId,
        commune_code in fields: String,
        province_code in fields: String,
        #[schema(value_type = Option<i64>)]
        village_id in fields: Option<VillageId>,
        category_code in fields: String,
        /// home_visit, commune_centre, phone, group_session.
        channel in fields: Channel,
        citizens_helped in fields: i32,
        citizen_sex in fields: Option<Sex>,
        /// under_18, 18_35, 36_59, 60_plus.
        citizen_age_band in fields: Option<AgeBand>,
        /// done, partly_done, referred, could_not_help.
        outcome in fields: Outcome,
        note in fields: Option<String>,
        #[schema(value_type = Uuid)]
        created_by in fields: UserId,
        device_id in fields: Option<String>,
        archived_at: Option<DateTime<Utc>>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    TrainingView as Training from Training {
        #[schema(value_type = Uuid)]
        id: TrainingId,
        title in fields: String,
        topics in fields: Vec<String>,
        /// member_training or citizen_class.
        kind in fields: TrainingKind,
        /// in_person, online or blended.
        mode in fields: TrainingMode,
        /// onetouch, binh_dan_hoc_vu_so or other.
        platform in fields: Option<Platform>,
        organiser in fields: Option<String>,
        trainer in fields: Option<String>,
        starts_at in fields: DateTime<Utc>,
        ends_at in fields: DateTime<Utc>,
        commune_code: String,
        province_code: String,
        #[schema(value_type = Option<i64>)]
        village_id in fields: Option<VillageId>,
        /// The team that ran it, if one did.
        #[schema(value_type = Option<i64>)]
        team_id in fields: Option<TeamId>,
        /// Citizen classes: how many took part, optionally by sex and age band.
        participants in fields: Option<i32>,
        participants_male in fields: Option<i32>,
        participants_female in fields: Option<i32>,
        age_under_18 in fields: Option<i32>,
        age_18_35 in fields: Option<i32>,
        age_36_59 in fields: Option<i32>,
        age_60_plus in fields: Option<i32>,
        #[schema(value_type = Uuid)]
        created_by: UserId,
        archived_at: Option<DateTime<Utc>>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    AttendanceView as Attendance from Attendance {
        id in fields: Uuid,
        #[schema(value_type = Uuid)]
        training_id in fields: TrainingId,
        #[schema(value_type = i64)]
        member_id in fields: MemberId,
        #[schema(value_type = i64)]
        team_id in fields: TeamId,
        commune_code in fields: String,
        province_code in fields: String,
        /// invited, attended or completed.
        status in fields: AttendanceStatus,
        certificate_ref in fields: Option<String>,
        version: i32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }

    CategoryView as Category from Category {
        /// Stable code, e.g. `vneid_level2`.
        code: String,
        /// Vietnamese name.
        name: String,
        sort_order: i32,
        /// Retired categories stay valid for old logs but take no new ones.
        retired_at: Option<DateTime<Utc>>,
        created_at: DateTime<Utc>,
    }

    AuditEntryView as AuditEntry from AuditEntry {
        id: i64,
        at: DateTime<Utc>,
        #[schema(value_type = Option<Uuid>)]
        actor_id in fields: Option<UserId>,
        actor_username in fields: String,
        /// What the change did: one of `AuditAction` (`create`, `update`, `archive`, `restore`,
        /// `move`, `retire`, `activate`, `password_change`, `activation_issued`, and a report's
        /// `submit`, `approve`, `return`, `reopen`); read as text, so rows written by an older
        /// version still list.
        action: String,
        /// `village`, `team`, `member`, `user`, `report`; `assistance_log` (update, archive, restore) and `training` (create, update, archive, restore).
        entity in fields: String,
        entity_id in fields: String,
        province_code in fields: Option<String>,
        commune_code in fields: Option<String>,
        before in fields: Option<Value>,
        after in fields: Option<Value>,
        /// The import that made the change (`POST /api/v1/imports`, `toso import`).
        import_id in fields: Option<Uuid>,
    }

    ReportingSettingsView as ReportingSettings from ReportingSettings {
        province_code: String,
        /// Reports of a month are due by this day (1–28) of the following month, Vietnam time.
        due_day: i32,
        /// Optimistic-concurrency version, also sent as `ETag`; 0 while the default applies.
        version: i32,
        updated_at: DateTime<Utc>,
    }

    InactiveMemberView as InactiveMember from InactiveMember {
        #[schema(value_type = i64)]
        member_id: MemberId,
        full_name: String,
        phone: Option<String>,
        team_role: String,
        #[schema(value_type = i64)]
        team_id: TeamId,
        team_name: String,
        commune_code: String,
    }

    IndicatorView as Indicator from Indicator {
        /// Stable code, e.g. `vneid_level2`.
        code in fields: String,
        /// Vietnamese name.
        name in fields: String,
        /// `count` (summed up the tree) or `rate` (numerator / denominator).
        kind in fields: String,
        /// For a rate: `adults`, `households`, `population` (of the unit, per year), `villages`
        /// (of the unit), or `dossiers` / `entered` (given with each monthly value).
        denominator in fields: Option<String>,
        /// `sum` for counts; `ratio_of_sums` for rates: the sum of numerators over the sum of
        /// denominators, never an average of rates.
        aggregation in fields: String,
        /// `entered` by a commune officer each month, or computed from toso's records: `logs`
        /// (citizens helped in `category_code`), `trainings` (participants of citizen classes),
        /// `villages` (villages with an active team). Computed figures add up from January.
        source in fields: String,
        /// Where entered values are recorded: `commune` or `village`.
        level in fields: String,
        category_code in fields: Option<String>,
        sort_order in fields: i32,
        /// Retired indicators take no new values or targets and leave the reports.
        retired_at: Option<DateTime<Utc>>,
        created_at: DateTime<Utc>,
    }

    DenominatorView as Denominator from Denominator {
        id: i64,
        year in fields: i32,
        commune_code in fields: String,
        province_code in fields: String,
        /// The village; null for the commune's own figures.
        #[schema(value_type = Option<i64>)]
        village_id in fields: Option<VillageId>,
        population in fields: Option<i32>,
        /// People aged 15 and over.
        adults in fields: Option<i32>,
        households in fields: Option<i32>,
        source_note in fields: Option<String>,
        /// Optimistic-concurrency version, also sent as `ETag`.
        version: i32,
        updated_at: DateTime<Utc>,
    }

    IndicatorValueView as IndicatorValue from IndicatorValue {
        id: i64,
        indicator_code in fields: String,
        /// First day of the month (Vietnam time).
        month in fields: NaiveDate,
        commune_code in fields: String,
        province_code in fields: String,
        /// The village, for village-level indicators; null for the commune.
        #[schema(value_type = Option<i64>)]
        village_id in fields: Option<VillageId>,
        value in fields: i64,
        /// Given with the value when the indicator's denominator is `dossiers` or `entered`.
        denominator in fields: Option<i64>,
        /// Where the figure comes from (e.g. "Công an xã, báo cáo VNeID").
        source_note in fields: Option<String>,
        /// Optimistic-concurrency version, also sent as `ETag`.
        version: i32,
        updated_at: DateTime<Utc>,
    }

    TargetView as Target from Target {
        id: i64,
        indicator_code in fields: String,
        year in fields: i32,
        /// A monthly target's month (first day); null for the year.
        month in fields: Option<NaiveDate>,
        /// `province`, `commune`, `village` or `team`.
        unit_kind in fields: String,
        /// The official code of a province or commune, the id of a village or team.
        unit_key in fields: String,
        province_code in fields: String,
        commune_code in fields: Option<String>,
        /// A number to reach (for counts and rates).
        target_value in fields: Option<i64>,
        /// A rate to reach, 0 to 1 (for rates).
        target_rate in fields: Option<f64>,
        due_on in fields: NaiveDate,
        /// The target an automatic split derived this one from; null when set by hand.
        split_from in fields: Option<i64>,
        /// Optimistic-concurrency version, also sent as `ETag`.
        version: i32,
        updated_at: DateTime<Utc>,
    }
}
