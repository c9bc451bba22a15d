//! The command line, defined with clap's derive API: the doc comments are the help text.

pub mod target;
pub mod values;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::outcome::Severity;
use crate::scenario::Idp;
use crate::support::styles::ColorChoice;
pub use target::TargetArgs;

/// Plays the identity provider for SCIM 2.0: replays Okta's and Microsoft Entra ID's provisioning
/// traffic against a SCIM endpoint and reports where the server's answers would break that IdP.
///
/// Exit codes: 0 passed, 1 compliance failures, 2 bad usage or invalid scenario,
/// 3 target unreachable or TLS failure, 130 interrupted by SIGINT (Ctrl-C), 143 terminated by
/// SIGTERM. After the first SIGINT or SIGTERM, `run` starts nothing new, cleans up (within
/// --grace-period) and writes its reports; a second signal quits at once.
#[derive(Debug, Parser)]
#[command(name = "idpsim", version, max_term_width = 100)]
pub struct Cli {
    /// When to use colours: auto (terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against a SCIM endpoint (or, without --target, the built-in server).
    Run(Box<RunArgs>),
    /// Check scenario files without sending anything.
    Validate(ValidateArgs),
    /// List scenarios with their IdP, tags and description.
    List(ListArgs),
    /// Run the built-in reference SCIM server on its own.
    Serve(ServeArgs),
    /// Play an IdP's initial provisioning cycle at scale, then an incremental cycle, then audit
    /// that every user and membership is on the server exactly once.
    Load(Box<LoadArgs>),
    /// Record traffic through a reverse proxy into a replayable scenario.
    Record(RecordArgs),
    /// Turn a HAR file, a JSON-lines capture, or an IdP's logs (Entra provisioning logs, Okta
    /// System Log) into a replayable scenario (and, for logs, the state the IdP believed).
    Import(ImportArgs),
    /// Entra's timeline for the failures in provisioning logs or a run's JSON report: escrow,
    /// retries, whether and when the job is quarantined, and the schedule in quarantine.
    Timeline(TimelineArgs),
    /// Compare what the IdP believes (a state file) with what the server holds; exit 1 on drift.
    Audit(AuditArgs),
    /// Evaluate a Microsoft Entra attribute-mapping expression against source attributes, as the
    /// portal's expression builder does: try a mapping before writing it into a scenario.
    ///
    /// Prints the value the expression gives, as Entra would send it: a "string" (Booleans are
    /// "True"/"False"), a ["multi", "valued"] list, or null (no value: Entra omits the
    /// attribute). Every attribute the expression reads must be given: a value (--attr,
    /// --source) or none (--null). A syntax error, a missing attribute or a failed evaluation is
    /// shown under its column and exits 2. The language is Microsoft's "Reference for writing
    /// expressions for attribute mappings in Microsoft Entra ID" (learn.microsoft.com).
    Expr(Box<ExprArgs>),
    /// Print a shell completion script to stdout, e.g. `idpsim completions bash > /etc/bash_completion.d/idpsim`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, e.g. `idpsim man > idpsim.1`.
    Man,
    /// Start a project: idpsim.toml, a baseline, example scenarios (one per IdP) with their JSON
    /// Schema, and CI jobs for GitHub Actions and GitLab CI.
    Init(InitArgs),
    /// Print the JSON Schema of scenario files (for editors; docs/scenario.schema.json).
    Schema,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write into (default: the current one).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: std::path::PathBuf,
    /// Overwrite files that exist (otherwise nothing is written when one does).
    #[arg(long)]
    pub force: bool,
    /// The git URL of the idpsim repository the CI jobs install from (`cargo install --git`).
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// The commit of that repository the CI jobs pin (`cargo install --rev`).
    #[arg(long, value_name = "COMMIT")]
    pub rev: Option<String>,
}

/// The flags of `idpsim expr` (the help text is on `Command::Expr`).
#[derive(Debug, Args)]
#[command(after_help = EXPR_EXAMPLES)]
pub struct ExprArgs {
    /// The expression, e.g. 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'.
    #[arg(
        value_name = "EXPRESSION",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub expression: Option<String>,
    /// Read the expression from FILE instead (it may span lines; no shell quoting needed).
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A source attribute's value (repeatable). Give a name several times for a multi-valued
    /// attribute (`--attr proxyAddresses=smtp:a@contoso.com --attr proxyAddresses=smtp:b@contoso.com`);
    /// `--attr mail=` is the empty string, which is a value (unlike --null).
    #[arg(long = "attr", short = 'a', value_name = "NAME=VALUE")]
    pub attrs: Vec<String>,
    /// A source attribute the user has no value for (repeatable): the expression reads null.
    #[arg(long = "null", value_name = "NAME")]
    pub nulls: Vec<String>,
    /// Source attributes from a JSON or YAML object (`-` reads stdin): strings, numbers,
    /// Booleans (read as "True"/"False"), lists (multi-valued), null (no value), objects (as
    /// JSON text, e.g. appRoleAssignments). --attr and --null override its entries.
    #[arg(long, short = 's', value_name = "FILE")]
    pub source: Option<PathBuf>,
    /// The time Now() returns, e.g. 2021-07-02T15:33:38Z (default: the current time, UTC).
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Seed Guid() and RandomString(), for output that repeats (default: random).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The SCIM attribute the mapping writes, e.g. active or emails[type eq "work"].value: also
    /// show the value as Entra puts it there on a create (POST) and in a PATCH of each mode (a
    /// Boolean target gets true/false, except in default-mode PATCH, which sends "True"/"False";
    /// an app-role function gives the role objects and the PATCH operation Microsoft documents).
    #[arg(long, value_name = "TARGET")]
    pub to: Option<String>,
    /// Print the result (or the errors) as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

const EXPR_EXAMPLES: &str = r#"Examples:
  idpsim expr 'Join(" ", [givenName], [surname])' -a givenName=Ada -a surname=Lovelace
  idpsim expr 'Switch([IsSoftDeleted], , "False", "True", "True", "False")' -a IsSoftDeleted=False
  idpsim expr 'Coalesce([mail], [userPrincipalName])' --null mail -a userPrincipalName=ada@x.com
  idpsim expr 'Split([roles], ",")' -a roles="Admin, Reader" --json
  idpsim expr 'Not([IsSoftDeleted])' -a IsSoftDeleted=False --to active
  idpsim expr 'DateAdd("d", 7, Now())' --now 2021-07-02T15:33:38Z
  idpsim expr -f mapping.txt --source user.json
"#;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Run only scenarios with this tag (repeatable; any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Skip scenarios with this tag (repeatable).
    #[arg(long = "skip-tag", value_name = "TAG")]
    pub skip_tags: Vec<String>,
    /// Run only scenarios for this IdP (repeatable).
    #[arg(long, value_enum, value_name = "IDP")]
    pub idp: Vec<Idp>,
    /// Run only scenarios of this IdP profile, e.g. oin, aiw, default, aadOptscim062020 (repeatable).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Run only scenarios whose name or file matches this glob (`*`, `?`; repeatable).
    #[arg(long = "name", short = 'n', value_name = "GLOB")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders. Default: the scenarios shipped inside idpsim.
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,

    /// After SIGINT (Ctrl-C) or SIGTERM, how long cleanup may take (the scenarios' cleanup steps
    /// and deleting what they created), e.g. 10s (default) or 500ms; a write in flight at the
    /// signal is awaited for half of it. What is not deleted by then, or was sent and never
    /// answered, is reported as left behind. A second signal quits at once.
    #[arg(long, value_name = "DURATION")]
    pub grace_period: Option<String>,

    /// Scale the IdP's waits (429 Retry-After, back-off) by this factor, e.g. 0.001 in tests;
    /// 1 (default) waits exactly as Okta or Entra would.
    #[arg(long, value_name = "FACTOR")]
    pub time_scale: Option<f64>,

    /// Set a scenario variable (repeatable); overrides the scenario's own value.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    #[command(flatten)]
    pub select: SelectArgs,

    /// How many scenarios run at once (steps within a scenario stay in order). Default: the number of CPUs.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Print the exact requests the scenarios would send, without sending anything to the target.
    #[arg(long)]
    pub dry_run: bool,

    /// What goes to stdout: human (default; the console report), jsonl (one JSON object per
    /// scenario; with --dry-run the exact requests), or github (the console report plus GitHub
    /// Actions `::error`/`::warning` annotations pointing at each finding's scenario line).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Write the JSON report (versioned; see docs/report.schema.json) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,

    /// Write a JUnit XML report (a testsuite per scenario, a testcase per step) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_junit: Option<PathBuf>,

    /// Write a Markdown summary (for a pull-request comment or a support ticket) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_md: Option<PathBuf>,

    /// Write a self-contained HTML report (one file, works offline) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_html: Option<PathBuf>,

    /// The lowest severity that fails the run (exit 1): error (default), warning or info.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// Accept the known failures listed in this baseline file: only new failures fail the run,
    /// and known ones that no longer fail are reported as fixed.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: a known failure that no longer fails (or could not be checked) also
    /// fails the run, so any change from the baseline fails CI.
    #[arg(long)]
    pub baseline_strict: bool,

    /// Record this run's failures (at or above --fail-on) as a baseline file; reasons written
    /// in an existing baseline are kept.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Read settings from this file (default: ./idpsim.toml when it exists). Flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Do not read ./idpsim.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Show every exchange (headers and bodies; secrets are redacted).
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Write the state the IdP believes after the run (its users and groups, before cleanup) to
    /// FILE, for `idpsim audit --expect FILE`. Usually wants --no-cleanup (or scenarios with
    /// `auto_cleanup: false`), or the audit will find everything deleted.
    #[arg(long, value_name = "FILE")]
    pub write_state: Option<PathBuf>,

    /// Leave what the scenarios created on the server (skip the automatic deletions).
    #[arg(long)]
    pub no_cleanup: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Address the proxy listens on; point the IdP (or any SCIM client) here.
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// The SCIM server to forward to, e.g. https://app.example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// The scenario file to write (appended exchange by exchange; valid after each one).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// The scenario's name (default: "Recording of URL (time)").
    #[arg(long)]
    pub name: Option<String>,
    /// How long to wait for the upstream's answer to one request.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A HAR file (.har), a JSON-lines exchange file (.jsonl), or an IdP log: Entra provisioning
    /// logs (Graph or portal JSON, the portal's CSV download) or an Okta System Log export (JSON
    /// or CSV); see docs/IDP-LOGS.md.
    pub input: PathBuf,
    /// More files of the same log: further pages of a Graph listing (`@odata.nextLink`), or the
    /// other two files of an Entra CSV download (found beside the first anyway).
    #[arg(value_name = "MORE")]
    pub more: Vec<PathBuf>,
    /// IdP logs: where to write the state the IdP believed at the end, for `idpsim audit
    /// --expect` (default: the output with .state.yaml).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The scenario file to write (default: the input with .yaml).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The SCIM base URL or path in the capture (default: guessed from /Users, /Groups, …).
    #[arg(long, value_name = "URL")]
    pub base: Option<String>,
    /// The scenario's name (default: "Imported from FILE").
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Entra provisioning logs (as for `import`), or the JSON report of `idpsim run
    /// --report-json` (its Entra scenarios).
    pub input: PathBuf,
    /// More files of the same log (further Graph pages).
    #[arg(value_name = "MORE")]
    pub more: Vec<PathBuf>,
    /// Objects in the tenant's provisioning scope (users + groups + members), to scale the
    /// input's failure rate to the escrow thresholds (default: the objects in the input).
    #[arg(long, value_name = "N")]
    pub objects: Option<u64>,
}

#[derive(Debug, Args)]
// The audit reads a real server: there is no built-in one to fall back on.
#[command(mut_arg("target", |a| a.required(true).help("Base URL of the SCIM endpoint to read")))]
pub struct AuditArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The state the IdP believes (YAML: users and groups; see docs/RECORD-AND-AUDIT.md).
    #[arg(long, value_name = "STATE.yaml")]
    pub expect: PathBuf,
    /// Also report users and groups on the server that the state does not name (use on a
    /// server the IdP owns alone; a shared server holds others).
    #[arg(long)]
    pub strict: bool,
    /// Whose belief the state is, for the impact of each drift: okta, entra or generic.
    #[arg(long, value_enum, default_value_t = Idp::Generic)]
    pub idp: Idp,
    /// Write the findings as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
}

/// What `run` prints to stdout (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Jsonl,
    Github,
}

/// The former name, from when `--format` applied to `--dry-run` only.
pub type DryFormat = OutputFormat;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or folders. Default: the shipped scenarios.
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Scenario files or folders. Default: the shipped scenarios.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, short = 'p', default_value_t = 8080)]
    pub port: u16,
    /// Require this bearer token (without it, no authentication is required).
    #[arg(long, env = "IDPSIM_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Also accept this exact Authorization value (the header mode), from the environment.
    #[arg(
        long,
        env = "IDPSIM_SERVE_AUTH_HEADER",
        hide_env_values = true,
        value_name = "VALUE"
    )]
    pub auth_header: Option<String>,
    /// Also accept HTTP Basic with USER:PASSWORD, from the environment.
    #[arg(
        long,
        env = "IDPSIM_SERVE_BASIC",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    pub basic: Option<String>,
    /// Play an OAuth 2.0 authorization server for this client id: /oauth2/token (client
    /// credentials, authorization code, refresh with rotation) and /oauth2/authorize (approves at
    /// once, redirects to a loopback URI). The secret comes from IDPSIM_SERVE_OAUTH_CLIENT_SECRET.
    #[arg(long, value_name = "ID")]
    pub oauth_client_id: Option<String>,
    #[arg(
        long,
        env = "IDPSIM_SERVE_OAUTH_CLIENT_SECRET",
        hide_env_values = true,
        hide = true
    )]
    pub oauth_client_secret: Option<String>,
    /// How long issued access tokens live (their expires_in), e.g. 60m (default) or 30s.
    #[arg(long, default_value = "60m", value_name = "DURATION")]
    pub token_lifetime: String,
    /// URL path the SCIM endpoints live under.
    #[arg(long, default_value = "/scim/v2")]
    pub base: String,
    /// Reproduce a real server's bug (repeatable); see --list-quirks.
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
    /// Keep the store in this file across restarts.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Serve these roles and entitlements (JSON; see scenarios/okta/README.md) instead of the
    /// built-in set.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Connections served at once; further clients wait until one closes.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_connections: usize,
    /// Time a client has to send a request's head, and then its body, e.g. 30s (408 or a
    /// closed connection beyond).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub request_timeout: String,
    /// List the quirks and exit.
    #[arg(long)]
    pub list_quirks: bool,
    /// The request log on stdout: text (a line per request: time, method, path, status,
    /// duration), json (one JSON object per request; the banner goes to stderr), or off.
    /// Headers are never logged; secrets in paths and bodies are masked.
    #[arg(long, value_enum, default_value_t = ServeLog::Text, value_name = "FORMAT")]
    pub log: ServeLog,
    /// Log the request and response bodies too.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// `idpsim serve --log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeLog {
    Text,
    Json,
    Off,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The IdP whose cycle is played: okta or entra.
    #[arg(long, value_enum)]
    pub idp: Idp,
    /// The IdP profile: Okta oin (default) or aiw; Entra default or aadOptscim062020 (default:
    /// as the target URL's query says).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Users in the synthetic directory.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub users: u32,
    /// Groups in the directory.
    #[arg(long, default_value_t = 10, value_name = "M")]
    pub groups: u32,
    /// Members per group.
    #[arg(long, default_value_t = 100, value_name = "K")]
    pub members: u32,
    /// Requests in flight at once.
    #[arg(long, short = 'c', default_value_t = 8, value_name = "CONCURRENCY")]
    pub concurrency: usize,
    /// At most this many requests per second (default: as fast as the server answers).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Seed of the synthetic directory: the same seed gives the same users, groups and changes
    /// (default: random, printed in the report).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Users per mille assigned twice at once (directly and through a group), whose two tasks
    /// race lookup → create.
    #[arg(long, default_value_t = 20, value_name = "PER_MILLE")]
    pub overlap: u32,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scale the IdP's waits (429 Retry-After, back-off) by this factor, e.g. 0.001 in tests.
    #[arg(long, value_name = "FACTOR")]
    pub time_scale: Option<f64>,
    /// Write the JSON report to FILE (for tracking throughput and latency over time).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
}
