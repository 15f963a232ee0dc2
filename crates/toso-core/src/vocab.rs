//! The closed sets of values the service speaks: one spelling on the wire, in the database and
//! in the OpenAPI document (see `text_enum!`). A neutral module: `db`, the domain modules and
//! `http` all use it, and it uses none of them.

// The registers.
text_enum!(
    /// What a village is called locally.
    VillageKind {
        Thon => "thon", Ap => "ap", Ban => "ban", Lang => "lang", Buon => "buon", Phum => "phum",
        Soc => "soc", ToDanPho => "to_dan_pho", KhuPho => "khu_pho", Khom => "khom", Other => "other",
    }
);
text_enum!(TeamStatus { Active => "active", Inactive => "inactive", Dissolved => "dissolved" });
text_enum!(Sex { Male => "male", Female => "female", Other => "other" });
text_enum!(
    /// Where a team member comes from.
    Affiliation {
        VillageHead => "village_head", AreaPolice => "area_police", YouthUnion => "youth_union",
        WomensUnion => "womens_union", FarmersUnion => "farmers_union",
        VeteransAssociation => "veterans_association", TelecomDigitalCompany => "telecom_digital_company",
        Teacher => "teacher", HealthWorker => "health_worker", ResidentVolunteer => "resident_volunteer",
        Other => "other",
    }
);
text_enum!(TeamRole { Leader => "leader", Deputy => "deputy", Member => "member" });

// The field work.
text_enum!(
    /// How the help was given.
    Channel { HomeVisit => "home_visit", CommuneCentre => "commune_centre", Phone => "phone", GroupSession => "group_session" }
);
text_enum!(AgeBand { Under18 => "under_18", From18To35 => "18_35", From36To59 => "36_59", Over60 => "60_plus" });
text_enum!(Outcome { Done => "done", PartlyDone => "partly_done", Referred => "referred", CouldNotHelp => "could_not_help" });

// The monthly report.
text_enum!(
    /// Where a commune's monthly report stands: not_started, draft (activity recorded, not
    /// submitted), submitted, returned, approved, reopened.
    ReportStatus {
        NotStarted => "not_started", Draft => "draft", Submitted => "submitted",
        Returned => "returned", Approved => "approved", Reopened => "reopened",
    }
);
text_enum!(
    /// What an officer does to a monthly report.
    ReportAction { Submit => "submit", Approve => "approve", Return => "return", Reopen => "reopen" }
);

// The audit trail.
text_enum!(
    /// What a change in the audit trail did.
    AuditAction {
        Create => "create", Update => "update", Archive => "archive", Restore => "restore",
        Move => "move", Retire => "retire", Activate => "activate",
        PasswordChange => "password_change", ActivationIssued => "activation_issued",
        Submit => "submit", Approve => "approve",
        Return => "return", Reopen => "reopen",
    }
);

impl AuditAction {
    /// `Archive` or `Restore`.
    pub fn archiving(archive: bool) -> Self {
        if archive {
            AuditAction::Archive
        } else {
            AuditAction::Restore
        }
    }
}

impl From<ReportAction> for AuditAction {
    fn from(action: ReportAction) -> Self {
        match action {
            ReportAction::Submit => AuditAction::Submit,
            ReportAction::Approve => AuditAction::Approve,
            ReportAction::Return => AuditAction::Return,
            ReportAction::Reopen => AuditAction::Reopen,
        }
    }
}

// The trainings.
text_enum!(TrainingKind { MemberTraining => "member_training", CitizenClass => "citizen_class" });
text_enum!(TrainingMode { InPerson => "in_person", Online => "online", Blended => "blended" });
text_enum!(
    /// The learning platform used, if any.
    Platform { OneTouch => "onetouch", BinhDanHocVuSo => "binh_dan_hoc_vu_so", Other => "other" }
);
text_enum!(AttendanceStatus { Invited => "invited", Attended => "attended", Completed => "completed" });

// The programme indicators.
text_enum!(IndicatorKind { Count => "count", Rate => "rate" });
text_enum!(
    /// What a rate is divided by.
    DenominatorKind {
        Adults => "adults", Households => "households", Population => "population",
        Villages => "villages", Dossiers => "dossiers", Entered => "entered",
    }
);
text_enum!(Source { Logs => "logs", Trainings => "trainings", Villages => "villages", Entered => "entered" });
text_enum!(Level { Commune => "commune", Village => "village" });
text_enum!(UnitKind { Province => "province", Commune => "commune", Village => "village", Team => "team" });
