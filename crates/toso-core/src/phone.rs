//! Vietnamese mobile numbers, kept in the national form `0xxxxxxxxx`.

/// Mobile prefixes in use since the 2018 renumbering (Viettel, VinaPhone, MobiFone,
/// Vietnamobile, Gmobile, Itel, Reddi).
const MOBILE_PREFIXES: [&str; 5] = ["03", "05", "07", "08", "09"];

/// `+84 912 345 678`, `84912345678`, `0912.345.678`, `0084 912 345 678`,
/// `+84 (0) 912 345 678`, full-width digits, any spaces → `0912345678`; `None` if not a
/// mobile number.
pub fn normalize(input: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let digits: String = input
        .nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '(' | ')' | '/' | '_'))
        .collect();
    let international = digits
        .strip_prefix("+84")
        .or_else(|| digits.strip_prefix("0084"))
        .or_else(|| digits.strip_prefix("84").filter(|r| r.len() == 9));
    let rest = match international {
        // `+84 0912…`: the trunk 0 written after the country code.
        Some(r) => r.strip_prefix('0').filter(|r| r.len() == 9).unwrap_or(r),
        None => digits.strip_prefix('0')?,
    };
    if rest.len() != 9 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let national = format!("0{rest}");
    MOBILE_PREFIXES
        .iter()
        .any(|p| national.starts_with(p))
        .then_some(national)
}

/// An optional `phone` field of a request: blank means none; anything else must be a mobile
/// number, answered in national form.
pub fn field(value: Option<&str>) -> crate::error::AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => normalize(p).map(Some).ok_or_else(|| {
            crate::error::AppError::field(
                "phone",
                "invalid_phone",
                "phone must be a Vietnamese mobile number, e.g. 0912345678",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_forms() {
        assert_eq!(normalize("+84 912 345 678").as_deref(), Some("0912345678"));
        assert_eq!(normalize("84912345678").as_deref(), Some("0912345678"));
        assert_eq!(normalize("0912.345.678").as_deref(), Some("0912345678"));
        assert_eq!(normalize("0312345678").as_deref(), Some("0312345678"));
        for form in [
            "0084 912 345 678",
            "+84 (0) 912 345 678",
            "+840912345678",
            "０９１２３４５６７８",
            "0912\u{a0}345\u{2009}678",
            "\t0912/345_678\n",
        ] {
            assert_eq!(normalize(form).as_deref(), Some("0912345678"), "{form:?}");
        }
    }

    #[test]
    fn rejects_non_mobile() {
        assert_eq!(normalize("0241234567"), None);
        assert_eq!(normalize("091234567"), None);
        assert_eq!(normalize("abc"), None);
        assert_eq!(normalize("alice"), None);
        assert_eq!(normalize("+8409123456789"), None);
        assert_eq!(normalize("00912345678"), None);
    }
}
