//! What a scenario configures about the Entra job: `settings:` (the wire choices entra.md §10
//! leaves open) and `mappings:` (attribute mappings with Entra's expression language, §6.5).
//! Everything here is parsed at load time, so a malformed expression is an invalid scenario
//! (exit 2, nothing sent) with the column of the culprit inside the YAML string.

use crate::idp::entra::expr::{self, ApplyOn, AttributeMapping, MappingSource};
use crate::scenario::yaml::NodeKind;
use crate::scenario::{Node, Scenario};
use crate::support::diagnostic::Pos;

/// The two PATCH personalities of the `scim` job (entra.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// No flag: capitalised ops, `"True"`/`"False"` strings, one op per attribute with a path,
    /// member removal as `Remove` + path `members` + a value array.
    Default,
    /// `?aadOptscim062020`: lowercase ops, JSON booleans, path-less replace map,
    /// `members[value eq "…"]` removal.
    Flag,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Flag => "aadOptscim062020",
        }
    }
}

/// The query tokens that turn the compliant PATCH behaviour on: today's name and the 2020
/// draft's (entra.md §1.1).
pub const FLAG_TOKENS: &[&str] = &["aadOptscim062020", "AzureAdScimPatch062020"];

/// Where the flag goes relative to a request's own parameters (undocumented, entra.md §10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagPosition {
    /// `/Users?filter=…&aadOptscim062020`: the Tenant URL's query appended last, as an HTTP
    /// client that joins a base URL with a relative path does (default).
    AfterFilter,
    /// `/Users?aadOptscim062020&filter=…`.
    BeforeFilter,
}

/// What Entra does when a user is unassigned or leaves scope (entra.md §5.3, §10.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnassignAction {
    /// PATCH active through the IsSoftDeleted mapping (HOW; default).
    Disable,
    /// DELETE /Users/{id} (Microsoft's onboarding Logic App expects this).
    Delete,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub flag_position: FlagPosition,
    /// Send `"$ref": null` in member values as the tutorial shows (§3.13); field traffic omits it.
    pub member_ref_null: bool,
    /// Members per PATCH (undocumented, §4.5 item 3 / §10.7).
    pub member_batch_size: usize,
    pub unassign: UnassignAction,
    /// "Target Object Actions: Delete" (§5.3): without it hard deletes send nothing.
    pub delete_enabled: bool,
    /// `SkipOutOfScopeDeletions` (§5.3): unassigning sends nothing.
    pub skip_out_of_scope_deletions: bool,
    /// GET /Users/{id} before an update and diff against it (§7.1); else diff against what Entra
    /// last sent.
    pub read_before_update: bool,
    /// Retries of a 429 (honouring Retry-After), §7.5.
    pub retry_429: u32,
    /// Retries of a 5xx, each after `retry_5xx_delay_secs` (Entra: "retried in 40 minutes", §7.4).
    /// Default 0: Entra's retry belongs to its next cycle, so a run reports the failure (whose
    /// finding says Entra retries in 40 minutes) rather than holding for 40 minutes; set it to
    /// replay the retry (with `--time-scale` to shorten the wait).
    pub retry_5xx: u32,
    pub retry_5xx_delay_secs: u64,
    /// How a cleared manager goes on the wire (`manager`).
    pub manager_removal: ManagerRemoval,
    /// How flag-mode PATCHes carry app roles (`entra::roles`, choice 1).
    pub flag_role_patch: crate::idp::entra::roles::FlagRolePatch,
}

/// The two manager-removal forms (see `entra::manager`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagerRemoval {
    /// `replace` with `""` (Microsoft's onboarding tests).
    EmptyString,
    /// `remove` with path `manager[value eq "…"]` (field report).
    Filter,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flag_position: FlagPosition::AfterFilter,
            member_ref_null: false,
            member_batch_size: 10,
            unassign: UnassignAction::Disable,
            delete_enabled: true,
            skip_out_of_scope_deletions: false,
            read_before_update: true,
            retry_429: 4,
            retry_5xx: 0,
            retry_5xx_delay_secs: 40 * 60,
            manager_removal: ManagerRemoval::EmptyString,
            flag_role_patch: crate::idp::entra::roles::FlagRolePatch::PostForm,
        }
    }
}

pub const SETTING_KEYS: &[&str] = &[
    "flag_position",
    "member_ref_null",
    "member_batch_size",
    "unassign",
    "delete_enabled",
    "skip_out_of_scope_deletions",
    "read_before_update",
    "retry_429",
    "retry_5xx",
    "retry_5xx_delay_secs",
    "manager_removal",
    "flag_role_patch",
];

impl Settings {
    /// Reads `settings:`; problems are returned with positions (and defaults kept).
    pub fn parse(node: Option<&Node>) -> (Settings, Vec<(Pos, String)>) {
        let mut s = Settings::default();
        let mut errs = Vec::new();
        let Some(node) = node else {
            return (s, errs);
        };
        let Some(entries) = node.as_map() else {
            errs.push((node.pos, "`settings` must be a mapping".into()));
            return (s, errs);
        };
        for (k, v) in entries {
            let bool_of = |errs: &mut Vec<(Pos, String)>| match v.kind {
                NodeKind::Bool(b) => Some(b),
                _ => {
                    errs.push((v.pos, format!("`{}` takes true or false", k.name)));
                    None
                }
            };
            let int_of = |errs: &mut Vec<(Pos, String)>, min: i64| match v.kind {
                NodeKind::Int(i) if i >= min => Some(i),
                _ => {
                    errs.push((v.pos, format!("`{}` takes an integer ≥ {min}", k.name)));
                    None
                }
            };
            match k.name.as_str() {
                "flag_position" => match v.as_str() {
                    Some("after_filter") => s.flag_position = FlagPosition::AfterFilter,
                    Some("before_filter") => s.flag_position = FlagPosition::BeforeFilter,
                    _ => errs.push((
                        v.pos,
                        "`flag_position` is `after_filter` or `before_filter`".into(),
                    )),
                },
                "unassign" => match v.as_str() {
                    Some("disable") => s.unassign = UnassignAction::Disable,
                    Some("delete") => s.unassign = UnassignAction::Delete,
                    _ => errs.push((v.pos, "`unassign` is `disable` or `delete`".into())),
                },
                "manager_removal" => match v.as_str() {
                    Some("empty_string") => s.manager_removal = ManagerRemoval::EmptyString,
                    Some("filter") => s.manager_removal = ManagerRemoval::Filter,
                    _ => errs.push((
                        v.pos,
                        "`manager_removal` is `empty_string` (replace with \"\") or `filter` (remove manager[value eq …])".into(),
                    )),
                },
                "flag_role_patch" => {
                    use crate::idp::entra::roles::FlagRolePatch;
                    match v.as_str() {
                        Some("post_form") => s.flag_role_patch = FlagRolePatch::PostForm,
                        Some("string_encoded") => s.flag_role_patch = FlagRolePatch::StringEncoded,
                        _ => errs.push((
                            v.pos,
                            "`flag_role_patch` is `post_form` (the role objects of the create) or `string_encoded` (as without the flag)".into(),
                        )),
                    }
                }
                "member_ref_null" => {
                    if let Some(b) = bool_of(&mut errs) {
                        s.member_ref_null = b;
                    }
                }
                "delete_enabled" => {
                    if let Some(b) = bool_of(&mut errs) {
                        s.delete_enabled = b;
                    }
                }
                "skip_out_of_scope_deletions" => {
                    if let Some(b) = bool_of(&mut errs) {
                        s.skip_out_of_scope_deletions = b;
                    }
                }
                "read_before_update" => {
                    if let Some(b) = bool_of(&mut errs) {
                        s.read_before_update = b;
                    }
                }
                "member_batch_size" => {
                    if let Some(i) = int_of(&mut errs, 1) {
                        s.member_batch_size = i.min(1000) as usize;
                    }
                }
                "retry_429" => {
                    if let Some(i) = int_of(&mut errs, 0) {
                        s.retry_429 = i.min(20) as u32;
                    }
                }
                "retry_5xx" => {
                    if let Some(i) = int_of(&mut errs, 0) {
                        s.retry_5xx = i.min(20) as u32;
                    }
                }
                "retry_5xx_delay_secs" => {
                    if let Some(i) = int_of(&mut errs, 0) {
                        s.retry_5xx_delay_secs = i.min(86_400) as u64;
                    }
                }
                other => {
                    let hint = crate::scenario::parse::suggest(other, SETTING_KEYS)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    errs.push((
                        k.pos,
                        format!(
                            "unknown Entra setting `{other}`{hint}; expected one of: {}",
                            SETTING_KEYS.join(", ")
                        ),
                    ));
                }
            }
        }
        (s, errs)
    }
}

/// The scenario's attribute mappings for users and groups.
#[derive(Clone, Debug)]
pub struct Mappings {
    pub user: Vec<AttributeMapping>,
    pub group: Vec<AttributeMapping>,
}

/// The mappings of the vendor setup guides (seeds 003/004, entra.md §3.17): mail → userName
/// (matching), the IsSoftDeleted Switch → active, displayName → displayName; groups:
/// displayName → displayName (matching), members → members, objectId → externalId.
pub const DEFAULT_USER_MAPPINGS: &[(&str, &str)] = &[
    ("userName", "mail"),
    (
        "active",
        r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
    ),
    ("displayName", "displayName"),
];
pub const DEFAULT_GROUP_MAPPINGS: &[(&str, &str)] = &[
    ("displayName", "displayName"),
    ("externalId", "objectId"),
    ("members", "members"),
];

fn defaults(list: &[(&str, &str)], matching: &str) -> Vec<AttributeMapping> {
    list.iter()
        .filter_map(|(t, s)| {
            AttributeMapping::parse_source(s)
                .ok()
                .map(|source| AttributeMapping {
                    target: t.to_string(),
                    source,
                    default_value: None,
                    apply: ApplyOn::Always,
                    matching_precedence: (*t == matching).then_some(1),
                })
        })
        .collect()
}

impl Mappings {
    /// Parses `mappings:`; with a source text, error columns point inside the YAML string.
    pub fn parse(node: Option<&Node>, text: Option<&str>) -> (Mappings, Vec<(Pos, String)>) {
        let mut errs = Vec::new();
        let mut m = Mappings {
            user: defaults(DEFAULT_USER_MAPPINGS, "userName"),
            group: defaults(DEFAULT_GROUP_MAPPINGS, "displayName"),
        };
        let Some(node) = node else {
            return (m, errs);
        };
        let Some(entries) = node.as_map() else {
            errs.push((
                node.pos,
                "`mappings` must be a mapping with `user` and/or `group`".into(),
            ));
            return (m, errs);
        };
        for (k, v) in entries {
            let list = match k.name.as_str() {
                "user" | "users" => parse_object(v, text, &mut errs),
                "group" | "groups" => parse_object(v, text, &mut errs),
                other => {
                    errs.push((
                        k.pos,
                        format!("unknown key `{other}` in `mappings` (expected user, group)"),
                    ));
                    continue;
                }
            };
            let matching = if k.name.starts_with("user") {
                "userName"
            } else {
                "displayName"
            };
            let list = with_default_matching(list, matching);
            if k.name.starts_with("user") {
                m.user = list;
            } else {
                m.group = list;
            }
        }
        (m, errs)
    }
}

/// Without any `match:`, Entra's defaults apply: userName for users, displayName for groups
/// (entra.md §7.1, §7.2); if that target is not mapped, the first mapping.
fn with_default_matching(
    mut list: Vec<AttributeMapping>,
    preferred: &str,
) -> Vec<AttributeMapping> {
    if list.iter().any(|m| m.matching_precedence.is_some()) {
        return list;
    }
    let idx = list
        .iter()
        .position(|m| m.target == preferred)
        .or_else(|| list.iter().position(|m| !is_reference(&m.target)));
    if let Some(i) = idx {
        list[i].matching_precedence = Some(1);
    }
    list
}

/// Reference targets are not written on create: Entra resolves them with a later PATCH once
/// the referenced object is linked (manager: §4.4; members: §7.2).
pub fn is_reference(target: &str) -> bool {
    let t = target.to_ascii_lowercase();
    t == "members" || t == "manager" || t.ends_with(":manager")
}

fn parse_object(
    node: &Node,
    text: Option<&str>,
    errs: &mut Vec<(Pos, String)>,
) -> Vec<AttributeMapping> {
    let mut out = Vec::new();
    let Some(entries) = node.as_map() else {
        errs.push((
            node.pos,
            "mappings are `target: source` pairs, e.g. `userName: \"[mail]\"`".into(),
        ));
        return out;
    };
    for (k, v) in entries {
        if k.name.eq_ignore_ascii_case("id") {
            errs.push((
                k.pos,
                "`id` is the server's primary key and cannot be a mapping target".into(),
            ));
            continue;
        }
        let mut mapping = AttributeMapping {
            target: k.name.clone(),
            source: MappingSource::Constant(String::new()),
            default_value: None,
            apply: ApplyOn::Always,
            matching_precedence: None,
        };
        match &v.kind {
            NodeKind::Str(s) => match source_of(s, v.pos, text) {
                Ok(src) => mapping.source = src,
                Err(e) => {
                    errs.push(e);
                    continue;
                }
            },
            NodeKind::Map(fields) => {
                let mut have_source = false;
                for (fk, fv) in fields {
                    match fk.name.as_str() {
                        "source" | "expression" => match fv.as_str() {
                            Some(s) => match source_of(s, fv.pos, text) {
                                Ok(src) => {
                                    mapping.source = src;
                                    have_source = true;
                                }
                                Err(e) => {
                                    // Reported once, at its column; not also as "missing".
                                    have_source = true;
                                    errs.push(e)
                                }
                            },
                            None => errs.push((fv.pos, "`source` takes a string".into())),
                        },
                        "constant" => match fv.scalar_text() {
                            Some(c) => {
                                mapping.source = MappingSource::Constant(c);
                                have_source = true;
                            }
                            None => errs.push((fv.pos, "`constant` takes a scalar".into())),
                        },
                        "default" => match fv.scalar_text() {
                            Some(d) => mapping.default_value = Some(d),
                            None => errs.push((fv.pos, "`default` takes a scalar".into())),
                        },
                        "apply" => match fv.as_str() {
                            Some("always") => mapping.apply = ApplyOn::Always,
                            Some("create" | "create_only") => mapping.apply = ApplyOn::CreateOnly,
                            _ => errs.push((fv.pos, "`apply` is `always` or `create`".into())),
                        },
                        "match" => match fv.kind {
                            NodeKind::Int(i) if i >= 1 => {
                                mapping.matching_precedence = Some(i.min(1000) as u32)
                            }
                            NodeKind::Bool(true) => mapping.matching_precedence = Some(1),
                            _ => errs.push((
                                fv.pos,
                                "`match` takes a precedence ≥ 1 (lowest is tried first)".into(),
                            )),
                        },
                        other => errs.push((
                            fk.pos,
                            format!("unknown key `{other}` in a mapping (expected source, constant, default, apply, match)"),
                        )),
                    }
                }
                if !have_source {
                    errs.push((v.pos, "a mapping needs `source:` or `constant:`".into()));
                    continue;
                }
            }
            _ => {
                errs.push((
                    v.pos,
                    "a mapping is a source string or `{ source: …, default: …, apply: …, match: … }`"
                        .into(),
                ));
                continue;
            }
        }
        out.push(mapping);
    }
    out
}

fn source_of(s: &str, pos: Pos, text: Option<&str>) -> Result<MappingSource, (Pos, String)> {
    AttributeMapping::parse_source(s).map_err(|e| {
        (
            expression_pos(text, pos, e.column),
            format!("malformed expression (column {}): {}", e.column, e.message),
        )
    })
}

/// The file position of character `column` (1-based) of a YAML string scalar that starts at
/// `pos`. On the scalar's line: a plain scalar starts at `pos`; a quoted one one character later,
/// and escapes (`\"`, `''`) take two source characters for one. Block scalars (`|`, `>`) and
/// strings that span lines keep the scalar's own position: the column is in the message.
pub fn expression_pos(text: Option<&str>, pos: Pos, column: usize) -> Pos {
    let Some(line) = text.and_then(|t| t.lines().nth((pos.line as usize).saturating_sub(1))) else {
        return pos;
    };
    let chars: Vec<char> = line.chars().collect();
    let start = (pos.col as usize).saturating_sub(1);
    let Some(&first) = chars.get(start) else {
        return pos;
    };
    let (mut i, quote) = match first {
        '\'' | '"' => (start + 1, Some(first)),
        '|' | '>' => return pos,
        _ => (start, None),
    };
    let mut seen = 1;
    while seen < column {
        let Some(&c) = chars.get(i) else {
            return pos;
        };
        match (quote, c) {
            (Some('"'), '\\') => i += 2,
            (Some('\''), '\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
            (Some(q), c) if c == q => return pos,
            _ => i += 1,
        }
        seen += 1;
    }
    Pos::new(pos.line as usize, i + 1)
}

/// Parses settings and mappings of a scenario, for `validate_scenario` and at run time.
pub fn load(scenario: &Scenario) -> (Settings, Mappings, Vec<(Pos, String)>) {
    let text = crate::support::input::read_text(std::path::Path::new(&scenario.file)).ok();
    let (settings, mut errs) = Settings::parse(scenario.settings.as_ref());
    let (mappings, more) = Mappings::parse(scenario.mappings.as_ref(), text.as_deref());
    errs.extend(more);
    (settings, mappings, errs)
}

/// Checks that expressions only name things that exist and targets look like SCIM paths.
pub fn check_targets(list: &[AttributeMapping]) -> Option<String> {
    for m in list {
        if m.target.contains('[')
            && crate::idp::entra::wire::FilteredPath::parse(&m.target).is_none()
        {
            return Some(format!(
                "target `{}`: a multi-valued target is written `attr[type eq \"x\"].sub`",
                m.target
            ));
        }
    }
    let _ = expr::MAX_EXPRESSION_CHARS;
    None
}
