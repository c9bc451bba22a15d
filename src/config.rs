//! `idpsim.toml`: the settings of a CI job, so the job itself is one line (`idpsim run`).
//!
//! Found in the working directory or given with `--config FILE`; `--no-config` ignores it.
//! Command-line flags win: a value given on the command line replaces the file's, a list given
//! on the command line replaces the file's list, and a switch (`--insecure`) can only be turned
//! on. Relative paths in the file are relative to the file's folder, so a job may run from
//! anywhere. The token is never in the file: `token_env` names the environment variable that
//! holds it (a CI secret). Unknown keys and bad values are errors with file:line:col (exit 2),
//! because a misspelt key silently ignored would gate merges on the wrong settings.
//!
//! ```toml
//! [target]
//! url = "https://staging.example.com/scim/v2"
//! token_env = "SCIM_TOKEN"
//! # or OAuth 2.0 (docs/AUTH.md): auth = "oauth-client-credentials" and
//! # [target.oauth] token_url = "…", client_id = "…", client_secret_env = "SCIM_CLIENT_SECRET"
//! [select]
//! idp = ["okta"]
//! [run]
//! fail_on = "error"
//! [baseline]
//! file = "idpsim-baseline.toml"
//! [reports]
//! junit = "idpsim-report/junit.xml"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Deserialize;
use toml::Spanned;

use crate::cli::{OutputFormat, RunArgs};
use crate::error::{Error, Result};
use crate::gate::baseline::{offset_pos, toml_error, usage_diag};
use crate::outcome::Severity;
use crate::scenario::Idp;
use crate::support::diagnostic::Diagnostic;

/// The file looked for in the working directory.
pub const DEFAULT_FILE: &str = "idpsim.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub target: TargetConfig,
    #[serde(default)]
    pub select: SelectConfig,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub baseline: BaselineConfig,
    #[serde(default)]
    pub reports: ReportsConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub url: Option<String>,
    /// The environment variable holding the bearer token.
    pub token_env: Option<Spanned<String>>,
    /// The environment variable holding `USER:PASSWORD` for HTTP Basic.
    pub basic_env: Option<Spanned<String>>,
    /// Present only to be refused with a clear message: secrets do not belong in the file.
    token: Option<Spanned<toml::Value>>,
    /// `--auth`: the auth mode.
    pub auth: Option<Spanned<String>>,
    /// The environment variable holding the Authorization value of the header mode.
    pub auth_header_env: Option<Spanned<String>>,
    /// `--auth-expire-after`: requests (`3`) or a duration (`"30s"`).
    pub expire_after: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub oauth: OAuthConfig,
    #[serde(default)]
    pub headers: Vec<String>,
    pub timeout: Option<String>,
    pub cacert: Option<PathBuf>,
    #[serde(default)]
    pub insecure: bool,
}

/// `[target.oauth]`: an OAuth 2.0 client. The secret and a refresh token come from variables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<Spanned<String>>,
    pub scope: Option<String>,
    pub resource: Option<String>,
    pub client_auth: Option<Spanned<String>>,
    pub authorize_url: Option<String>,
    pub redirect_port: Option<u16>,
    pub refresh_token_env: Option<Spanned<String>>,
    pub refresh_token_file: Option<PathBuf>,
    /// Present only to be refused: secrets do not belong in the file.
    client_secret: Option<Spanned<toml::Value>>,
    refresh_token: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Scenario files or folders (default: the shipped scenarios).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub skip_tags: Vec<String>,
    #[serde(default)]
    pub idp: Vec<Spanned<String>>,
    #[serde(default)]
    pub profiles: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub fail_on: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub jobs: Option<usize>,
    pub time_scale: Option<f64>,
    /// `--grace-period`: how long cleanup may take after SIGINT/SIGTERM.
    pub grace_period: Option<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    pub file: Option<PathBuf>,
    #[serde(default)]
    pub strict: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// A parsed file with what is needed to point into it.
pub struct Loaded {
    pub config: Config,
    pub display: String,
    pub text: String,
    pub dir: PathBuf,
}

/// The config file this run reads, if any: `--config`, else `./idpsim.toml` when present.
pub fn locate(args: &RunArgs) -> Option<PathBuf> {
    if args.no_config {
        return None;
    }
    if let Some(p) = &args.config {
        return Some(p.clone());
    }
    let p = PathBuf::from(DEFAULT_FILE);
    p.is_file().then_some(p)
}

pub fn load(path: &Path) -> Result<Loaded> {
    let text = crate::support::input::read_text(path).map_err(|e| Error::io(path.display(), e))?;
    let display = path.display().to_string();
    let config = parse(&display, &text)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(Loaded {
        config,
        display,
        text,
        dir,
    })
}

/// Parses and validates the file's text (values too, so errors point at the line).
pub fn parse(display: &str, text: &str) -> Result<Config> {
    let config: Config = toml::from_str(text).map_err(|e| toml_error(display, text, &e))?;
    let at = |span: std::ops::Range<usize>, msg: String, help: Option<String>| {
        let mut d = Diagnostic::new(display, offset_pos(text, span.start), msg)
            .width(span.len().clamp(1, 60));
        if let Some(h) = help {
            d = d.help(h);
        }
        usage_diag(d, text)
    };
    if let Some(t) = &config.target.token {
        return Err(at(
            t.span(),
            "the token does not belong in idpsim.toml".into(),
            Some("name the environment variable that holds it: token_env = \"SCIM_TOKEN\"".into()),
        ));
    }
    for (secret, env_key) in [
        (
            &config.target.oauth.client_secret,
            "client_secret_env = \"SCIM_CLIENT_SECRET\"",
        ),
        (
            &config.target.oauth.refresh_token,
            "refresh_token_env = \"SCIM_REFRESH_TOKEN\", or refresh_token_file = \"…\"",
        ),
    ] {
        if let Some(t) = secret {
            return Err(at(
                t.span(),
                "secrets do not belong in idpsim.toml".into(),
                Some(format!(
                    "name the environment variable that holds it: {env_key}"
                )),
            ));
        }
    }
    if let Some(a) = &config.target.auth {
        if crate::transport::AuthMode::from_name(a.get_ref()).is_none() {
            let names: Vec<&str> = crate::transport::AuthMode::ALL
                .iter()
                .map(|m| m.name())
                .collect();
            return Err(at(
                a.span(),
                format!("auth `{}` is not an auth mode", a.get_ref()),
                Some(format!("expected one of: {}", names.join(", "))),
            ));
        }
    }
    if let Some(c) = &config.target.oauth.client_auth {
        if crate::transport::auth::ClientAuth::from_str(c.get_ref(), true).is_err() {
            return Err(at(
                c.span(),
                format!(
                    "client_auth `{}` is not a client authentication method",
                    c.get_ref()
                ),
                Some("expected one of: client-secret-basic, client-secret-post".into()),
            ));
        }
    }
    if let Some(e) = &config.target.expire_after {
        let text = match e.get_ref() {
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::String(s) => s.clone(),
            _ => String::new(),
        };
        if let Err(why) = crate::transport::Lapse::parse(&text) {
            return Err(at(e.span(), why, None));
        }
    }
    for env in [
        &config.target.token_env,
        &config.target.basic_env,
        &config.target.auth_header_env,
        &config.target.oauth.client_secret_env,
        &config.target.oauth.refresh_token_env,
    ]
    .into_iter()
    .flatten()
    {
        let name = env.get_ref();
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(at(
                env.span(),
                format!("`{name}` is not an environment variable name"),
                None,
            ));
        }
    }
    if let Some(f) = &config.run.fail_on {
        if Severity::from_str(f.get_ref(), true).is_err() {
            return Err(at(
                f.span(),
                format!("fail_on `{}` is not a severity", f.get_ref()),
                Some("expected one of: error, warning, info".into()),
            ));
        }
    }
    if let Some(f) = &config.run.format {
        if OutputFormat::from_str(f.get_ref(), true).is_err() {
            return Err(at(
                f.span(),
                format!("format `{}` is not an output format", f.get_ref()),
                Some("expected one of: human, jsonl, github".into()),
            ));
        }
    }
    for i in &config.select.idp {
        if Idp::from_str(i.get_ref(), true).is_err() {
            return Err(at(
                i.span(),
                format!("idp `{}` is not an IdP", i.get_ref()),
                Some("expected one of: generic, okta, entra".into()),
            ));
        }
    }
    if let Some(t) = &config.target.timeout {
        crate::cli::values::parse_duration(t)
            .map_err(|e| Error::Usage(format!("{display}: target.timeout: {e}")))?;
    }
    if let Some(t) = &config.run.grace_period {
        crate::cli::values::parse_duration(t)
            .map_err(|e| Error::Usage(format!("{display}: run.grace_period: {e}")))?;
    }
    Ok(config)
}

impl Loaded {
    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// Fills what the command line left unset; the command line wins.
    pub fn apply(&self, args: &mut RunArgs) -> Result<()> {
        let c = &self.config;
        let target = &mut args.target;
        if target.url.is_none() {
            target.url = c.target.url.clone();
        }
        // The token: --token / IDPSIM_TOKEN first, then the variable the file names.
        if target.token.is_none() && target.basic.is_none() {
            if let Some(env) = &c.target.token_env {
                target.token = Some(self.env(env)?);
            } else if let Some(env) = &c.target.basic_env {
                target.basic = Some(self.env(env)?);
            }
        }
        if target.auth.is_none() {
            target.auth = c
                .target
                .auth
                .as_ref()
                .and_then(|a| crate::transport::AuthMode::from_name(a.get_ref()));
        }
        if target.auth_header.is_none() {
            if let Some(env) = &c.target.auth_header_env {
                target.auth_header = Some(self.env(env)?);
            }
        }
        if target.auth_expire_after.is_none() {
            target.auth_expire_after = c.target.expire_after.as_ref().map(|e| match e.get_ref() {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        let o = &c.target.oauth;
        for (arg, file) in [
            (&mut target.oauth_token_url, &o.token_url),
            (&mut target.oauth_client_id, &o.client_id),
            (&mut target.oauth_scope, &o.scope),
            (&mut target.oauth_resource, &o.resource),
            (&mut target.oauth_authorize_url, &o.authorize_url),
        ] {
            if arg.is_none() {
                arg.clone_from(file);
            }
        }
        if target.oauth_client_auth.is_none() {
            target.oauth_client_auth = o
                .client_auth
                .as_ref()
                .and_then(|c| crate::transport::auth::ClientAuth::from_str(c.get_ref(), true).ok());
        }
        if target.oauth_redirect_port.is_none() {
            target.oauth_redirect_port = o.redirect_port;
        }
        if target.oauth_refresh_token_file.is_none() {
            target.oauth_refresh_token_file = o.refresh_token_file.as_deref().map(|p| self.path(p));
        }
        if target.oauth_client_secret.is_none() {
            if let Some(env) = &o.client_secret_env {
                target.oauth_client_secret = Some(self.env(env)?);
            }
        }
        if target.oauth_refresh_token.is_none() {
            if let Some(env) = &o.refresh_token_env {
                // A refresh token file may stand in for it; an unset variable is fine then.
                match std::env::var(env.get_ref()) {
                    Ok(v) if !v.is_empty() => target.oauth_refresh_token = Some(v),
                    _ if target.oauth_refresh_token_file.is_some() => {}
                    _ => target.oauth_refresh_token = Some(self.env(env)?),
                }
            }
        }
        if target.headers.is_empty() {
            target.headers = c.target.headers.clone();
        }
        if target.timeout.is_none() {
            target.timeout = c.target.timeout.clone();
        }
        if target.cacert.is_none() {
            target.cacert = c.target.cacert.as_deref().map(|p| self.path(p));
        }
        target.insecure |= c.target.insecure;
        if args.grace_period.is_none() {
            args.grace_period = c.run.grace_period.clone();
        }

        if args.paths.is_empty() {
            args.paths = c.select.paths.iter().map(|p| self.path(p)).collect();
        }
        let s = &mut args.select;
        if s.tags.is_empty() {
            s.tags = c.select.tags.clone();
        }
        if s.skip_tags.is_empty() {
            s.skip_tags = c.select.skip_tags.clone();
        }
        if s.idp.is_empty() {
            s.idp = c
                .select
                .idp
                .iter()
                .filter_map(|i| Idp::from_str(i.get_ref(), true).ok())
                .collect();
        }
        if s.profiles.is_empty() {
            s.profiles = c.select.profiles.clone();
        }
        if s.names.is_empty() {
            s.names = c.select.names.clone();
        }

        if args.fail_on.is_none() {
            args.fail_on = c
                .run
                .fail_on
                .as_ref()
                .and_then(|f| Severity::from_str(f.get_ref(), true).ok());
        }
        if args.format.is_none() {
            args.format = c
                .run
                .format
                .as_ref()
                .and_then(|f| OutputFormat::from_str(f.get_ref(), true).ok());
        }
        if args.jobs.is_none() {
            args.jobs = c.run.jobs;
        }
        if args.time_scale.is_none() {
            args.time_scale = c.run.time_scale;
        }
        // --var NAME=... on the command line replaces the file's value of NAME only.
        for (k, v) in &c.run.vars {
            if !args
                .vars
                .iter()
                .any(|cli| cli.split_once('=').is_some_and(|(n, _)| n.trim() == k))
            {
                args.vars.push(format!("{k}={v}"));
            }
        }

        if args.baseline.is_none() {
            args.baseline = c.baseline.file.as_deref().map(|p| self.path(p));
        }
        args.baseline_strict |= c.baseline.strict;

        let r = &c.reports;
        for (arg, file) in [
            (&mut args.report_json, &r.json),
            (&mut args.report_junit, &r.junit),
            (&mut args.report_md, &r.markdown),
            (&mut args.report_html, &r.html),
        ] {
            if arg.is_none() {
                *arg = file.as_deref().map(|p| self.path(p));
            }
        }
        Ok(())
    }

    fn env(&self, name: &Spanned<String>) -> Result<String> {
        if !crate::support::redact::is_variable_name(name.get_ref()) {
            // A value that is no variable's name is most likely the secret pasted in: say so
            // without repeating it (the quoted line masks it too).
            return Err(usage_diag(
                Diagnostic::new(
                    &self.display,
                    offset_pos(&self.text, name.span().start),
                    "this names no environment variable (capitals, digits and `_`); if it is the secret itself, it does not belong in idpsim.toml".to_string(),
                )
                .width(name.span().len().clamp(1, 60))
                .help("put the secret in a variable (a CI secret) and name it here: token_env = \"SCIM_TOKEN\""),
                &self.text,
            ));
        }
        match std::env::var(name.get_ref()) {
            Ok(v) if !v.is_empty() => Ok(v),
            _ => Err(usage_diag(
                Diagnostic::new(
                    &self.display,
                    offset_pos(&self.text, name.span().start),
                    format!(
                        "the environment variable `{}` named here is not set (or empty)",
                        name.get_ref()
                    ),
                )
                .width(name.span().len().clamp(1, 60))
                .help("set it from a CI secret, or pass --token"),
                &self.text,
            )),
        }
    }
}
