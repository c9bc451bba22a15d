//! Typed parsers for flag values shared by several commands and by `idpsim.toml`: durations,
//! `-H 'Name: value'` headers and `--var NAME=VALUE`.

use std::time::Duration;

use crate::error::{Error, Result};

pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| t.split_at(i))
        .unwrap_or((t, "s"));
    let value: f64 = num.parse().map_err(|_| {
        Error::Usage(format!(
            "`{text}` is not a duration; use e.g. 60s, 500ms or 2m"
        ))
    })?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" => value * 60.0,
        _ => {
            return Err(Error::Usage(format!(
                "`{text}`: unknown unit `{unit}`; use ms, s or m"
            )))
        }
    };
    if !(secs > 0.0 && secs < 86_400.0) {
        return Err(Error::Usage(format!(
            "`{text}`: a duration must be positive and under a day"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|h| {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| Error::Usage(format!("--header `{h}`: use 'Name: value'")))?;
            let k = k.trim();
            if k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(Error::Usage(format!(
                    "--header `{h}`: `{k}` is not a header name"
                )));
            }
            Ok((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

pub fn parse_vars(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Error::Usage(format!("--var `{v}`: use NAME=VALUE")))
        })
        .collect()
}
