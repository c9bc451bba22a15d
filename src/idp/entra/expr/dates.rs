//! Date handling for CDate, DateAdd, DateDiff, DateFromNum, NumFromDate, Now and FormatDateTime.
//!
//! Every date is kept in UTC. Entra prints dates as `M/d/yyyy h:mm:ss tt` (entra.md §6.3).
//!
//! FormatDateTime supports this subset of .NET format strings (documented choice):
//! * custom specifiers `d dd ddd dddd`, `f`…`fffffff`, `F`…`FFFFFFF`, `h hh H HH`, `m mm`,
//!   `M MM MMM MMMM`, `s ss`, `t tt`, `y yy yyy yyyy yyyyy`, `z zz zzz`, `K`, `:` and `/`
//!   (invariant culture), quoted literals `'…'` / `"…"`, `\c` escapes and `%c`; any other
//!   character is a literal (so the `Z` in `yyyyMMddHHmmss.fZ` is a literal, as in .NET);
//! * the standard one-letter formats `d D g G o O s u t T M m y Y r R` (invariant culture).
//!
//! When a parsed input carries an offset (`zzz`, `K`, ISO `-07:00`) it is converted to UTC,
//! as .NET's parser does on Entra's UTC servers. Without an offset the time is taken as UTC.

use regex::Regex;
use std::sync::OnceLock;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Entra's output format (entra.md §6.3).
pub const ENTRA_FORMAT: &str = "M/d/yyyy h:mm:ss tt";

/// Windows FILETIME epoch (1601-01-01) to Unix epoch, in seconds.
const FILETIME_UNIX_OFFSET_SECS: i128 = 11_644_473_600;

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn build(
    (y, mo, d): (i32, u8, u8),
    (h, mi, s, nanos): (u8, u8, u8, u32),
    offset: Option<UtcOffset>,
) -> Option<OffsetDateTime> {
    let month = Month::try_from(mo).ok()?;
    let date = Date::from_calendar_date(y, month, d).ok()?;
    let t = Time::from_hms_nano(h, mi, s, nanos).ok()?;
    let off = offset.unwrap_or(UtcOffset::UTC);
    Some(
        PrimitiveDateTime::new(date, t)
            .assume_offset(off)
            .to_offset(UtcOffset::UTC),
    )
}

fn parse_offset(s: &str) -> Option<UtcOffset> {
    if s.eq_ignore_ascii_case("z") {
        return Some(UtcOffset::UTC);
    }
    let sign: i8 = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i8>().ok()?, 0),
        4 => (
            digits[..2].parse::<i8>().ok()?,
            digits[2..].parse::<i8>().ok()?,
        ),
        _ => return None,
    };
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

fn nanos_from_fraction(frac: &str) -> u32 {
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    digits.parse().unwrap_or(0)
}

fn iso_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?\s*([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?$",
        )
        .expect("static regex")
    })
}

fn generalized_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{4})?$")
            .expect("static regex")
    })
}

/// Parses the date strings Entra's date functions accept: ISO 8601 forms (`2012-03-16-07:00`,
/// `2009-06-15T01:45:30-07:00`, `2021-08-24`, `2021-08-24 23:59:59-08:00`), Entra's own
/// `M/d/yyyy h:mm:ss tt`, `M/d/yyyy H:mm:ss`, `M/d/yyyy`, and LDAP generalized time
/// (`20150123105347.1Z`). Leading and trailing whitespace is ignored.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let num = |m: Option<regex::Match<'_>>| -> Option<u32> {
        m.map_or(Some(0), |m| m.as_str().parse().ok())
    };
    for re in [iso_re(), generalized_re()] {
        if let Some(c) = re.captures(s) {
            let offset = match c.get(8) {
                Some(m) => Some(parse_offset(m.as_str())?),
                None => None,
            };
            return build(
                (
                    c.get(1)?.as_str().parse().ok()?,
                    u8::try_from(num(c.get(2))?).ok()?,
                    u8::try_from(num(c.get(3))?).ok()?,
                ),
                (
                    u8::try_from(num(c.get(4))?).ok()?,
                    u8::try_from(num(c.get(5))?).ok()?,
                    u8::try_from(num(c.get(6))?).ok()?,
                    c.get(7).map_or(0, |m| nanos_from_fraction(m.as_str())),
                ),
                offset,
            );
        }
    }
    for f in [
        ENTRA_FORMAT,
        "M/d/yyyy H:mm:ss",
        "M/d/yyyy h:mm tt",
        "M/d/yyyy",
    ] {
        if let Some(dt) = parse_with_format(s, f) {
            return Some(dt);
        }
    }
    None
}

/// `M/d/yyyy h:mm:ss tt`, in UTC.
pub fn format_entra(dt: OffsetDateTime) -> String {
    format_with(dt, ENTRA_FORMAT)
}

/// AD FILETIME (100 ns ticks since 1601-01-01 UTC) → date.
pub fn from_filetime(ticks: i128) -> Option<OffsetDateTime> {
    let nanos = ticks
        .checked_sub(FILETIME_UNIX_OFFSET_SECS * 10_000_000)?
        .checked_mul(100)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// Date → AD FILETIME ticks.
pub fn to_filetime(dt: OffsetDateTime) -> i128 {
    dt.unix_timestamp_nanos() / 100 + FILETIME_UNIX_OFFSET_SECS * 10_000_000
}

/// Adds `n` months, clamping the day to the target month's length (as .NET's AddMonths does).
pub fn add_months(dt: OffsetDateTime, n: i64) -> Option<OffsetDateTime> {
    let total = (i64::from(dt.year()) * 12 + i64::from(u8::from(dt.month())) - 1).checked_add(n)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u8::try_from(total.rem_euclid(12) + 1).ok()?;
    let day = dt.day().min(days_in_month(year, month));
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    Some(PrimitiveDateTime::new(date, dt.time()).assume_utc())
}

// ---------------------------------------------------------------------------------------------
// .NET custom format strings
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Field(char, usize),
    Lit(String),
}

fn expand_standard(fmt: &str) -> &str {
    match fmt {
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "g" => "MM/dd/yyyy HH:mm",
        "G" => "MM/dd/yyyy HH:mm:ss",
        "o" | "O" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "M" | "m" => "MMMM dd",
        "y" | "Y" => "yyyy MMMM",
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        other => other,
    }
}

fn tokenize_format(fmt: &str) -> Vec<Part> {
    let fmt = expand_standard(fmt);
    let chars: Vec<char> = fmt.chars().collect();
    let mut parts = Vec::new();
    let lit = |parts: &mut Vec<Part>, s: String| {
        if let Some(Part::Lit(prev)) = parts.last_mut() {
            prev.push_str(&s);
        } else {
            parts.push(Part::Lit(s));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            'd' | 'f' | 'F' | 'h' | 'H' | 'm' | 'M' | 's' | 't' | 'y' | 'z' | 'K' | 'g' => {
                let mut n = 1;
                while i + n < chars.len() && chars[i + n] == c {
                    n += 1;
                }
                parts.push(Part::Field(c, n));
                i += n;
            }
            '\'' | '"' => {
                let mut j = i + 1;
                let mut s = String::new();
                while j < chars.len() && chars[j] != c {
                    if chars[j] == '\\' && j + 1 < chars.len() {
                        j += 1;
                    }
                    s.push(chars[j]);
                    j += 1;
                }
                lit(&mut parts, s);
                i = j + 1;
            }
            '\\' => {
                if let Some(n) = chars.get(i + 1) {
                    lit(&mut parts, n.to_string());
                }
                i += 2;
            }
            '%' => i += 1,
            other => {
                lit(&mut parts, other.to_string());
                i += 1;
            }
        }
    }
    parts
}

fn pad(v: impl std::fmt::Display, width: usize) -> String {
    format!("{v:0>width$}", v = v.to_string())
}

/// Formats a UTC date with a .NET format string (subset, see the module docs).
pub fn format_with(dt: OffsetDateTime, fmt: &str) -> String {
    let mut out = String::new();
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    for part in tokenize_format(fmt) {
        match part {
            Part::Lit(s) => out.push_str(&s),
            Part::Field(c, n) => {
                let s = match (c, n) {
                    ('d', 1) => dt.day().to_string(),
                    ('d', 2) => pad(dt.day(), 2),
                    ('d', 3) => {
                        DAYS[usize::from(dt.weekday().number_days_from_monday())][..3].to_string()
                    }
                    ('d', _) => {
                        DAYS[usize::from(dt.weekday().number_days_from_monday())].to_string()
                    }
                    ('f' | 'F', n) => {
                        let digits = pad(dt.nanosecond(), 9);
                        let mut s: String = digits.chars().take(n.min(9)).collect();
                        if c == 'F' {
                            s = s.trim_end_matches('0').to_string();
                        }
                        s
                    }
                    ('h', 1) => hour12.to_string(),
                    ('h', _) => pad(hour12, 2),
                    ('H', 1) => dt.hour().to_string(),
                    ('H', _) => pad(dt.hour(), 2),
                    ('m', 1) => dt.minute().to_string(),
                    ('m', _) => pad(dt.minute(), 2),
                    ('M', 1) => u8::from(dt.month()).to_string(),
                    ('M', 2) => pad(u8::from(dt.month()), 2),
                    ('M', 3) => MONTHS[usize::from(u8::from(dt.month())) - 1][..3].to_string(),
                    ('M', _) => MONTHS[usize::from(u8::from(dt.month())) - 1].to_string(),
                    ('s', 1) => dt.second().to_string(),
                    ('s', _) => pad(dt.second(), 2),
                    ('t', 1) => if dt.hour() < 12 { "A" } else { "P" }.to_string(),
                    ('t', _) => if dt.hour() < 12 { "AM" } else { "PM" }.to_string(),
                    ('y', 1) => (dt.year() % 100).to_string(),
                    ('y', 2) => pad(dt.year() % 100, 2),
                    ('y', n) => pad(dt.year(), n),
                    ('z', 1) => "+0".to_string(),
                    ('z', 2) => "+00".to_string(),
                    ('z', _) => "+00:00".to_string(),
                    ('K', _) => "Z".to_string(),
                    ('g', _) => "A.D.".to_string(),
                    _ => String::new(),
                };
                out.push_str(&s);
            }
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a [char],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.s.len() && self.i - start < max && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        self.s[start..self.i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    fn word(&mut self, words: &[&str], len: Option<usize>) -> Option<usize> {
        for (idx, w) in words.iter().enumerate() {
            let w: Vec<char> = match len {
                Some(n) => w.chars().take(n).collect(),
                None => w.chars().collect(),
            };
            let end = self.i + w.len();
            if end <= self.s.len()
                && self.s[self.i..end]
                    .iter()
                    .zip(&w)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                self.i = end;
                return Some(idx);
            }
        }
        None
    }

    fn offset(&mut self) -> Option<UtcOffset> {
        let sign = match self.s.get(self.i)? {
            '+' => 1,
            '-' => -1,
            'Z' | 'z' => {
                self.i += 1;
                return Some(UtcOffset::UTC);
            }
            _ => return None,
        };
        self.i += 1;
        let h = i8::try_from(self.digits(1, 2)?).ok()?;
        let mut m = 0;
        if self.s.get(self.i) == Some(&':') {
            self.i += 1;
            m = i8::try_from(self.digits(2, 2)?).ok()?;
        } else if self.s.get(self.i).is_some_and(char::is_ascii_digit) {
            m = i8::try_from(self.digits(2, 2)?).ok()?;
        }
        UtcOffset::from_hms(sign * h, sign * m, 0).ok()
    }
}

/// Parses `input` with a .NET format string (subset, see the module docs). Leading and trailing
/// whitespace is allowed (the default DateTimeStyles, entra.md §6.4).
pub fn parse_with_format(input: &str, fmt: &str) -> Option<OffsetDateTime> {
    let chars: Vec<char> = input.trim().chars().collect();
    let mut c = Cursor { s: &chars, i: 0 };
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut nanos) =
        (1i32, 1u8, 1u8, 0u8, 0u8, 0u8, 0);
    let mut pm: Option<bool> = None;
    let mut offset = None;
    for part in tokenize_format(fmt) {
        match part {
            Part::Lit(l) => {
                for lc in l.chars() {
                    if lc == ' ' {
                        while c.s.get(c.i).is_some_and(|x| x.is_whitespace()) {
                            c.i += 1;
                        }
                    } else if c.s.get(c.i) == Some(&lc) {
                        c.i += 1;
                    } else {
                        return None;
                    }
                }
            }
            Part::Field(f, n) => match (f, n) {
                ('d', 1 | 2) => d = u8::try_from(c.digits(n, 2)?).ok()?,
                ('d', 3) => {
                    c.word(&DAYS, Some(3))?;
                }
                ('d', _) => {
                    c.word(&DAYS, None)?;
                }
                ('f', n) => {
                    let start = c.i;
                    c.digits(n, n)?;
                    nanos = nanos_from_fraction(&chars[start..c.i].iter().collect::<String>());
                }
                ('F', n) => {
                    let start = c.i;
                    let _ = c.digits(0, n);
                    nanos = nanos_from_fraction(&chars[start..c.i].iter().collect::<String>());
                }
                ('h' | 'H', _) => h = u8::try_from(c.digits(n.min(2), 2)?).ok()?,
                ('m', _) => mi = u8::try_from(c.digits(n.min(2), 2)?).ok()?,
                ('s', _) => s = u8::try_from(c.digits(n.min(2), 2)?).ok()?,
                ('M', 1 | 2) => mo = u8::try_from(c.digits(n, 2)?).ok()?,
                ('M', 3) => mo = u8::try_from(c.word(&MONTHS, Some(3))? + 1).ok()?,
                ('M', _) => mo = u8::try_from(c.word(&MONTHS, None)? + 1).ok()?,
                ('t', 1) => pm = Some(c.word(&["A", "P"], None)? == 1),
                ('t', _) => pm = Some(c.word(&["AM", "PM"], None)? == 1),
                ('y', 1 | 2) => {
                    let v = i32::try_from(c.digits(n, 2)?).ok()?;
                    // .NET's two-digit-year cutoff: 00–29 → 20xx, 30–99 → 19xx.
                    y = if v <= 29 { 2000 + v } else { 1900 + v };
                }
                ('y', n) => y = i32::try_from(c.digits(n.min(4), n.max(4))?).ok()?,
                ('z', _) => offset = Some(c.offset()?),
                ('K', _) => {
                    if let Some(o) = c.offset() {
                        offset = Some(o);
                    }
                }
                _ => return None,
            },
        }
    }
    if c.i != chars.len() {
        return None;
    }
    if let Some(pm) = pm {
        if h == 0 || h > 12 {
            return None;
        }
        h = match (pm, h) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    build((y, mo, d), (h, mi, s, nanos), offset)
}
