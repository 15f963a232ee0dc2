//! Text helpers: what every string of a request goes through on the way in (NFC, no
//! control or bidi characters), and folding for search.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::{AppError, ErrorCode, FieldError};

/// A character no request text may hold: C0/C1 controls other than tab, line feed and
/// carriage return, and the bidirectional controls (embeddings, overrides, isolates and marks)
/// that make text display in another order than it is stored ("Trojan Source").
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A character that shows nothing: white space, format characters (zero-width space and
/// joiners, soft hyphen, BOM…), controls, and the default-ignorable fillers and selectors.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c.general_category(),
            GeneralCategory::Format | GeneralCategory::Control | GeneralCategory::Unassigned
        )
        || matches!(
            c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
                | '\u{180B}'..='\u{180F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'
        )
}

/// The text without invisible characters at either end.
pub fn trim_invisible(s: &str) -> &str {
    s.trim_matches(is_invisible)
}

/// Every string of a JSON request body, in place: normalised to NFC (Vietnamese typed composed
/// or decomposed is stored alike), and checked: no forbidden character, and not made only of
/// invisible characters when it holds a format character (`"\u{200B}"` is not a name).
/// `path` is the value's path (`items[2].note`); `skip` names top-level keys left to a later,
/// per-item check. Fails with one field error per bad string (422), or with 400
/// `invalid_text` for a NUL character, which PostgreSQL cannot store at all.
pub fn screen_json(
    value: &mut serde_json::Value,
    path: &str,
    skip: &[&str],
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    screen_into(value, path, skip, &mut errors);
    if let Some(nul) = errors.iter().find(|e| e.code == NUL) {
        return Err(AppError::BadRequest {
            code: ErrorCode::InvalidText,
            detail: format!(
                "{}: text must be valid UTF-8 without NUL characters",
                nul.field
            ),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

const NUL: &str = "nul";

fn screen_into(
    value: &mut serde_json::Value,
    path: &str,
    skip: &[&str],
    errors: &mut Vec<FieldError>,
) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Err(e) = screen_str(path, s) {
                errors.push(e);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                screen_into(v, &format!("{path}[{i}]"), &[], errors);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                screen_into(v, &p, &[], errors);
            }
        }
        _ => {}
    }
}

/// One string: normalised to NFC in place, or the field error that refuses it.
pub fn screen_str(field: &str, s: &mut String) -> Result<(), FieldError> {
    let field = if field.is_empty() { "body" } else { field };
    if s.contains('\0') {
        return Err(FieldError::new(field, NUL, "NUL character"));
    }
    if let Some(c) = s.chars().find(|&c| is_forbidden(c)) {
        return Err(FieldError::new(
            field,
            "forbidden_character",
            format!(
                "{field} holds the control or bidirectional character U+{:04X}, which text here may not contain",
                c as u32
            ),
        ));
    }
    if s.chars().all(is_invisible) && s.chars().any(|c| !c.is_whitespace()) {
        return Err(FieldError::new(
            field,
            "invisible",
            format!("{field} is made only of invisible characters"),
        ));
    }
    if !unicode_normalization::is_nfc_quick(s.chars()).eq(&unicode_normalization::IsNormalized::Yes)
    {
        *s = s.nfc().collect();
    }
    Ok(())
}

/// Folds a Vietnamese name for search: lower case, no diacritics, `đ` as `d`, single spaces.
/// `Thành phố Hà Nội`, `ha noi` and `HA NOI` all fold to the same letters.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            c if unicode_normalization::char::is_combining_mark(c) => continue,
            c if is_invisible(c) && !c.is_whitespace() => continue,
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Escapes `%`, `_` and `\` for a `LIKE` pattern and wraps the text in `%…%`.
pub fn like_contains(folded: &str) -> String {
    let mut p = String::with_capacity(folded.len() + 2);
    p.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Thành phố Hà Nội"), "thanh pho ha noi");
        assert_eq!(fold("  HA   NOI "), "ha noi");
        assert_eq!(fold("Tỉnh Đồng Nai"), "tinh dong nai");
        assert_eq!(fold("Phường Ngọc Hà"), "phuong ngoc ha");
    }

    #[test]
    fn screens_request_text() {
        let mut v = serde_json::json!({
            "name": "Tho\u{0302}n 1",
            "ok": "  ",
            "zw": "\u{200B}\u{200D}",
            "items": [{"note": "a\u{202E}b"}],
            "n": 3
        });
        let Err(AppError::Validation(errors)) = screen_json(&mut v, "", &[]) else {
            panic!("refused");
        };
        assert_eq!(v["name"], "Thôn 1");
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("items[0].note", "forbidden_character"),
                ("zw", "invisible")
            ]
        );
        let mut v = serde_json::json!({"items": ["\u{0007}"]});
        assert!(screen_json(&mut v, "", &["items"]).is_ok());
        let mut v = serde_json::json!({"a": "x\u{0}"});
        assert!(matches!(
            screen_json(&mut v, "", &[]),
            Err(AppError::BadRequest {
                code: ErrorCode::InvalidText,
                ..
            })
        ));
        assert_eq!(fold("Th\u{200B}ôn\u{00AD} 1"), "thon 1");
        assert!(is_invisible('\u{3164}') && is_invisible('\u{FEFF}') && !is_invisible('a'));
    }

    #[test]
    fn escapes_like() {
        assert_eq!(like_contains("a%b_c"), "%a\\%b\\_c%");
    }
}
