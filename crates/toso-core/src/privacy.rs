//! Privacy by design: free text about work done for citizens must not carry a citizen's
//! identifiers (phone numbers, ID-card numbers, account or card numbers, e-mail addresses,
//! one-time passwords).
//!
//! The text is first brought to one plain form, so that look-alikes cannot walk around the
//! rules: NFKC (full-width `０９１２`, `ＯＴＰ`, no-break and thin spaces become plain ones),
//! format characters (zero-width space and joiners, soft hyphen, BOM) removed, every Unicode
//! decimal digit (general category Nd: Arabic-Indic, Devanagari, Thai…) folded to ASCII, lower
//! case. Then digit groups separated only by non-alphanumeric characters (any run of spaces,
//! `.`, `/`, `_`, `,`, dashes…) are read as one number, unless the number is fully explained
//! as dates, times and amounts of money (`15/10/2026 - 20/10/2026`, `8:30`,
//! `1.500.000.000 đồng`).

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

const PHONE: &str = "the text contains a phone number; it must not hold citizens' phone numbers";
const ID: &str =
    "the text contains a 9- or 12-digit number like an ID card number; it must not hold ID numbers";
const LONG: &str =
    "the text contains a long number like a bank account or card number; it must not hold it";
const EMAIL: &str = "the text contains an e-mail address; it must not hold citizens' addresses";
const OTP: &str = "the text seems to hold a one-time password (OTP); never record OTPs";

/// Words (folded: no diacritics, lower case) that announce a one-time or secret code.
const CODE_WORDS: &[&str] = &[
    "otp",
    "ma xac thuc",
    "ma xac nhan",
    "ma kich hoat",
    "ma bao mat",
    "ma dang nhap",
    "ma giao dich",
    "ma pin",
    "mat khau",
    "mat ma",
    "ma xac minh",
    "ma mo khoa",
    "ma so bi mat",
    "ma code",
    "mk",
    "pass",
    "passcode",
    "password",
    "verification code",
];

/// Free-mail providers: `name@gmail` is an address even without its `.com`.
const MAIL_PROVIDERS: &[&str] = &["gmail", "yahoo", "hotmail", "outlook", "icloud", "ymail"];

/// Words (folded) after which a grouped number is an amount of money.
const CURRENCY: &[&str] = &[
    "dong", "d", "vnd", "k", "nghin", "ngan", "trieu", "tr", "ty", "usd",
];

/// Why a text is refused, or `None` if it may be stored.
pub fn note_problem(note: &str) -> Option<&'static str> {
    let text = plain(note);
    if has_email(&text) {
        return Some(EMAIL);
    }
    let tokens = numbers(&text);
    let folded = crate::text::fold(&text);
    let announces_code = CODE_WORDS.iter().any(|w| has_word(&folded, w));
    for token in &tokens {
        for (k, d) in token.runs().iter().enumerate() {
            if let Some(why) = judge(d, k == 0 && token.plus, announces_code) {
                return Some(why);
            }
        }
    }
    None
}

/// What a run of digits read as one number is, if it is personal.
fn judge(d: &str, plus: bool, announces_code: bool) -> Option<&'static str> {
    let n = d.len();
    if announces_code && (4..=8).contains(&n) {
        Some(OTP)
    } else if (n == 10 && d.starts_with('0'))
        || (n == 11 && d.starts_with("84"))
        || (plus && n >= 9)
    {
        Some(PHONE)
    } else if n == 9 || n == 12 {
        Some(ID)
    } else if n > 9 {
        Some(LONG)
    } else {
        None
    }
}

/// NFKC, no format characters, every decimal digit in ASCII, lower case.
fn plain(s: &str) -> String {
    s.nfkc()
        .filter(|&c| c.general_category() != GeneralCategory::Format)
        .map(|c| decimal_digit(c).unwrap_or(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The ASCII digit of any Unicode decimal digit (Nd). Unicode assigns Nd characters only in
/// contiguous runs of ten, from 0 to 9, so the value is the position within the run.
fn decimal_digit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    if c.general_category() != GeneralCategory::DecimalNumber {
        return None;
    }
    let mut before = 0u32;
    let mut code = c as u32;
    while let Some(prev) = code.checked_sub(1).and_then(char::from_u32) {
        if prev.general_category() != GeneralCategory::DecimalNumber {
            break;
        }
        before += 1;
        code -= 1;
    }
    char::from_digit(before % 10, 10)
}

/// `word` (folded) in `folded` with no letter on either side (digits may touch: `otp123456`).
fn has_word(folded: &str, word: &str) -> bool {
    folded.match_indices(word).any(|(i, _)| {
        let before = folded[..i].chars().next_back();
        let after = folded[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

/// `local@domain.tld`, with the usual characters of the local part; also written with
/// spaces around `@` and the dots, `(at)`/`[at]` and `(dot)`/`[dot]`, or a free-mail
/// provider's name without its top-level domain (`lan@gmail`).
fn has_email(text: &str) -> bool {
    let mut t = text.to_string();
    for (from, to) in [
        ("(at)", "@"),
        ("[at]", "@"),
        ("{at}", "@"),
        ("(dot)", "."),
        ("[dot]", "."),
        ("{dot}", "."),
    ] {
        t = t.replace(from, to);
    }
    // Spaces around `@` and `.` do not part an address.
    let mut compact = String::with_capacity(t.len());
    let mut pending_space = false;
    for c in t.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let joins = c == '@' || c == '.' || compact.ends_with(['@', '.']);
        if pending_space && !joins && !compact.is_empty() {
            compact.push(' ');
        }
        pending_space = false;
        compact.push(c);
    }
    let chars: Vec<char> = compact.chars().collect();
    let local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '-';
    chars.iter().enumerate().any(|(i, &c)| {
        if c != '@' || i == 0 || !local(chars[i - 1]) {
            return false;
        }
        let rest: String = chars[i + 1..]
            .iter()
            .take_while(|&&c| domain(c) || c == '.')
            .collect();
        let labels: Vec<&str> = rest.trim_end_matches('.').split('.').collect();
        MAIL_PROVIDERS.contains(&labels[0])
            || labels.len() >= 2
                && labels.iter().all(|l| !l.is_empty())
                && labels.last().is_some_and(|tld| {
                    tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
                })
    })
}

/// Digit groups joined by runs of non-alphanumeric characters: one number as written.
struct Number {
    groups: Vec<String>,
    /// `seps[i]` stands between `groups[i]` and `groups[i + 1]`.
    seps: Vec<String>,
    /// A `+` just before the first digit (`+84 …`).
    plus: bool,
    /// The word right after the number, folded (`đồng` → `dong`).
    next_word: String,
}

fn numbers(text: &str) -> Vec<Number> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let plus = chars[..i]
            .iter()
            .rev()
            .take_while(|c| !c.is_alphanumeric())
            .any(|&c| c == '+');
        let mut number = Number {
            groups: Vec::new(),
            seps: Vec::new(),
            plus,
            next_word: String::new(),
        };
        loop {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let group: String = chars[start..i].iter().collect();
            number.groups.push(group);
            let sep_start = i;
            while i < chars.len() && !chars[i].is_alphanumeric() {
                i += 1;
            }
            if i < chars.len() && chars[i].is_ascii_digit() && i > sep_start {
                number.seps.push(chars[sep_start..i].iter().collect());
            } else {
                let word: String = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                number.next_word = crate::text::fold(&word);
                break;
            }
        }
        out.push(number);
    }
    out
}

impl Number {
    /// The digit runs to judge: the number cut into dates, times and amounts of money (the
    /// amounts followed by a currency word) and plain groups. Two neighbours stay joined, as
    /// one run of digits, unless both are dates/times/amounts with a space, dash or comma
    /// between them (`15/10/2026 - 20/10/2026`), or one of them is and a comma or semicolon
    /// with a space parts them (`15/10/2026, 2 người`). A run that is one date, time or
    /// amount alone is not judged; plain groups always stay joined (`0912, 345, 678`), and so
    /// does a date followed by more digits (`09/12/2026 56`).
    fn runs(&self) -> Vec<String> {
        let currency = CURRENCY.contains(&self.next_word.as_str());
        // (first group, groups used, benign)
        let mut items = Vec::new();
        let mut i = 0;
        while i < self.groups.len() {
            let benign = self.date(i).or_else(|| self.time(i)).or_else(|| {
                if currency {
                    self.amount(i)
                } else {
                    None
                }
            });
            let used = benign.unwrap_or(1);
            items.push((i, used, benign.is_some()));
            i += used;
        }
        let mut runs = Vec::new();
        let mut run = String::new();
        let mut alone_benign = false;
        for (k, &(first, used, benign)) in items.iter().enumerate() {
            if k > 0 {
                let (_, _, prev_benign) = items[k - 1];
                let sep = self.seps[first - 1].as_str();
                let spaced = sep.chars().any(char::is_whitespace);
                let apart = (prev_benign && benign && sep.contains([' ', '-', '–', '—', ',', '~']))
                    || ((prev_benign || benign) && spaced && sep.contains([',', ';']));
                if apart {
                    if !alone_benign {
                        runs.push(std::mem::take(&mut run));
                    }
                    run.clear();
                    alone_benign = benign;
                } else {
                    alone_benign = false;
                }
            } else {
                alone_benign = benign;
            }
            for g in &self.groups[first..first + used] {
                run.push_str(g);
            }
        }
        if !alone_benign {
            runs.push(run);
        }
        runs
    }

    fn num(&self, i: usize) -> Option<(usize, u32)> {
        let g = self.groups.get(i)?;
        Some((g.len(), g.parse().ok()?))
    }

    /// `d/m/yyyy`, `d.m.yy`, `d-m-yyyy` or `d/m`: the groups it uses.
    fn date(&self, i: usize) -> Option<usize> {
        let (dl, d) = self.num(i)?;
        let (ml, m) = self.num(i + 1)?;
        let sep = self.seps[i].as_str();
        if dl > 2 || ml > 2 || !(1..=31).contains(&d) || !(1..=12).contains(&m) {
            return None;
        }
        if !matches!(sep, "/" | "." | "-") {
            return None;
        }
        match self.num(i + 2) {
            Some((yl, y))
                if self.seps[i + 1] == sep
                    && (yl == 2 || (yl == 4 && (1900..=2199).contains(&y))) =>
            {
                Some(3)
            }
            _ if sep == "/" => Some(2),
            _ => None,
        }
    }

    /// `8:30` or `08:30:15`.
    fn time(&self, i: usize) -> Option<usize> {
        let (hl, h) = self.num(i)?;
        let (ml, m) = self.num(i + 1)?;
        if hl > 2 || h > 24 || ml != 2 || m > 59 || self.seps[i] != ":" {
            return None;
        }
        match self.num(i + 2) {
            Some((2, sec)) if sec <= 59 && self.seps[i + 1] == ":" => Some(3),
            _ => Some(2),
        }
    }

    /// `1.500.000`, `2,000,000` or `1 500 000`: 1–3 digits (not a leading 0), then groups of
    /// three with one separator.
    fn amount(&self, i: usize) -> Option<usize> {
        let first = &self.groups[i];
        if first.len() > 3 || (first.starts_with('0') && first.len() > 1) {
            return None;
        }
        let sep = self.seps.get(i)?;
        if !matches!(sep.as_str(), "." | "," | " ") {
            return None;
        }
        let mut used = 1;
        while self.groups.get(i + used).is_some_and(|g| g.len() == 3)
            && (used == 1 || self.seps[i + used - 1] == *sep)
        {
            used += 1;
        }
        (used > 1).then_some(used)
    }
}

#[cfg(test)]
mod tests {
    use super::note_problem;

    /// Texts that must be refused, each with what the guard must say.
    const HITS: &[(&str, &str)] = &[
        ("CCCD 001234567890", "ID"),
        ("cmnd 123456789", "ID"),
        ("CCCD 001/234/567/890", "ID"),
        ("CCCD 001.234.567.890", "ID"),
        ("CCCD 001 234 567 890", "ID"),
        ("CCCD 001_234_567_890", "ID"),
        ("CCCD ００１２３４５６７８９０", "ID"),
        (
            "cmnd 1\u{200B}2\u{200B}3\u{200B}4\u{200B}5\u{200B}6\u{200B}7\u{200B}8\u{200B}9",
            "ID",
        ),
        ("gọi 0912 345 678", "PHONE"),
        ("sđt +84 912 345 678", "PHONE"),
        ("số 0912.345.678", "PHONE"),
        ("sđt ０９１２３４５６７８", "PHONE"),
        ("sđt 0912   345   678", "PHONE"),
        ("sđt 0912/345/678", "PHONE"),
        ("sđt 0912_345_678", "PHONE"),
        ("sđt 0912,345,678", "PHONE"),
        ("sđt 0912\u{00A0}345\u{00A0}678", "PHONE"),
        ("sđt 0912\u{2009}345\u{2009}678", "PHONE"),
        ("sđt 0912\u{202F}345\u{202F}678", "PHONE"),
        ("sđt 0912–345–678", "PHONE"),
        ("sđt 0912—345—678", "PHONE"),
        ("sđt 0912 - 345 - 678", "PHONE"),
        ("sđt 0\u{200B}9\u{200B}1\u{200B}2\u{200B}345678", "PHONE"),
        ("sđt 0912\u{200D}345\u{2060}678", "PHONE"),
        ("sđt 09\u{00AD}12345678", "PHONE"),
        ("sđt ٠٩١٢٣٤٥٦٧٨", "PHONE"),
        ("sđt ۰۹۱۲۳۴۵۶۷۸", "PHONE"),
        ("sđt ०९१२३४५६७८", "PHONE"),
        ("sđt ๐๙๑๒๓๔๕๖๗๘", "PHONE"),
        ("sđt 𝟎𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "PHONE"),
        ("sđt (091) 234-5678", "PHONE"),
        ("sđt 84912345678", "PHONE"),
        ("sđt 09/12/2026 56", "PHONE"),
        ("sđt 0912, 345, 678", "PHONE"),
        ("Ngày 15/10/2026, 0912 345 678", "PHONE"),
        ("sđt 0912; 345; 678", "PHONE"),
        ("TK 1903 4567 8901 23", "LONG"),
        ("thẻ 4111-1111-1111-1111", "LONG"),
        ("STK 19034567890123", "LONG"),
        ("mã OTP 123456", "OTP"),
        ("mã otp: 1234", "OTP"),
        ("ＯＴＰ 123456", "OTP"),
        ("OTP123456", "OTP"),
        ("mã OTP:12 34 56", "OTP"),
        ("sđt ⓪⑨①②③④⑤⑥⑦⑧", "PHONE"),
        ("sđt 0912\u{3000}345\u{3000}678", "PHONE"),
        ("sđt (+84) 912-345-678", "PHONE"),
        ("mã xác thực 123456", "OTP"),
        ("Mã xác nhận là 8 8 2 1 9 0", "OTP"),
        ("ma xac thuc 482913", "OTP"),
        ("mã kích hoạt VNeID: 556677", "OTP"),
        ("mật khẩu 12345678", "OTP"),
        ("OTP\u{200B}: ١٢٣٤٥٦", "OTP"),
        ("email nguyenvana@gmail.com", "EMAIL"),
        ("gửi về a.b-c+d@mail.gov.vn nhé", "EMAIL"),
        ("email nguyenvana＠gmail．com", "EMAIL"),
        ("mail nguyenvana @ gmail . com", "EMAIL"),
        ("mail nguyenvana(at)gmail(dot)com", "EMAIL"),
        ("mail nguyenvana [at] mail.gov.vn", "EMAIL"),
        ("gửi lan.nguyen@gmail nhé", "EMAIL"),
        ("mk 12345678", "OTP"),
        ("pass wifi 1234 5678", "OTP"),
        ("mã code: 482913", "OTP"),
        ("mã xác minh 4829", "OTP"),
    ];

    /// Ordinary texts that must pass.
    const PASSES: &[&str] = &[
        "",
        "Hướng dẫn 3 cụ cài VNeID, 2 người đã kích hoạt mức 2",
        "Ngày 12/10/2025, thôn 5",
        "Giúp 12 hộ thanh toán tiền điện",
        "Theo Quyết định 123/QĐ-UBND ngày 15/10/2026",
        "Quyết định số 1234/QĐ-UBND",
        "Từ 15/10/2026 - 20/10/2026",
        "Theo 123/QĐ-UBND, từ 15/10/2026 - 20/10/2026, 2 người",
        "Ngày 15/10/2026, 3 hộ; 20/10/2026, 4 hộ",
        "Từ 15/10/2026 đến 20/10/2026",
        "Lúc 15/10/2026 8:30 tại nhà văn hoá",
        "Họp từ 8:30 - 10:30",
        "Thu 1.500.000 đồng",
        "Phí 1.500.000.000 đồng",
        "Từ 1.500.000 - 2.000.000 đồng",
        "Hỗ trợ 2 người",
        "Hướng dẫn không chia sẻ mã OTP cho người lạ",
        "Dặn bà con không đọc mã xác thực cho ai, 5 hộ",
        "Năm 2026, quý 4",
        "Thôn 1, 2, 3 và 4",
        "Tổ 7, khu phố 3",
        "Lắp 2 camera, 1 modem",
        "Cài app VNeID bản 2.1.5",
        "Kết nối wifi 5 GHz",
        "Cập nhật lúc 23:59:59",
        "Ngày 01.02.2026",
        "Ngày 1-2-2026 và 3-2-2026",
        "2025-2026",
        "Giá 250k",
        "Chuyển 300,000 đ",
        "Pin điện thoại còn 50%",
        "Dạy lẩu hotpot 3 người",
        "Đi 12 km",
        "Trẻ 6 tuổi, cụ 85 tuổi",
        "Gặp ở nhà số 45/12 ngõ 3",
        "Dạy gửi thư @ trong Zalo",
        "Dạy gửi thư @ trong Zalo. Com xong",
        "Hướng dẫn đặt mật khẩu mạnh cho 3 người",
        "Pin điện thoại 5000 mAh",
        "Quét QR code thanh toán cho 1500 hộ",
        "Gặp anh Lâm ở nhà văn hoá. 5 người dự",
        "Mục (a) vào vneid.gov.vn, mục (b) cài ứng dụng",
    ];

    fn kind(why: &str) -> &'static str {
        [
            (super::PHONE, "PHONE"),
            (super::ID, "ID"),
            (super::LONG, "LONG"),
            (super::EMAIL, "EMAIL"),
            (super::OTP, "OTP"),
        ]
        .iter()
        .find(|(m, _)| *m == why)
        .map_or("?", |(_, k)| k)
    }

    #[test]
    fn corpus() {
        assert!(HITS.len() + PASSES.len() >= 60);
        let mut wrong = Vec::new();
        for (text, expected) in HITS {
            let got = note_problem(text).map_or("none", kind);
            if got != *expected {
                wrong.push(format!("{text:?}: expected {expected}, got {got}"));
            }
        }
        for text in PASSES {
            if let Some(why) = note_problem(text) {
                wrong.push(format!("{text:?}: expected to pass, got {}", kind(why)));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
