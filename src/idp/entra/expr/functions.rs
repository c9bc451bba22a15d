//! Bodies of the built-in functions (entra.md §6.4). Each comment cites the documented
//! behaviour or names the choice made where the documentation is silent.

use super::builtins::Function;
use super::dates;
use super::eval::{truthy, Evaluator, Interrupt, R};
use super::parser::{Expr, ExprKind};
use super::roles::AppRole;
use super::value::Value;
use super::EvalError;
use rand::seq::SliceRandom;
use rand::Rng;
use regex::Regex;

fn fail<T>(f: Function, msg: impl std::fmt::Display) -> R<T> {
    Err(Interrupt::Error(EvalError::new(format!(
        "{}: {msg}",
        f.name()
    ))))
}

/// The argument as one string (`None` when null).
fn s(f: Function, v: &Value) -> R<Option<String>> {
    Ok(v.scalar(f.name())?.map(str::to_string))
}

/// The argument as an integer (`None` when null). Accepts `&H` hex text too.
fn int(f: Function, v: &Value, what: &str) -> R<Option<i64>> {
    let Some(t) = v.scalar(f.name())? else {
        return Ok(None);
    };
    let t = t.trim();
    let parsed = if let Some(h) = t.strip_prefix("&H").or_else(|| t.strip_prefix("&h")) {
        i64::from_str_radix(h, 16).ok()
    } else {
        t.parse::<i64>().ok()
    };
    match parsed {
        Some(n) => Ok(Some(n)),
        None => fail(f, format!("{what} must be a whole number, got {t:?}")),
    }
}

fn req_int(f: Function, v: &Value, what: &str) -> R<i64> {
    match int(f, v, what)? {
        Some(n) => Ok(n),
        None => fail(f, format!("{what} is null")),
    }
}

fn date(f: Function, v: &Value, what: &str) -> R<Option<time::OffsetDateTime>> {
    let Some(t) = v.scalar(f.name())? else {
        return Ok(None);
    };
    match dates::parse_date(t) {
        Some(d) => Ok(Some(d)),
        None => fail(f, format!("{what} {t:?} is not a date Entra can parse")),
    }
}

fn map_str(f: Function, v: &Value, op: impl Fn(&str) -> String) -> R<Value> {
    Ok(match v.scalar(f.name())? {
        None => Value::Null,
        Some(t) => Value::Str(op(t)),
    })
}

pub(crate) fn call(ev: &mut Evaluator<'_>, f: Function, args: &[Option<Expr>]) -> R<Value> {
    use Function as F;
    match f {
        // "Takes a source string value and appends the suffix". Null source: undocumented;
        // choice: Null (nothing to append to, so nothing flows).
        F::Append => {
            let src = ev.arg(args, 0)?;
            let suffix = s(f, &ev.arg(args, 1)?)?.unwrap_or_default();
            map_str(f, &src, |t| format!("{t}{suffix}"))
        }
        // Microsoft Learn, "Customize user provisioning attribute-mappings" → "Provisioning a
        // role to a SCIM app": each function yields the user's app role assignments; the
        // create and PATCH bodies built from them differ per function and mode
        // (`entra::roles`). The value is the assignment as that page's default-mode PATCH
        // carries it: `{"id":…,"value":…,"displayName":…}` as JSON text (choice 12).
        F::AppRoleAssignmentsComplex | F::AssertiveAppRoleAssignmentsComplex => {
            let v = ev.arg(args, 0)?;
            let roles: Vec<String> = v
                .items()
                .into_iter()
                .map(|r| AppRole::from_source(r).to_text())
                .collect();
            Ok(if roles.is_empty() {
                Value::Null
            } else {
                Value::Multi(roles)
            })
        }
        // "There's no guarantee which role is provisioned" when several are assigned: the first.
        F::SingleAppRoleAssignment => {
            let v = ev.arg(args, 0)?;
            Ok(v.items().first().map_or(Value::Null, |r| {
                Value::Str(AppRole::from_source(r).to_text())
            }))
        }
        // `BitAnd(&HF, &HF7)` is 7.
        F::BitAnd => {
            let a = int(f, &ev.arg(args, 0)?, "value1")?;
            let b = int(f, &ev.arg(args, 1)?, "value2")?;
            Ok(match (a, b) {
                (Some(a), Some(b)) => Value::Str((a & b).to_string()),
                _ => Value::Null,
            })
        }
        // True when the expression is non-zero or the comparison holds. A comparison with a null
        // operand is False; a null non-comparison argument gives Null.
        F::CBool => {
            let Some(Some(e)) = args.first() else {
                return Ok(Value::Null);
            };
            if matches!(e.kind, ExprKind::Compare { .. }) {
                return Ok(Value::bool(ev.condition(e)?.unwrap_or(false)));
            }
            let v = ev.eval(e)?;
            match v.scalar(f.name())? {
                None => Ok(Value::Null),
                Some(t) if t.trim().eq_ignore_ascii_case("false") => Ok(Value::bool(false)),
                Some(t) if truthy(t) => Ok(Value::bool(true)),
                Some(t) if t.trim().parse::<f64>().is_ok() => Ok(Value::bool(false)),
                Some(t) => fail(f, format!("can't convert {t:?} to a Boolean")),
            }
        }
        F::CDate => {
            let v = ev.arg(args, 0)?;
            Ok(date(f, &v, "value")?.map_or(Value::Null, |d| Value::Str(dates::format_entra(d))))
        }
        // First argument that is not Null; `""` is not Null (§6.4, §10 item 9). The optional
        // trailing defaultValue behaves the same way, so all arguments are scanned in order.
        F::Coalesce => {
            for i in 0..args.len() {
                let v = ev.arg(args, i)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        // "Unicode" base64: UTF-16LE bytes.
        F::ConvertToBase64 => map_str(f, &ev.arg(args, 0)?, |t| {
            let bytes: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
            crate::support::text::base64(&bytes)
        }),
        F::ConvertToUTF8Hex => map_str(f, &ev.arg(args, 0)?, |t| {
            t.bytes().map(|b| format!("{b:02X}")).collect()
        }),
        // Number of values; an absent attribute has 0.
        F::Count => Ok(Value::Str(ev.arg(args, 0)?.items().len().to_string())),
        F::CStr => map_str(f, &ev.arg(args, 0)?, str::to_string),
        F::DateAdd => {
            let interval = s(f, &ev.arg(args, 0)?)?.unwrap_or_default();
            let n = req_int(f, &ev.arg(args, 1)?, "value")?;
            let Some(d) = date(f, &ev.arg(args, 2)?, "dateTime")? else {
                return Ok(Value::Null);
            };
            let dur = |secs: i64| d.checked_add(time::Duration::seconds(secs));
            let out = match interval.as_str() {
                "yyyy" => n.checked_mul(12).and_then(|m| dates::add_months(d, m)),
                "m" => dates::add_months(d, n),
                "d" => n.checked_mul(86_400).and_then(dur),
                "ww" => n.checked_mul(7 * 86_400).and_then(dur),
                "h" => n.checked_mul(3_600).and_then(dur),
                "n" => n.checked_mul(60).and_then(dur),
                "s" => dur(n),
                other => {
                    return fail(
                        f,
                        format!("interval must be one of yyyy m d ww h n s, got {other:?}"),
                    )
                }
            };
            match out {
                Some(d) => Ok(Value::Str(dates::format_entra(d))),
                None => fail(f, "result is out of the supported date range"),
            }
        }
        F::DateDiff => {
            let interval = s(f, &ev.arg(args, 0)?)?.unwrap_or_default();
            let d1 = date(f, &ev.arg(args, 1)?, "date1")?;
            let d2 = date(f, &ev.arg(args, 2)?, "date2")?;
            let (Some(d1), Some(d2)) = (d1, d2) else {
                return Ok(Value::Null);
            };
            let span = d2 - d1;
            // VB.NET DateDiff: time intervals truncate the elapsed span; yyyy/m count calendar
            // boundaries; ww counts Sundays crossed (calendar weeks). Matches every row of the
            // documented DateDiff table.
            let n: i64 = match interval.as_str() {
                "yyyy" => i64::from(d2.year() - d1.year()),
                "m" => {
                    i64::from(d2.year() - d1.year()) * 12 + i64::from(u8::from(d2.month()))
                        - i64::from(u8::from(d1.month()))
                }
                "d" => span.whole_days(),
                "ww" => {
                    let sunday = |d: time::OffsetDateTime| {
                        d.date().to_julian_day() - i32::from(d.weekday().number_days_from_sunday())
                    };
                    i64::from(sunday(d2) - sunday(d1)) / 7
                }
                "h" => span.whole_hours(),
                "n" => span.whole_minutes(),
                "s" => span.whole_seconds(),
                other => {
                    return fail(
                        f,
                        format!("interval must be one of yyyy m d ww h n s, got {other:?}"),
                    )
                }
            };
            Ok(Value::Str(n.to_string()))
        }
        // AD FILETIME → `M/d/yyyy h:mm:ss tt`.
        F::DateFromNum => {
            let v = ev.arg(args, 0)?;
            let Some(t) = v.scalar(f.name())? else {
                return Ok(Value::Null);
            };
            match t.trim().parse::<i128>().ok().and_then(dates::from_filetime) {
                Some(d) => Ok(Value::Str(dates::format_entra(d))),
                None => fail(f, format!("{t:?} is not an AD date number")),
            }
        }
        // dateTimeStyles (argument 2) is accepted and ignored: the default styles (leading and
        // trailing white allowed) are always used.
        F::FormatDateTime => {
            let v = ev.arg(args, 0)?;
            let input = s(f, &ev.arg(args, 2)?)?.unwrap_or_default();
            let output = s(f, &ev.arg(args, 3)?)?.unwrap_or_default();
            let Some(t) = v.scalar(f.name())? else {
                return Ok(Value::Null);
            };
            match dates::parse_with_format(t, &input) {
                Some(d) => Ok(Value::Str(dates::format_with(d, &output))),
                None => fail(f, format!("{t:?} doesn't match the input format {input:?}")),
            }
        }
        F::Guid => {
            let bytes: [u8; 16] = ev.rng.gen();
            Ok(Value::Str(
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string(),
            ))
        }
        F::IgnoreFlowIfNullOrEmpty => {
            let v = ev.arg(args, 0)?;
            if v.is_null_or_empty() {
                Err(Interrupt::IgnoreFlow)
            } else {
                Ok(v)
            }
        }
        // "If the source attribute used within the IIF function is empty or null, the condition
        // check fails" (§6.4). Choice (§10 item 9): a failed check makes IIF return Null, so the
        // target is not flowed; neither branch is taken. This is why the doc calls
        // `IIF(IsPresent([country]),[country],"Other")` unsupported.
        F::IIF => {
            let Some(Some(cond)) = args.first() else {
                return Ok(Value::Null);
            };
            for a in cond.attributes() {
                if super::value::lookup(ev.source, &a).is_null_or_empty() {
                    return Ok(Value::Null);
                }
            }
            match ev.condition(cond)? {
                None => Ok(Value::Null),
                Some(true) => ev.arg(args, 1),
                Some(false) => ev.arg(args, 2),
            }
        }
        // 1-based position; 0 when not found (VBA; §10 item 9 choice). `start` defaults to 1;
        // vbTextCompare ignores case. Null string → Null.
        F::InStr => {
            let hay = s(f, &ev.arg(args, 0)?)?;
            let needle = s(f, &ev.arg(args, 1)?)?;
            let start = int(f, &ev.arg(args, 2)?, "start")?.unwrap_or(1);
            let mode = s(f, &ev.arg(args, 3)?)?;
            let text = match mode.as_deref() {
                None | Some("vbBinaryCompare" | "0") => false,
                Some("vbTextCompare" | "1") => true,
                Some(other) => {
                    return fail(
                        f,
                        format!(
                            "compareType must be vbTextCompare or vbBinaryCompare, got {other:?}"
                        ),
                    )
                }
            };
            if start < 1 {
                return fail(f, format!("start must be 1 or greater, got {start}"));
            }
            let (Some(hay), Some(needle)) = (hay, needle) else {
                return Ok(Value::Null);
            };
            Ok(Value::Str(instr(&hay, &needle, start, text).to_string()))
        }
        F::IsNull => Ok(Value::bool(ev.arg(args, 0)?.is_null())),
        F::IsNullOrEmpty => Ok(Value::bool(ev.arg(args, 0)?.is_null_or_empty())),
        F::IsPresent => Ok(Value::bool(!ev.arg(args, 0)?.is_null_or_empty())),
        F::IsString => Ok(Value::bool(matches!(ev.arg(args, 0)?, Value::Str(_)))),
        // 1-based; index < 1 or past the end gives Null ("Index 0 shouldn't be used").
        F::Item => {
            let v = ev.arg(args, 0)?;
            let i = req_int(f, &ev.arg(args, 1)?, "index")?;
            let items = v.items();
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| items.get(i))
                .map_or(Value::Null, |x| Value::str(*x)))
        }
        // Flattens multi-valued sources and skips Null and "" values, so
        // `Join(", ", "", [surname], [givenName])` is "Doe, John" (§6.4 doc example).
        F::Join => {
            let sep = s(f, &ev.arg(args, 0)?)?.unwrap_or_default();
            let mut parts: Vec<String> = Vec::new();
            for i in 1..args.len() {
                let v = ev.arg(args, i)?;
                parts.extend(
                    v.items()
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                );
            }
            Ok(Value::Str(parts.join(&sep)))
        }
        // Documented: 0 → "", < 0 → the input, null → "", shorter → whole string.
        F::Left => {
            let src = s(f, &ev.arg(args, 0)?)?;
            let n = req_int(f, &ev.arg(args, 1)?, "NumChars")?;
            let Some(src) = src else {
                return Ok(Value::str(""));
            };
            Ok(Value::Str(match usize::try_from(n) {
                Err(_) => src,
                Ok(n) => src.chars().take(n).collect(),
            }))
        }
        // 1-based start; a length past the end gives the rest. Choice: start < 1 or a negative
        // length is an error (as in VBA); start past the end gives ""; null source → Null.
        F::Mid => {
            let src = s(f, &ev.arg(args, 0)?)?;
            let start = req_int(f, &ev.arg(args, 1)?, "start")?;
            let len = req_int(f, &ev.arg(args, 2)?, "length")?;
            if start < 1 {
                return fail(f, format!("start must be 1 or greater, got {start}"));
            }
            let (Ok(start), Ok(len)) = (usize::try_from(start - 1), usize::try_from(len)) else {
                return fail(f, format!("length must be 0 or greater, got {len}"));
            };
            Ok(src.map_or(Value::Null, |t| {
                Value::Str(t.chars().skip(start).take(len).collect())
            }))
        }
        F::NormalizeDiacritics => map_str(f, &ev.arg(args, 0)?, normalize_diacritics),
        // "If source is True, returns False. Otherwise, returns True." Choice (§10 item 9): a
        // Null source stays Null (nothing flows, and a mapping's default value can apply: Graph's
        // sample maps Not([IsSoftDeleted]) with defaultValue "True", §5.1). "" → "True".
        // "True" is matched ignoring case (.NET Boolean parsing).
        F::Not => {
            let v = ev.arg(args, 0)?;
            Ok(match v.scalar(f.name())? {
                None => Value::Null,
                Some(t) => Value::bool(!t.trim().eq_ignore_ascii_case("true")),
            })
        }
        F::Now => Ok(Value::Str(dates::format_entra(
            ev.ctx.now.to_offset(time::UtcOffset::UTC),
        ))),
        F::NumFromDate => {
            let v = ev.arg(args, 0)?;
            Ok(date(f, &v, "value")?.map_or(Value::Null, |d| {
                Value::Str(dates::to_filetime(d).to_string())
            }))
        }
        F::PCase => {
            let v = ev.arg(args, 0)?;
            let seps = s(f, &ev.arg(args, 1)?)?;
            map_str(f, &v, |t| pcase(t, seps.as_deref()))
        }
        F::RandomString => {
            let mut n = [0usize; 5];
            let names = [
                "Length",
                "MinimumNumbers",
                "MinimumSpecialCharacters",
                "MinimumCapital",
                "MinimumLowerCase",
            ];
            for (i, name) in names.iter().enumerate() {
                let v = req_int(f, &ev.arg(args, i)?, name)?;
                n[i] = match usize::try_from(v) {
                    Ok(v) => v,
                    Err(_) => return fail(f, format!("{name} must be 0 or greater, got {v}")),
                };
            }
            let avoid = s(f, &ev.arg(args, 5)?)?.unwrap_or_default();
            random_string(ev, n, &avoid)
        }
        // The value flows unchanged; only the provisioning logs show "[Redact]".
        F::Redact => ev.arg(args, 0),
        F::RemoveDuplicates => {
            let v = ev.arg(args, 0)?;
            Ok(match v {
                Value::Multi(items) => {
                    let mut out: Vec<String> = Vec::new();
                    for i in items {
                        if !out.contains(&i) {
                            out.push(i);
                        }
                    }
                    Value::Multi(out)
                }
                other => other,
            })
        }
        F::Replace => replace(ev, args),
        // Inbound-only (Workday/SuccessFactors/API-driven → AD): it checks uniqueness in the
        // target directory. For SCIM outbound we evaluate it as its first rule.
        F::SelectUniqueValue => ev.arg(args, 0),
        // Choice (§10 item 9): items are trimmed of surrounding whitespace and empty items are
        // dropped, matching the doc output ["PermissionSetOne","PermissionSetTwo"] for
        // "PermissionSetOne, PermissionSetTwo".
        F::Split => {
            let v = ev.arg(args, 0)?;
            let delim = s(f, &ev.arg(args, 1)?)?.unwrap_or_default();
            let Some(t) = v.scalar(f.name())? else {
                return Ok(Value::Null);
            };
            let items: Vec<String> = if delim.is_empty() {
                vec![t.trim().to_string()]
            } else {
                t.split(delim.as_str())
                    .map(|p| p.trim().to_string())
                    .collect()
            };
            let items: Vec<String> = items.into_iter().filter(|p| !p.is_empty()).collect();
            Ok(if items.is_empty() {
                Value::Null
            } else {
                Value::Multi(items)
            })
        }
        F::StripSpaces => map_str(f, &ev.arg(args, 0)?, |t| t.replace(' ', "")),
        // Case-sensitive string equality; an absent source compares as "" so a key "" matches
        // an empty or absent source (§6.4). An empty defaultValue argument is Null (not flowed).
        F::Switch => {
            let src = ev.arg(args, 0)?;
            let src = src.scalar(f.name())?.unwrap_or("").to_string();
            let mut i = 2;
            while i + 1 < args.len() {
                let key = ev.arg(args, i)?;
                if key.scalar(f.name())?.unwrap_or("") == src {
                    return ev.arg(args, i + 1);
                }
                i += 2;
            }
            ev.arg(args, 1)
        }
        F::ToLower | F::ToUpper => {
            let v = ev.arg(args, 0)?;
            let culture = s(f, &ev.arg(args, 1)?)?.unwrap_or_default();
            let turkic = {
                let lang = culture.split(['-', '_']).next().unwrap_or("");
                lang.eq_ignore_ascii_case("tr") || lang.eq_ignore_ascii_case("az")
            };
            let upper = f == F::ToUpper;
            map_str(f, &v, |t| change_case(t, upper, turkic))
        }
        // 1-based; words are runs between any of the delimiter characters (empty runs are not
        // words). number < 1, null string or too few words → "".
        F::Word => {
            let src = s(f, &ev.arg(args, 0)?)?;
            let n = req_int(f, &ev.arg(args, 1)?, "WordNumber")?;
            let delims: Vec<char> = s(f, &ev.arg(args, 2)?)?
                .unwrap_or_default()
                .chars()
                .collect();
            let (Some(src), Ok(n)) = (src, usize::try_from(n)) else {
                return Ok(Value::str(""));
            };
            let word = src
                .split(|c| delims.contains(&c))
                .filter(|w| !w.is_empty())
                .nth(n.wrapping_sub(1));
            Ok(Value::str(word.unwrap_or("")))
        }
    }
}

fn instr(hay: &str, needle: &str, start: i64, text: bool) -> usize {
    let fold = |s: &str| -> Vec<char> {
        s.chars()
            .map(|c| {
                if text {
                    c.to_lowercase().next().unwrap_or(c)
                } else {
                    c
                }
            })
            .collect()
    };
    let h = fold(hay);
    let n = fold(needle);
    let start = usize::try_from(start - 1).unwrap_or(0);
    if start > h.len() {
        return 0;
    }
    if n.is_empty() {
        return start + 1;
    }
    (start..h.len())
        .find(|&i| h[i..].starts_with(&n))
        .map_or(0, |i| i + 1)
}

fn change_case(t: &str, upper: bool, turkic: bool) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match (upper, turkic, c) {
            (true, true, 'i') => out.push('İ'),
            (false, true, 'I') => out.push('ı'),
            (false, true, 'İ') => out.push('i'),
            (true, _, c) => out.extend(c.to_uppercase()),
            (false, _, c) => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// With separators, only those characters start a new word. Without, every character that is
/// not a letter, digit or combining mark separates words (an approximation of .NET ToTitleCase's
/// category list in §6.4); unlike ToTitleCase, all-caps words are not kept (the doc example turns
/// "PABLO GONSALVES (SECOND)" into "Pablo Gonsalves (Second)").
fn pcase(t: &str, seps: Option<&str>) -> String {
    let is_sep = |c: char| match seps {
        Some(s) => s.contains(c),
        None => !(c.is_alphanumeric() || is_combining(c)),
    };
    let mut out = String::with_capacity(t.len());
    let mut start = true;
    for c in t.chars() {
        if is_sep(c) {
            out.push(c);
            start = true;
        } else if start {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// The documented NormalizeDiacritics table (§6.4). Precomposed characters map through the
/// table; a combining mark (U+0300–U+036F) following an ASCII letter is dropped, which covers
/// the table's decomposed entries such as `ā́`, `c̄` and `u̇̄`. `œ` maps to `oe` only with a
/// combining mark (`œ̄`), as in the table. Other characters pass through.
pub(crate) fn normalize_diacritics(t: &str) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len());
    for (i, &c) in chars.iter().enumerate() {
        if is_combining(c) && out.chars().last().is_some_and(|p| p.is_ascii_alphabetic()) {
            continue;
        }
        let next_combining = chars.get(i + 1).is_some_and(|n| is_combining(*n));
        let m: Option<&str> = match c {
            'ä' | 'à' | 'â' | 'ã' | 'å' | 'á' | 'ą' | 'ă' | 'ā' | 'ǟ' | 'ǡ' => Some("a"),
            'Ä' | 'À' | 'Â' | 'Ã' | 'Å' | 'Á' | 'Ą' | 'Ă' | 'Ā' | 'Ǟ' | 'Ǡ' => Some("A"),
            'æ' | 'ǣ' => Some("ae"),
            'Æ' | 'Ǣ' => Some("AE"),
            'ç' | 'č' | 'ć' => Some("c"),
            'Ç' | 'Č' | 'Ć' => Some("C"),
            'ď' | 'ḏ' => Some("d"),
            'Ď' | 'Ḏ' => Some("D"),
            'ë' | 'è' | 'é' | 'ê' | 'ę' | 'ě' | 'ė' | 'ē' | 'ḗ' | 'ḕ' => Some("e"),
            'Ë' | 'È' | 'É' | 'Ê' | 'Ę' | 'Ě' | 'Ė' | 'Ē' | 'Ḗ' | 'Ḕ' => Some("E"),
            'ğ' | 'ḡ' => Some("g"),
            'Ğ' | 'Ḡ' => Some("G"),
            'ï' | 'î' | 'ì' | 'í' | 'ı' | 'ī' => Some("i"),
            'Ï' | 'Î' | 'Ì' | 'Í' | 'İ' | 'Ī' => Some("I"),
            'ľ' | 'ł' | 'ḹ' | 'ḻ' => Some("l"),
            'Ł' | 'Ľ' | 'Ḹ' | 'Ḻ' => Some("L"),
            'ñ' | 'ń' | 'ň' | 'ṉ' => Some("n"),
            'Ñ' | 'Ń' | 'Ň' | 'Ṉ' => Some("N"),
            'ö' | 'ò' | 'ő' | 'õ' | 'ô' | 'ó' | 'ō' | 'ṓ' | 'ṑ' | 'ȫ' | 'ǭ' | 'ȭ' | 'ȱ' => {
                Some("o")
            }
            'Ö' | 'Ò' | 'Ő' | 'Õ' | 'Ô' | 'Ó' | 'Ō' | 'Ṓ' | 'Ṑ' | 'Ȫ' | 'Ǭ' | 'Ȭ' | 'Ȱ' => {
                Some("O")
            }
            'ø' => Some("oe"),
            'Ø' => Some("OE"),
            'œ' if next_combining => Some("oe"),
            'Œ' if next_combining => Some("OE"),
            'ř' | 'ṟ' | 'ṝ' => Some("r"),
            'Ř' | 'Ṟ' | 'Ṝ' => Some("R"),
            'ß' => Some("ss"),
            'š' | 'ś' | 'ș' | 'ş' => Some("s"),
            'Š' | 'Ś' | 'Ș' | 'Ş' => Some("S"),
            'ť' | 'ț' | 'ṯ' => Some("t"),
            'Ť' | 'Ț' | 'Ṯ' => Some("T"),
            'ü' | 'ù' | 'û' | 'ú' | 'ů' | 'ű' | 'ū' | 'ǖ' | 'ṻ' | 'ṳ' => Some("u"),
            'Ü' | 'Ù' | 'Û' | 'Ú' | 'Ů' | 'Ű' | 'Ū' | 'Ǖ' | 'Ṻ' | 'Ṳ' => Some("U"),
            'ÿ' | 'ý' | 'ȳ' => Some("y"),
            'Ÿ' | 'Ý' | 'Ȳ' => Some("Y"),
            'ź' | 'ž' | 'ż' | 'ẕ' => Some("z"),
            'Ź' | 'Ž' | 'Ż' | 'Ẕ' => Some("Z"),
            _ => None,
        };
        match m {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

/// Special characters allowed by the Windows password-complexity rules the doc links to.
const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";

fn random_string(ev: &mut Evaluator<'_>, n: [usize; 5], avoid: &str) -> R<Value> {
    let f = Function::RandomString;
    let [len, digits, special, upper, lower] = n;
    if len > 256 {
        return fail(f, format!("Length is at most 256, got {len}"));
    }
    let mins = digits
        .saturating_add(special)
        .saturating_add(upper)
        .saturating_add(lower);
    if mins > len {
        return fail(
            f,
            format!("Length {len} is less than the sum of the minimum counts ({mins})"),
        );
    }
    let class = |set: &str| -> Vec<char> { set.chars().filter(|c| !avoid.contains(*c)).collect() };
    let classes = [
        (class("0123456789"), digits, "MinimumNumbers"),
        (class(SPECIAL), special, "MinimumSpecialCharacters"),
        (class("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), upper, "MinimumCapital"),
        (
            class("abcdefghijklmnopqrstuvwxyz"),
            lower,
            "MinimumLowerCase",
        ),
    ];
    let mut out: Vec<char> = Vec::with_capacity(len);
    let mut all: Vec<char> = Vec::new();
    for (set, min, name) in &classes {
        if *min > 0 && set.is_empty() {
            return fail(
                f,
                format!("{name} can't be met: CharactersToAvoid excludes them all"),
            );
        }
        for _ in 0..*min {
            if let Some(c) = set.choose(&mut ev.rng) {
                out.push(*c);
            }
        }
        all.extend(set);
    }
    if all.is_empty() && len > 0 {
        return fail(f, "CharactersToAvoid excludes every character");
    }
    while out.len() < len {
        if let Some(c) = all.choose(&mut ev.rng) {
            out.push(*c);
        }
    }
    out.shuffle(&mut ev.rng);
    Ok(Value::Str(out.into_iter().collect()))
}

/// .NET regex → Rust regex: `(?<name>…)` and `(?'name'…)` become `(?P<name>…)`.
fn convert_regex(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' {
            out.push(chars[i]);
            if let Some(c) = chars.get(i + 1) {
                out.push(*c);
            }
            i += 2;
            continue;
        }
        if chars[i] == '(' && chars.get(i + 1) == Some(&'?') {
            match chars.get(i + 2) {
                Some('<')
                    if chars
                        .get(i + 3)
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_') =>
                {
                    out.push_str("(?P<");
                    i += 3;
                    continue;
                }
                Some('\'') => {
                    out.push_str("(?P<");
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        out.push(chars[i]);
                        i += 1;
                    }
                    out.push('>');
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// .NET replacement syntax → Rust: `$1` → `${1}` (Rust would read `$1a` as group "1a").
fn convert_replacement(r: &str) -> String {
    let chars: Vec<char> = r.chars().collect();
    let mut out = String::with_capacity(r.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            out.push_str("${");
            out.extend(&chars[i + 1..j]);
            out.push('}');
            i = j;
        } else if chars[i] == '$' && chars.get(i + 1) == Some(&'$') {
            out.push_str("$$");
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn compile(p: &str) -> R<Regex> {
    regex::RegexBuilder::new(&convert_regex(p))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            Interrupt::Error(EvalError::new(format!(
                "Replace: invalid regexPattern {p:?}: {e}"
            )))
        })
}

/// Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template): the mode is chosen by which arguments are present
/// (non-empty positions), in the order the doc lists them (§6.4).
fn replace(ev: &mut Evaluator<'_>, args: &[Option<Expr>]) -> R<Value> {
    let f = Function::Replace;
    let given = |i: usize| matches!(args.get(i), Some(Some(_)));
    let src = ev.arg(args, 0)?;
    let src = src.scalar(f.name())?.map(str::to_string);
    let old = s(f, &ev.arg(args, 1)?)?;
    let pattern = s(f, &ev.arg(args, 2)?)?;
    let group = s(f, &ev.arg(args, 3)?)?;
    let repl = s(f, &ev.arg(args, 4)?)?;
    let template = s(f, &ev.arg(args, 6)?)?;
    let check_group = |re: &Regex, g: &str| -> R<()> {
        if re.capture_names().flatten().any(|n| n == g) {
            Ok(())
        } else {
            fail(
                f,
                format!("regexGroupName {g:?} is not a group of the regexPattern"),
            )
        }
    };

    // oldValue + template: the source replaces oldValue inside the template.
    if given(1) && given(6) {
        let (Some(src), Some(old), Some(t)) = (src, old, template) else {
            return Ok(Value::Null);
        };
        if old.is_empty() {
            return Ok(Value::Str(t));
        }
        return Ok(Value::Str(t.replace(&old, &src)));
    }
    // regex + group + replacementAttributeName: the source if it has a value, else the group
    // extracted from the other attribute.
    if given(2) && given(3) && given(5) {
        if let Some(s) = src.filter(|s| !s.is_empty()) {
            return Ok(Value::Str(s));
        }
        let (Some(p), Some(g)) = (pattern, group) else {
            return Ok(Value::Null);
        };
        let re = compile(&p)?;
        check_group(&re, &g)?;
        let other = ev.arg(args, 5)?;
        let Some(other) = other.scalar(f.name())? else {
            return Ok(Value::Null);
        };
        return Ok(re
            .captures(other)
            .and_then(|c| c.name(&g))
            .map_or(Value::Null, |m| Value::str(m.as_str())));
    }
    // regex + group + replacementValue: every match of the group is replaced.
    if given(2) && given(3) && given(4) {
        let (Some(src), Some(p), Some(g)) = (src, pattern, group) else {
            return Ok(Value::Null);
        };
        let re = compile(&p)?;
        check_group(&re, &g)?;
        let repl = repl.unwrap_or_default();
        let mut out = String::new();
        let mut last = 0;
        for caps in re.captures_iter(&src) {
            if let Some(m) = caps.name(&g) {
                if m.start() < last {
                    continue;
                }
                out.push_str(&src[last..m.start()]);
                out.push_str(&repl);
                last = m.end();
            }
        }
        out.push_str(&src[last..]);
        return Ok(Value::Str(out));
    }
    // regex + replacementValue: .NET Regex.Replace with `${name}` substitutions.
    if given(2) && given(4) {
        let (Some(src), Some(p)) = (src, pattern) else {
            return Ok(Value::Null);
        };
        let re = compile(&p)?;
        let repl = convert_replacement(&repl.unwrap_or_default());
        return Ok(Value::Str(re.replace_all(&src, repl.as_str()).into_owned()));
    }
    // oldValue + replacementValue: plain, case-sensitive replace of every occurrence.
    if given(1) && given(4) {
        let (Some(src), Some(old)) = (src, old) else {
            return Ok(Value::Null);
        };
        if old.is_empty() {
            return Ok(Value::Str(src));
        }
        return Ok(Value::Str(src.replace(&old, &repl.unwrap_or_default())));
    }
    fail(
        f,
        "unsupported combination of arguments: give oldValue with replacementValue or template, \
         or regexPattern with replacementValue, regexGroupName or replacementAttributeName",
    )
}
