//! What officers write in their sheets: Vietnamese headers (with the spellings seen in real
//! lists) and Vietnamese labels of the enumerated values, each mapped to the API's own.

use crate::registry::{Affiliation, Sex, TeamRole, VillageKind};
use crate::text::fold;

/// What a sheet lists.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Villages,
    Teams,
    Members,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Villages, Kind::Teams, Kind::Members];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Villages => "villages",
            Kind::Teams => "teams",
            Kind::Members => "members",
        }
    }

    /// The sheet's name in the template.
    pub fn sheet_name(self) -> &'static str {
        match self {
            Kind::Villages => "Thôn, ấp",
            Kind::Teams => "Tổ CNSCĐ",
            Kind::Members => "Thành viên",
        }
    }

    pub fn columns(self) -> &'static [Col] {
        match self {
            Kind::Villages => &[
                Col::Commune,
                Col::VillageName,
                Col::VillageKind,
                Col::Households,
                Col::Population,
            ],
            Kind::Teams => &[
                Col::Commune,
                Col::TeamName,
                Col::VillageName,
                Col::DecisionNumber,
                Col::DecisionDate,
                Col::EstablishedOn,
            ],
            Kind::Members => &[
                Col::Commune,
                Col::TeamName,
                Col::FullName,
                Col::Sex,
                Col::BirthYear,
                Col::Phone,
                Col::Affiliation,
                Col::TeamRole,
                Col::JoinedOn,
                Col::Account,
            ],
        }
    }

    /// Columns a sheet of this kind must have (the commune may be left out by a commune
    /// officer: it is then the import's commune).
    pub fn required(self) -> &'static [Col] {
        match self {
            Kind::Villages => &[Col::VillageName, Col::VillageKind],
            Kind::Teams => &[Col::TeamName],
            Kind::Members => &[Col::TeamName, Col::FullName, Col::Affiliation],
        }
    }
}

/// A column the importer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Col {
    Commune,
    VillageName,
    VillageKind,
    Households,
    Population,
    TeamName,
    DecisionNumber,
    DecisionDate,
    EstablishedOn,
    FullName,
    Sex,
    BirthYear,
    Phone,
    Affiliation,
    TeamRole,
    JoinedOn,
    Account,
    /// `STT`: the row's ordinal, ignored; the template's example row says "Ví dụ" there.
    Ordinal,
}

/// What the template's example row holds in its `STT` cell: such a row is never imported.
pub const EXAMPLE_MARK: &str = "Ví dụ";

impl Col {
    /// The header written in the template.
    pub fn header(self) -> &'static str {
        match self {
            Col::Commune => "Mã xã",
            Col::VillageName => "Thôn, ấp",
            Col::VillageKind => "Loại",
            Col::Households => "Số hộ",
            Col::Population => "Số dân",
            Col::TeamName => "Tên tổ",
            Col::DecisionNumber => "Số quyết định",
            Col::DecisionDate => "Ngày quyết định",
            Col::EstablishedOn => "Ngày thành lập",
            Col::FullName => "Họ và tên",
            Col::Sex => "Giới tính",
            Col::BirthYear => "Năm sinh",
            Col::Phone => "Số điện thoại",
            Col::Affiliation => "Thành phần",
            Col::TeamRole => "Vai trò",
            Col::JoinedOn => "Ngày tham gia",
            Col::Account => "Tạo tài khoản",
            Col::Ordinal => "STT",
        }
    }

    /// Other headers seen in officers' own sheets, folded (no diacritics, lower case).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Col::Commune => &[
                "ma xa",
                "ma xa/phuong",
                "ma xa, phuong",
                "ma don vi",
                "ma dvhc",
                "commune_code",
            ],
            Col::VillageName => &[
                "thon, ap",
                "thon/ap",
                "ten thon",
                "ten thon, ap",
                "ten thon/ap",
                "thon",
                "ap",
                "thon, ap, to dan pho",
                "village",
            ],
            Col::VillageKind => &["loai", "loai thon", "loai thon/ap", "kind"],
            Col::Households => &["so ho", "households"],
            Col::Population => &["so dan", "so nhan khau", "dan so", "population"],
            Col::TeamName => &[
                "ten to",
                "to",
                "ten to cnscd",
                "ten to cong nghe so cong dong",
                "to cnscd",
                "team",
            ],
            Col::DecisionNumber => &["so quyet dinh", "so qd", "decision_number"],
            Col::DecisionDate => &["ngay quyet dinh", "ngay qd", "decision_date"],
            Col::EstablishedOn => &["ngay thanh lap", "established_on"],
            Col::FullName => &["ho va ten", "ho ten", "ho va ten thanh vien", "full_name"],
            Col::Sex => &["gioi tinh", "sex"],
            Col::BirthYear => &[
                "nam sinh",
                "ngay sinh",
                "ngay, thang, nam sinh",
                "birth_year",
            ],
            Col::Phone => &["so dien thoai", "dien thoai", "sdt", "so dt", "phone"],
            Col::Affiliation => &["thanh phan", "nguon", "don vi cong tac", "affiliation"],
            Col::TeamRole => &["vai tro", "chuc vu", "chuc vu trong to", "team_role"],
            Col::JoinedOn => &["ngay tham gia", "ngay vao to", "joined_on"],
            Col::Account => &["tao tai khoan", "tai khoan", "cap tai khoan", "account"],
            Col::Ordinal => &["stt", "tt", "so tt", "so thu tu"],
        }
    }

    /// The column a header names, if any: `STT`, or a column of one of the sheets.
    pub fn from_header(header: &str) -> Option<Col> {
        let folded = fold(header.trim().trim_end_matches(['*', ':']).trim());
        let sheets = Kind::ALL
            .into_iter()
            .flat_map(|k| k.columns().iter().copied());
        std::iter::once(Col::Ordinal)
            .chain(sheets)
            .find(|c| fold(c.header()) == folded || c.aliases().contains(&folded.as_str()))
    }

    /// The values a cell may take, for enumerated columns (the template's drop-down lists).
    pub fn choices(self) -> Option<Vec<&'static str>> {
        let labels =
            |t: &'static [(&'static str, &'static str)]| t.iter().map(|(_, l)| *l).collect();
        match self {
            Col::VillageKind => Some(labels(VILLAGE_KINDS)),
            Col::Sex => Some(labels(SEXES)),
            Col::Affiliation => Some(labels(AFFILIATIONS)),
            Col::TeamRole => Some(labels(TEAM_ROLES)),
            Col::Account => Some(vec!["Có", "Không"]),
            _ => None,
        }
    }
}

/// (API value, Vietnamese label).
pub const VILLAGE_KINDS: &[(&str, &str)] = &[
    ("thon", "Thôn"),
    ("ap", "Ấp"),
    ("ban", "Bản"),
    ("lang", "Làng"),
    ("buon", "Buôn"),
    ("phum", "Phum"),
    ("soc", "Sóc"),
    ("to_dan_pho", "Tổ dân phố"),
    ("khu_pho", "Khu phố"),
    ("khom", "Khóm"),
    ("other", "Khác"),
];
pub const SEXES: &[(&str, &str)] = &[("male", "Nam"), ("female", "Nữ"), ("other", "Khác")];
pub const AFFILIATIONS: &[(&str, &str)] = &[
    ("village_head", "Trưởng thôn, tổ dân phố"),
    ("area_police", "Công an khu vực"),
    ("youth_union", "Đoàn Thanh niên"),
    ("womens_union", "Hội Phụ nữ"),
    ("farmers_union", "Hội Nông dân"),
    ("veterans_association", "Hội Cựu chiến binh"),
    (
        "telecom_digital_company",
        "Doanh nghiệp viễn thông, công nghệ số",
    ),
    ("teacher", "Giáo viên"),
    ("health_worker", "Nhân viên y tế"),
    ("resident_volunteer", "Người dân tình nguyện"),
    ("other", "Khác"),
];
pub const TEAM_ROLES: &[(&str, &str)] = &[
    ("leader", "Tổ trưởng"),
    ("deputy", "Tổ phó"),
    ("member", "Thành viên"),
];

/// The API value a cell names: by its label or its API value, ignoring case and diacritics.
fn lookup(table: &'static [(&'static str, &'static str)], cell: &str) -> Option<&'static str> {
    let folded = fold(cell);
    table
        .iter()
        .find(|(code, label)| fold(label) == folded || *code == folded.replace(' ', "_"))
        .map(|(code, _)| *code)
}

fn parse_json<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_string())).ok()
}

pub fn village_kind(cell: &str) -> Option<VillageKind> {
    lookup(VILLAGE_KINDS, cell).and_then(parse_json)
}

pub fn sex(cell: &str) -> Option<Sex> {
    lookup(SEXES, cell).and_then(parse_json)
}

pub fn affiliation(cell: &str) -> Option<Affiliation> {
    lookup(AFFILIATIONS, cell)
        .or_else(|| {
            // Short forms seen in lists: "Đoàn TN", "Hội PN", "Công an", "Trưởng thôn".
            let f = fold(cell);
            [
                ("truong thon", "village_head"),
                ("truong ap", "village_head"),
                ("cong an", "area_police"),
                ("doan tn", "youth_union"),
                ("doan thanh nien", "youth_union"),
                ("hoi pn", "womens_union"),
                ("phu nu", "womens_union"),
                ("hoi nd", "farmers_union"),
                ("nong dan", "farmers_union"),
                ("ccb", "veterans_association"),
                ("cuu chien binh", "veterans_association"),
                ("vien thong", "telecom_digital_company"),
                ("y te", "health_worker"),
                ("tinh nguyen", "resident_volunteer"),
            ]
            .iter()
            .find(|(k, _)| f.contains(k))
            .map(|(_, v)| *v)
        })
        .and_then(parse_json)
}

pub fn team_role(cell: &str) -> Option<TeamRole> {
    lookup(TEAM_ROLES, cell)
        .or(match fold(cell).as_str() {
            "to truong" | "truong" => Some("leader"),
            "to pho" | "pho" => Some("deputy"),
            "tv" | "thanh vien" => Some("member"),
            _ => None,
        })
        .and_then(parse_json)
}

/// "Có", "x", "1", "yes" → true; "Không", "0", "no", blank → false.
pub fn yes_no(cell: &str) -> Option<bool> {
    match fold(cell).as_str() {
        "co" | "x" | "1" | "yes" | "true" | "c" => Some(true),
        "khong" | "0" | "no" | "false" | "k" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_labels_are_read_in_their_usual_forms() {
        assert_eq!(Col::from_header("Họ và tên"), Some(Col::FullName));
        assert_eq!(Col::from_header("HỌ TÊN"), Some(Col::FullName));
        assert_eq!(Col::from_header("SĐT"), Some(Col::Phone));
        assert_eq!(Col::from_header("Số điện thoại*"), Some(Col::Phone));
        assert_eq!(Col::from_header("STT"), Some(Col::Ordinal));
        assert_eq!(Col::from_header("Ghi chú"), None);
        assert_eq!(village_kind("tổ dân phố"), Some(VillageKind::ToDanPho));
        assert_eq!(village_kind("ap"), Some(VillageKind::Ap));
        assert_eq!(sex("NỮ"), Some(Sex::Female));
        assert_eq!(affiliation("Hội PN xã"), Some(Affiliation::WomensUnion));
        assert_eq!(affiliation("youth_union"), Some(Affiliation::YouthUnion));
        assert_eq!(team_role("Tổ trưởng"), Some(TeamRole::Leader));
        assert_eq!(yes_no("Có"), Some(true));
        assert_eq!(yes_no("maybe"), None);
    }

    /// Every template header reads back as its own column, on every sheet.
    #[test]
    fn every_template_header_names_its_column() {
        for kind in Kind::ALL {
            for col in kind.columns().iter().copied().chain([Col::Ordinal]) {
                assert_eq!(Col::from_header(col.header()), Some(col), "{kind:?}");
            }
        }
    }
}
