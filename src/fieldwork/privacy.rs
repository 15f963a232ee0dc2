//! Privacy by design: a log's free-text note must not carry a citizen's identifiers.

/// Why a note is refused, or `None` if it may be stored. Digit runs may be written with
/// spaces, dots or dashes between the digits (`0912 345 678`, `001.234.567.890`).
pub fn note_problem(note: &str) -> Option<&'static str> {
    let lower = note.to_lowercase();
    if lower.contains("otp") && note.chars().any(|c| c.is_ascii_digit()) {
        return Some("the note seems to hold a one-time password (OTP); never record OTPs");
    }
    let chars: Vec<char> = note.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let plus = i > 0 && chars[i - 1] == '+';
        let mut digits = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_digit() {
                digits.push(c);
                i += 1;
            } else if matches!(c, ' ' | '.' | '-')
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
            {
                i += 1;
            } else {
                break;
            }
        }
        let n = digits.len();
        let phone = (n == 10 && digits.starts_with('0'))
            || (n == 11 && digits.starts_with("84"))
            || (plus && n >= 9);
        if phone {
            return Some(
                "the note contains a phone number; logs must not hold citizens' phone numbers",
            );
        }
        if n == 9 || n == 12 {
            return Some("the note contains a 9- or 12-digit number like an ID card number; logs must not hold ID numbers");
        }
        if n > 9 {
            return Some("the note contains a long number like a bank account or card number; logs must not hold it");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::note_problem;

    #[test]
    fn refuses_identifiers() {
        for note in [
            "CCCD 001234567890",
            "cmnd 123456789",
            "gọi 0912 345 678",
            "sđt +84 912 345 678",
            "số 0912.345.678",
            "TK 1903 4567 8901 23",
            "mã OTP 123456",
        ] {
            assert!(note_problem(note).is_some(), "{note}");
        }
    }

    #[test]
    fn accepts_ordinary_notes() {
        for note in [
            "Hướng dẫn 3 cụ cài VNeID, 2 người đã kích hoạt mức 2",
            "Ngày 12/10/2025, thôn 5",
            "Giúp 12 hộ thanh toán tiền điện",
            "",
        ] {
            assert_eq!(note_problem(note), None, "{note}");
        }
    }
}
