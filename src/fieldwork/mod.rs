//! Field work recorded by team members, mostly from phones: citizen-assistance logs.

pub mod logs;
pub mod privacy;
pub mod sync;
pub mod trainings;

text_enum!(
    /// How the help was given.
    Channel { HomeVisit => "home_visit", CommuneCentre => "commune_centre", Phone => "phone", GroupSession => "group_session" }
);
text_enum!(AgeBand { Under18 => "under_18", From18To35 => "18_35", From36To59 => "36_59", Over60 => "60_plus" });
text_enum!(Outcome { Done => "done", PartlyDone => "partly_done", Referred => "referred", CouldNotHelp => "could_not_help" });
