//! Scenario files: the model (this file), reading YAML with positions (`yaml`), building and
//! validating the model (`parse`), templating (`template`) and finding files (`load`).
//!
//! Invariant: a `Scenario` that exists has passed validation, so the runner never meets an
//! unknown key, a malformed template or an undefined variable half-way through a run.

pub mod load;
pub mod parse;
pub mod schema;
pub mod template;
pub mod yaml;

use crate::support::diagnostic::{Pos, SourceRef};
pub use yaml::Node;

/// Every spelling `Idp::from_name` reads, for the scenario schema.
pub const IDP_NAMES: &[&str] = &["okta", "entra", "generic", "scim", "azure", "entra-id"];

/// What the scenario grammar needs to know about the IdP profiles: which profiles and actions
/// each IdP has, and how to check their arguments at load time. `idp::Catalogue` supplies it.
/// The grammar is handed it rather than importing `idp`, because the profiles read scenarios:
/// imports stay one-way (`idp` → `scenario`).
pub trait Profiles {
    /// Profiles (personalities or modes) the IdP accepts.
    fn profiles(&self, idp: Idp) -> &'static [&'static str];
    /// The action names a scenario of this IdP may use as steps.
    fn actions(&self, idp: Idp) -> &'static [&'static str];
    /// Problems with an action's arguments, by position.
    fn validate_action(&self, idp: Idp, action: &ActionStep) -> Vec<(Pos, String)>;
    /// Problems with the IdP-specific parts of a scenario (directory, mappings, settings).
    fn validate_scenario(&self, scenario: &Scenario) -> Vec<(Pos, String)>;
    /// The option keys an action step may carry beside its argument, as `validate_action`
    /// checks them; `None` when they are not checked. The scenario schema lists these.
    fn action_options(&self, idp: Idp, action: &str) -> Option<&'static [&'static str]>;
    /// The `settings:` keys the IdP reads, when it checks them (for the scenario schema).
    fn settings_keys(&self, idp: Idp) -> Option<&'static [&'static str]>;
    /// What an action needs from earlier steps (the server ids of the directory objects it
    /// addresses) and what it produces for later ones (the ids it links), as the IdP does it.
    fn dependencies(&self, scenario: &Scenario, action: &ActionStep) -> Dependencies {
        let _ = (scenario, action);
        Dependencies::default()
    }
}

/// Something a step produces and a later step may need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dep {
    /// A value captured by an earlier step, by name (`{{ user_id }}`).
    Value(String),
    /// The server id the IdP linked to a directory object (`users.alice.id`).
    Linked { collection: Collection, key: String },
}

impl Dep {
    pub fn user(key: &str) -> Dep {
        Dep::Linked {
            collection: Collection::Users,
            key: key.to_string(),
        }
    }
    pub fn group(key: &str) -> Dep {
        Dep::Linked {
            collection: Collection::Groups,
            key: key.to_string(),
        }
    }
    /// In words, for "not run" reasons: "`user_id`", "the server id of user `alice`".
    pub fn describe(&self) -> String {
        match self {
            Dep::Value(name) => format!("`{name}`"),
            Dep::Linked { collection, key } => {
                format!("the server id of {} `{key}`", collection.noun())
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Users,
    Groups,
}

impl Collection {
    pub fn noun(self) -> &'static str {
        match self {
            Collection::Users => "user",
            Collection::Groups => "group",
        }
    }
}

/// An action's dependencies as its IdP profile states them.
#[derive(Clone, Debug, Default)]
pub struct Dependencies {
    pub needs: Vec<Dep>,
    pub produces: Vec<Dep>,
    /// The objects it checks rather than acts on (see `Step::verifies`).
    pub verifies: Vec<Dep>,
}

/// A dependency of a step on an earlier one, worked out at load time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub dep: Dep,
    /// The latest earlier step that produces it: its 0-based position in the scenario's steps
    /// followed by its cleanup steps.
    pub from: usize,
}

/// Which identity provider a scenario speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Idp {
    /// Raw SCIM requests, judged by the RFCs alone.
    Generic,
    Okta,
    Entra,
}

impl Idp {
    pub fn name(self) -> &'static str {
        match self {
            Idp::Generic => "generic",
            Idp::Okta => "okta",
            Idp::Entra => "entra",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        // Every name here is in IDP_NAMES too (the scenario schema lists them).
        match s {
            "generic" | "scim" => Some(Idp::Generic),
            "okta" => Some(Idp::Okta),
            "entra" | "azure" | "entra-id" => Some(Idp::Entra),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    /// The path shown to people (relative when possible; `<embedded>/…` for shipped scenarios).
    pub file: String,
    pub pos: Pos,
    pub name: String,
    pub description: Option<String>,
    pub idp: Idp,
    /// The IdP personality (Okta `oin`/`aiw`) or mode (Entra `default`/`aadOptscim062020`).
    pub profile: Option<String>,
    pub tags: Vec<String>,
    /// Server capabilities the scenario needs (`requires: [patch, filter]`), by the names of
    /// `/ServiceProviderConfig`; see `crate::gate::capability`.
    pub requires: Vec<String>,
    /// The public source the scenario reproduces.
    pub source: Option<String>,
    /// Variables, in declaration order; values are templates.
    pub variables: Vec<(String, Node)>,
    /// Profile settings (e.g. Okta's unique identifier attribute), read by the IdP profile.
    pub settings: Option<Node>,
    /// The source directory (users, groups) that IdP actions refer to.
    pub directory: Option<Node>,
    /// Attribute mappings (Entra expressions, Okta extra attributes).
    pub mappings: Option<Node>,
    pub steps: Vec<Step>,
    /// Runs after the steps whatever happened, then idpsim deletes what the scenario created.
    pub cleanup: Vec<Step>,
    /// Whether idpsim deletes the resources the scenario created (default true).
    pub auto_cleanup: bool,
    /// The auth mode this scenario plays as its own app instance, and when its credential lapses.
    pub auth: Option<ScenarioAuth>,
}

/// `auth: { mode: oauth-code, expire_after: 3 }`: the scenario is its own IdP app instance with
/// this auth mode (against the built-in server idpsim sets the mode up; against a target the run
/// must authenticate with the same mode), whose credential lapses after N requests or T.
#[derive(Clone, Debug)]
pub struct ScenarioAuth {
    pub mode: crate::transport::AuthMode,
    /// Where `mode` is written, for diagnostics.
    pub pos: Pos,
    pub lapse: crate::transport::Lapse,
}

impl Scenario {
    /// The keys of `directory.users` or `directory.groups` (`kind`), as declared.
    pub fn directory_keys(&self, kind: &str) -> Vec<String> {
        self.directory
            .as_ref()
            .and_then(|d| d.get(kind))
            .and_then(|m| m.as_map())
            .map(|m| m.iter().map(|(k, _)| k.name.clone()).collect())
            .unwrap_or_default()
    }

    pub fn source_ref(&self, pos: Pos) -> SourceRef {
        SourceRef {
            file: self.file.clone(),
            line: pos.line,
            column: pos.col,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub name: Option<String>,
    pub pos: Pos,
    pub kind: StepKind,
    /// What this step needs from earlier steps (captures read by its templates, the server ids
    /// its action addresses). A need whose producer failed makes the step "not run".
    pub needs: Vec<Need>,
    /// What this step produces for later ones (its captures, the ids its action links).
    pub produces: Vec<Dep>,
    /// The names its `needs:` lists, while the scenario is read (resolved into `needs`).
    pub declared: Vec<(String, Pos)>,
    /// For a step that checks what earlier steps did to an object (`expect_server`, a read-back
    /// GET): the latest earlier step that acted on it. When that step failed, the check would
    /// only restate its failure, and the step is not run.
    pub verifies: Vec<Need>,
}

impl Step {
    /// A short label for reports: the name, else what the step does.
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.kind {
            StepKind::Request(r) => format!("{} {}", r.method, r.path),
            StepKind::Action(a) => match a.args.scalar_text() {
                Some(arg) => format!("{} {}", a.name, arg),
                None => a.name.clone(),
            },
        }
    }
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Request(Box<RequestStep>),
    Action(ActionStep),
}

/// A raw SCIM request and what its answer must look like.
#[derive(Clone, Debug)]
pub struct RequestStep {
    pub method: String,
    /// Path relative to the target's base URL, with query; a template.
    pub path: String,
    pub path_pos: Pos,
    pub headers: Vec<(String, String)>,
    /// The JSON body; string leaves are templates.
    pub body: Option<Node>,
    /// A raw (non-JSON) body; a template.
    pub raw_body: Option<String>,
    /// Send without the run's Authorization header (to test 401 handling).
    pub no_auth: bool,
    /// Send an Authorization header that is not the run's credential (a recorded request made
    /// with another credential, refused by the server; the recording keeps no secret).
    pub invalid_auth: bool,
    pub expect: Expect,
    pub capture: Vec<Capture>,
}

/// An IdP action such as `assign: alice`, interpreted by the scenario's IdP profile.
#[derive(Clone, Debug)]
pub struct ActionStep {
    pub name: String,
    pub name_pos: Pos,
    pub args: Node,
    /// Extra keys of the step besides the action (e.g. `expect`), for the profile to read.
    pub options: Vec<(yaml::Key, Node)>,
}

#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub status: Option<StatusExpect>,
    pub headers: Vec<HeaderExpect>,
    pub body: Option<Pattern>,
    /// `rule:` — the catalogued rule whose fault a mismatch of each part shows.
    pub rules: ExpectRules,
}

/// The rule (from `check::catalogue`) a mismatch of each part of an expectation is reported
/// under: `rule: id` for all parts, or `rule: { status: id, body: id, headers: id }`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectRules {
    pub status: Option<String>,
    pub headers: Option<String>,
    pub body: Option<String>,
}

#[derive(Clone, Debug)]
pub struct StatusExpect {
    pub codes: Vec<u16>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct HeaderExpect {
    pub name: String,
    pub pattern: Pattern,
}

/// A body matcher. Objects match as subsets unless `exact`; arrays match element by element.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub pos: Pos,
    pub kind: PatternKind,
}

#[derive(Clone, Debug)]
pub enum PatternKind {
    /// Equal to this value; strings are templates.
    Literal(serde_json::Value),
    Object {
        fields: Vec<(String, Pattern)>,
        exact: bool,
    },
    Array {
        items: Vec<Pattern>,
    },
    /// `!type string|integer|number|boolean|object|array|null`
    Type(JsonType),
    /// `!regex '…'` against a string (template rendered first).
    Regex(String),
    /// `!any`: present, whatever the value.
    Any,
    /// `!absent`: the key must not be there (or be null).
    Absent,
    /// `!contains …`: an array with at least one element matching.
    Contains(Box<Pattern>),
    /// `!first …`: an array whose first element matches (the `emails[0].value` of Okta's
    /// Runscope assertions), whatever follows it.
    First(Box<Pattern>),
    /// `!ci '…'`: a string equal ignoring case.
    CaseInsensitive(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    Null,
}

impl JsonType {
    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::Null => "null",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "string" => JsonType::String,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "boolean" | "bool" => JsonType::Boolean,
            "object" => JsonType::Object,
            "array" => JsonType::Array,
            "null" => JsonType::Null,
            _ => return None,
        })
    }
    pub fn of(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

/// Saves part of a response under a name for later templates.
#[derive(Clone, Debug)]
pub struct Capture {
    pub name: String,
    pub pos: Pos,
    pub from: CaptureFrom,
}

#[derive(Clone, Debug)]
pub enum CaptureFrom {
    /// A JSON pointer into the response body, e.g. `/id`.
    Pointer(String),
    Header(String),
    Status,
}

#[cfg(test)]
mod tests;
