//! Typed parsers for flag values shared by several commands and by `idpsim.toml`: durations,
//! `-H 'Name: value'` headers and `--var NAME=VALUE`.

use std::time::Duration;

use crate::error::{Error, Result};

pub fn parse_duration(text: &str) -> Result<Duration> {
    crate::support::text::parse_duration(text).map_err(Error::Usage)
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
