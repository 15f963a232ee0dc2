//! Text helpers shared by every resource that can be searched by name.

use unicode_normalization::UnicodeNormalization;

/// Folds a Vietnamese name for search: lower case, no diacritics, `đ` as `d`, single spaces.
/// `Thành phố Hà Nội`, `ha noi` and `HA NOI` all fold to the same letters.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'd',
            c if unicode_normalization::char::is_combining_mark(c) => continue,
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
    fn escapes_like() {
        assert_eq!(like_contains("a%b_c"), "%a\\%b\\_c%");
    }
}
