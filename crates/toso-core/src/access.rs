//! Who the caller is and what part of the register it may reach: roles, scopes, the caller.
//!
//! The neutral bottom of the layers: `db`, `auth` and the domain modules all use it, and it
//! imports nothing of this crate, so no module has to import one above it.

use crate::ids::{SessionId, TeamId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProvinceOfficer,
    CommuneOfficer,
    TeamLeader,
    TeamMember,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::ProvinceOfficer,
        Role::CommuneOfficer,
        Role::TeamLeader,
        Role::TeamMember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ProvinceOfficer => "province_officer",
            Role::CommuneOfficer => "commune_officer",
            Role::TeamLeader => "team_leader",
            Role::TeamMember => "team_member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Higher ranks reach more; nobody grants a rank above its own.
    pub fn rank(self) -> u8 {
        match self {
            Role::Admin => 5,
            Role::ProvinceOfficer => 4,
            Role::CommuneOfficer => 3,
            Role::TeamLeader => 2,
            Role::TeamMember => 1,
        }
    }

    pub fn is_officer(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::ProvinceOfficer | Role::CommuneOfficer
        )
    }

    /// The administrative level of the unit this role works in (`None`: the whole country).
    pub fn unit_level(self) -> Option<&'static str> {
        match self {
            Role::Admin => None,
            Role::ProvinceOfficer => Some("province"),
            Role::CommuneOfficer | Role::TeamLeader | Role::TeamMember => Some("commune"),
        }
    }

    pub fn needs_team(self) -> bool {
        matches!(self, Role::TeamLeader | Role::TeamMember)
    }
}

/// The part of the register a caller may reach. Queries take a scope and filter by it, so
/// no handler can forget to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Country,
    Province(String),
    Commune(String),
    Team { commune: String, team_id: TeamId },
}

impl Scope {
    /// Whether the administrative unit `unit_code`, lying in the province `province_code`,
    /// is wholly inside the scope (a province is its own `province_code`). A team's scope
    /// holds no whole unit, not even its own commune.
    pub fn contains(&self, unit_code: &str, province_code: &str) -> bool {
        match self {
            Scope::Country => true,
            Scope::Province(p) => p == province_code,
            Scope::Commune(c) => c == unit_code,
            Scope::Team { .. } => false,
        }
    }
}

/// The authenticated caller, as checked against the database on every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub username: String,
    pub role: Role,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub team_id: Option<TeamId>,
    /// Someone else set the password; only changing it is allowed.
    pub must_change_password: bool,
}

impl Caller {
    /// 403 with `detail` unless the caller is an officer (admin, province or commune).
    pub fn require_officer(&self, detail: &str) -> Result<(), crate::error::AppError> {
        self.require(self.role.is_officer(), detail)
    }

    /// 403 with `detail` unless the caller is an admin.
    pub fn require_admin(&self, detail: &str) -> Result<(), crate::error::AppError> {
        self.require(self.role == Role::Admin, detail)
    }

    fn require(&self, allowed: bool, detail: &str) -> Result<(), crate::error::AppError> {
        if allowed {
            Ok(())
        } else {
            Err(crate::error::AppError::forbidden(detail.to_string()))
        }
    }

    pub fn scope(&self) -> Scope {
        match (self.role, &self.unit_code, self.team_id) {
            (Role::Admin, _, _) => Scope::Country,
            (Role::ProvinceOfficer, Some(unit), _) => Scope::Province(unit.clone()),
            (Role::CommuneOfficer, Some(unit), _) => Scope::Commune(unit.clone()),
            (Role::TeamLeader | Role::TeamMember, Some(unit), Some(team_id)) => Scope::Team {
                commune: unit.clone(),
                team_id,
            },
            // The database constraint `users_scope_matches_role` rules this out; reach nothing.
            _ => Scope::Team {
                commune: String::new(),
                team_id: TeamId(-1),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, unit: Option<&str>, team_id: Option<TeamId>) -> Caller {
        Caller {
            user_id: UserId(uuid::Uuid::nil()),
            session_id: SessionId(uuid::Uuid::nil()),
            username: "someone".into(),
            role,
            unit_code: unit.map(str::to_owned),
            province_code: None,
            team_id,
            must_change_password: false,
        }
    }

    /// A caller of each role with its home unit, as the database allows them.
    fn one_of_each() -> [Caller; 5] {
        [
            caller(Role::Admin, None, None),
            caller(Role::ProvinceOfficer, Some("01"), None),
            caller(Role::CommuneOfficer, Some("00004"), None),
            caller(Role::TeamLeader, Some("00004"), Some(TeamId(7))),
            caller(Role::TeamMember, Some("00004"), Some(TeamId(7))),
        ]
    }

    #[test]
    fn each_role_has_its_scope() {
        let scopes = one_of_each().map(|c| c.scope());
        assert_eq!(
            scopes,
            [
                Scope::Country,
                Scope::Province("01".into()),
                Scope::Commune("00004".into()),
                Scope::Team {
                    commune: "00004".into(),
                    team_id: TeamId(7)
                },
                Scope::Team {
                    commune: "00004".into(),
                    team_id: TeamId(7)
                },
            ]
        );
    }

    #[test]
    fn a_caller_missing_its_unit_reaches_nothing() {
        let nowhere = Scope::Team {
            commune: String::new(),
            team_id: TeamId(-1),
        };
        for c in [
            caller(Role::ProvinceOfficer, None, None),
            caller(Role::CommuneOfficer, None, None),
            caller(Role::TeamLeader, Some("00004"), None),
            caller(Role::TeamMember, None, Some(TeamId(7))),
        ] {
            assert_eq!(c.scope(), nowhere, "{:?}", c.role);
            assert!(!c.scope().contains("", ""), "{:?}", c.role);
            assert!(!c.scope().contains("00004", "01"), "{:?}", c.role);
        }
    }

    #[test]
    fn scope_contains_each_unit_as_its_role_allows() {
        // (unit, its province): the caller's own province and commune, another commune of the
        // same province, and a province and a commune elsewhere.
        let units = [
            ("01", "01"),
            ("00004", "01"),
            ("00007", "01"),
            ("79", "79"),
            ("26734", "79"),
        ];
        let expected: [(Role, [bool; 5]); 5] = [
            (Role::Admin, [true, true, true, true, true]),
            (Role::ProvinceOfficer, [true, true, true, false, false]),
            (Role::CommuneOfficer, [false, true, false, false, false]),
            (Role::TeamLeader, [false; 5]),
            (Role::TeamMember, [false; 5]),
        ];
        for (c, (role, want)) in one_of_each().iter().zip(expected) {
            assert_eq!(c.role, role);
            let got = units.map(|(unit, province)| c.scope().contains(unit, province));
            assert_eq!(got, want, "{role:?}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).expect("a role serialises");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse(""), None);
    }

    #[test]
    fn ranks_order_the_roles_and_officers_are_the_top_three() {
        let ranks = Role::ALL.map(Role::rank);
        assert_eq!(ranks, [5, 4, 3, 2, 1]);
        let officers = Role::ALL.map(Role::is_officer);
        assert_eq!(officers, [true, true, true, false, false]);
        let teams = Role::ALL.map(Role::needs_team);
        assert_eq!(teams, [false, false, false, true, true]);
        let levels = Role::ALL.map(Role::unit_level);
        assert_eq!(
            levels,
            [
                None,
                Some("province"),
                Some("commune"),
                Some("commune"),
                Some("commune")
            ]
        );
    }
}
