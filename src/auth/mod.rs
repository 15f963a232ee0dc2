//! Who the caller is and what it may reach: roles, scopes, passwords and tokens.

pub mod jwt;
pub mod password;
pub mod service;
pub mod throttle;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    Team { commune: String, team_id: i64 },
}

/// The authenticated caller, as checked against the database on every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub username: String,
    pub role: Role,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub team_id: Option<i64>,
    /// Someone else set the password; only changing it is allowed.
    pub must_change_password: bool,
}

impl Caller {
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
                team_id: -1,
            },
        }
    }
}
