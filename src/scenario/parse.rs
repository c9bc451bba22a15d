//! Builds a `Scenario` from the YAML tree and validates it: unknown keys, wrong types, bad
//! templates and undefined variables all become diagnostics with file:line:column.

use std::collections::HashSet;

use super::template;
use super::yaml::{self, Key, Node, NodeKind};
use super::*;
use crate::support::diagnostic::Diagnostic;

/// Parses and validates one scenario file. All problems are reported, not just the first.
/// `profiles` checks the IdP-specific parts (profiles, actions and their arguments).
pub fn parse_scenario(
    file: &str,
    text: &str,
    profiles: &dyn Profiles,
) -> Result<Scenario, Vec<Diagnostic>> {
    let root =
        yaml::parse_document(text).map_err(|e| vec![Diagnostic::new(file, e.pos, e.message)])?;
    let mut p = Parser::new(file, text.lines().collect());
    let scenario = p.scenario(&root, profiles);
    match scenario {
        Some(s) if p.diags.is_empty() => Ok(s),
        _ => {
            if p.diags.is_empty() {
                p.diags
                    .push(Diagnostic::new(file, root.pos, "invalid scenario"));
            }
            p.diags.sort_by_key(|d| d.pos);
            Err(p.diags)
        }
    }
}

pub(crate) const SCENARIO_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "idp",
    "profile",
    "tags",
    "requires",
    "source",
    "variables",
    "settings",
    "directory",
    "mappings",
    "steps",
    "cleanup",
    "auto_cleanup",
    "auth",
];
const AUTH_KEYS: &[&str] = &["mode", "expire_after"];
pub(crate) const STEP_KEYS: &[&str] = &["name", "request", "expect", "capture", "needs"];
pub(crate) const REQUEST_KEYS: &[&str] = &["method", "path", "headers", "body", "raw_body", "auth"];
pub(crate) const EXPECT_KEYS: &[&str] = &["status", "headers", "body", "rule"];
pub(crate) const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

struct Parser<'a> {
    file: &'a str,
    /// The file's lines, to put carets on the exact word inside a string.
    lines: Vec<&'a str>,
    diags: Vec<Diagnostic>,
    /// Template steps left for the trial renders of this file (`template::FILE_CHECK_FUEL`).
    check_fuel: u64,
    /// The dotted paths the templates of the step being parsed read (`users.alice.id`).
    reads: Vec<String>,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, lines: Vec<&'a str>) -> Self {
        Parser {
            file,
            lines,
            diags: Vec::new(),
            check_fuel: template::FILE_CHECK_FUEL,
            reads: Vec::new(),
        }
    }

    fn err(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(self.file, pos, msg));
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Key, Node)]> {
        match node.as_map() {
            Some(m) => Some(m),
            None => {
                self.err(
                    node.pos,
                    format!("{what} must be a mapping, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    fn check_keys(&mut self, entries: &[(Key, Node)], allowed: &[&str], what: &str) {
        for (k, _) in entries {
            if !allowed.contains(&k.name.as_str()) {
                let d = Diagnostic::new(
                    self.file,
                    k.pos,
                    format!("unknown key `{}` in {what}", k.name),
                )
                .width(k.name.chars().count())
                .label("unknown key");
                let d = match suggest(&k.name, allowed) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("expected one of: {}", allowed.join(", "))),
                };
                self.diags.push(d);
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => node.scalar_text(),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a string, found {}", node.kind_name()),
                );
                None
            }
        }
    }

    fn scenario(&mut self, root: &Node, profiles: &dyn Profiles) -> Option<Scenario> {
        let entries = self.map(root, "a scenario")?;
        self.check_keys(entries, SCENARIO_KEYS, "a scenario");
        let get = |k: &str| root.get(k);

        if let Some(v) = get("version") {
            if !matches!(v.kind, NodeKind::Int(1)) {
                self.err(
                    v.pos,
                    "unsupported scenario format version; this idpsim reads `version: 1`",
                );
            }
        }
        let name = match get("name") {
            Some(n) => self.string(n, "`name`"),
            None => {
                self.err(root.pos, "a scenario needs a `name`");
                None
            }
        };
        let description = get("description").and_then(|n| self.string(n, "`description`"));
        let idp = match get("idp") {
            None => Idp::Generic,
            Some(n) => match n.as_str().and_then(Idp::from_name) {
                Some(i) => i,
                None => {
                    let d = Diagnostic::new(self.file, n.pos, "unknown `idp`")
                        .help("expected one of: okta, entra, generic");
                    self.diags.push(d);
                    Idp::Generic
                }
            },
        };
        let profile = get("profile").and_then(|n| self.string(n, "`profile`"));
        if let (Some(p), Some(node)) = (&profile, get("profile")) {
            let allowed = profiles.profiles(idp);
            if !allowed.contains(&p.as_str()) {
                let d = Diagnostic::new(
                    self.file,
                    node.pos,
                    format!("unknown profile `{p}` for idp {}", idp.name()),
                )
                .width(p.chars().count())
                .help(if allowed.is_empty() {
                    "generic scenarios have no profile".to_string()
                } else {
                    format!("expected one of: {}", allowed.join(", "))
                });
                self.diags.push(d);
            }
        }
        let tags = match get("tags") {
            None => Vec::new(),
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => items
                    .iter()
                    .filter_map(|i| self.string(i, "a tag"))
                    .collect(),
                _ => {
                    self.err(n.pos, "`tags` must be a list of strings");
                    Vec::new()
                }
            },
        };
        let requires = self.requires(get("requires"));
        let source = get("source").and_then(|n| self.string(n, "`source`"));
        let mut variables = Vec::new();
        if let Some(v) = get("variables") {
            if let Some(entries) = self.map(v, "`variables`") {
                for (k, node) in entries {
                    if template::BUILTINS.contains(&k.name.as_str()) {
                        self.err(
                            k.pos,
                            format!("`{}` is a built-in name and cannot be redefined", k.name),
                        );
                    }
                    variables.push((k.name.clone(), node.clone()));
                }
            }
        }
        let auto_cleanup = match get("auto_cleanup") {
            None => true,
            Some(Node {
                kind: NodeKind::Bool(b),
                ..
            }) => *b,
            Some(n) => {
                self.err(n.pos, "`auto_cleanup` must be true or false");
                true
            }
        };

        let auth = get("auth").and_then(|n| self.scenario_auth(n));

        // Names a template may read: built-ins, variables, then captures as steps declare them.
        let mut known: HashSet<String> = template::BUILTINS.iter().map(|s| s.to_string()).collect();
        for (name, node) in &variables {
            self.templates_in(node, &known);
            known.insert(name.clone());
        }
        let steps = match get("steps") {
            Some(n) => self.steps(n, idp, profiles, &mut known, "`steps`"),
            None => {
                self.err(root.pos, "a scenario needs `steps`");
                Vec::new()
            }
        };
        let cleanup = match get("cleanup") {
            Some(n) => self.steps(n, idp, profiles, &mut known, "`cleanup`"),
            None => Vec::new(),
        };
        for key in ["settings", "directory", "mappings"] {
            if let Some(n) = get(key) {
                self.templates_in(n, &known);
            }
        }
        let scenario = Scenario {
            file: self.file.to_string(),
            pos: root.pos,
            name: name?,
            description,
            idp,
            profile,
            tags,
            requires,
            source,
            variables,
            settings: get("settings").cloned(),
            directory: get("directory").cloned(),
            mappings: get("mappings").cloned(),
            steps,
            cleanup,
            auto_cleanup,
            auth,
        };
        for (pos, msg) in profiles.validate_scenario(&scenario) {
            self.err(pos, msg);
        }
        let mut scenario = scenario;
        self.resolve_needs(&mut scenario, profiles);
        Some(scenario)
    }

    /// `auth: oauth-code` or `auth: { mode: oauth-code, expire_after: 3 }`.
    fn scenario_auth(&mut self, node: &Node) -> Option<ScenarioAuth> {
        use crate::transport::{AuthMode, Lapse};
        let (mode_node, lapse_node) = match &node.kind {
            NodeKind::Map(entries) => {
                self.check_keys(entries, AUTH_KEYS, "`auth`");
                match node.get("mode") {
                    Some(m) => (m, node.get("expire_after")),
                    None => {
                        self.err(node.pos, "`auth` needs a `mode`");
                        return None;
                    }
                }
            }
            _ => (node, None),
        };
        let name = self.string(mode_node, "`auth.mode`")?;
        let Some(mode) = AuthMode::from_name(&name) else {
            let names: Vec<&str> = AuthMode::ALL.iter().map(|m| m.name()).collect();
            let d = Diagnostic::new(
                self.file,
                mode_node.pos,
                format!("unknown auth mode `{name}`"),
            )
            .width(name.chars().count())
            .help(format!("expected one of: {}", names.join(", ")));
            self.diags.push(d);
            return None;
        };
        let lapse = match lapse_node {
            None => Lapse::default(),
            Some(n) => {
                let text = match &n.kind {
                    NodeKind::Int(i) => Some(i.to_string()),
                    _ => n.as_str().map(str::to_string),
                };
                match text.as_deref().map(Lapse::parse) {
                    Some(Ok(l)) => l,
                    Some(Err(e)) => {
                        self.err(n.pos, e);
                        Lapse::default()
                    }
                    None => {
                        self.err(
                            n.pos,
                            "`expire_after` takes a number of requests (3) or a duration (30s)",
                        );
                        Lapse::default()
                    }
                }
            }
        };
        Some(ScenarioAuth {
            mode,
            pos: mode_node.pos,
            lapse,
        })
    }

    /// `requires: [patch, filter]`: capability names as `/ServiceProviderConfig` spells them.
    fn requires(&mut self, node: Option<&Node>) -> Vec<String> {
        let Some(n) = node else {
            return Vec::new();
        };
        let NodeKind::Seq(items) = &n.kind else {
            self.err(
                n.pos,
                "`requires` must be a list of capabilities, e.g. [patch, filter]",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(name) = self.string(item, "a capability") else {
                continue;
            };
            match crate::scim::capabilities::canonical(&name) {
                Some(c) => out.push(c.to_string()),
                None => {
                    let d = Diagnostic::new(
                        self.file,
                        item.pos,
                        format!("unknown capability `{name}`"),
                    )
                    .width(name.chars().count())
                    .help(format!(
                        "expected one of: {}",
                        crate::scim::capabilities::CAPABILITIES.join(", ")
                    ));
                    self.diags.push(d);
                }
            }
        }
        out
    }

    fn steps(
        &mut self,
        node: &Node,
        idp: Idp,
        profiles: &dyn Profiles,
        known: &mut HashSet<String>,
        what: &str,
    ) -> Vec<Step> {
        let NodeKind::Seq(items) = &node.kind else {
            self.err(node.pos, format!("{what} must be a list of steps"));
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.step(item, idp, profiles, known))
            .collect()
    }

    fn step(
        &mut self,
        node: &Node,
        idp: Idp,
        profiles: &dyn Profiles,
        known: &mut HashSet<String>,
    ) -> Option<Step> {
        self.reads.clear();
        let entries = self.map(node, "a step")?;
        let declared = self.declared_needs(node.get("needs"));
        let name = node
            .get("name")
            .and_then(|n| self.string(n, "a step's `name`"));
        let action_keys: Vec<&(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| !STEP_KEYS.contains(&k.name.as_str()))
            .collect();
        if let Some(req) = node.get("request") {
            self.check_keys(entries, STEP_KEYS, "a request step");
            let request = self.request(req, node.get("expect"), node.get("capture"), known)?;
            let produces = request
                .capture
                .iter()
                .map(|c| Dep::Value(c.name.clone()))
                .collect();
            return Some(Step {
                name,
                pos: node.pos,
                kind: StepKind::Request(Box::new(request)),
                needs: self.read_needs(),
                produces,
                declared,
                verifies: Vec::new(),
            });
        }
        let Some((key, args)) = action_keys.first().map(|(k, v)| (k, v)) else {
            self.err(
                node.pos,
                "a step needs `request:` or an IdP action such as `assign: alice`",
            );
            return None;
        };
        let options: Vec<(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| k.name != key.name && k.name != "name" && k.name != "needs")
            .cloned()
            .collect();
        let action = ActionStep {
            name: key.name.clone(),
            name_pos: key.pos,
            args: args.clone(),
            options,
        };
        let known_actions = profiles.actions(idp);
        if !known_actions.iter().any(|a| *a == action.name) {
            let d = Diagnostic::new(
                self.file,
                key.pos,
                format!("unknown step `{}` for idp {}", key.name, idp.name()),
            )
            .width(key.name.chars().count());
            let d = match suggest(&key.name, known_actions) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None if known_actions.is_empty() => {
                    d.help("generic scenarios take `request:` steps; set `idp: okta` or `idp: entra` for IdP actions")
                }
                None => d.help(format!("expected `request:` or one of: {}", known_actions.join(", "))),
            };
            self.diags.push(d);
            return None;
        }
        self.templates_in(args, known);
        for (_, v) in &action.options {
            self.templates_in(v, known);
        }
        for (pos, msg) in profiles.validate_action(idp, &action) {
            self.err(pos, msg);
        }
        Some(Step {
            name,
            pos: node.pos,
            kind: StepKind::Action(action),
            needs: self.read_needs(),
            produces: Vec::new(),
            declared,
            verifies: Vec::new(),
        })
    }

    /// Works out, for every step, which earlier step produces each thing it needs: the latest one
    /// before it (steps, then cleanup steps, in order). IdP actions add what their profile says
    /// they need and produce. Needs that no step produces (built-ins, variables, what the profile
    /// sets up before the first step) are dropped: nothing in the run can fail to produce them.
    fn resolve_needs(&mut self, scenario: &mut Scenario, profiles: &dyn Profiles) {
        let deps: Vec<crate::scenario::Dependencies> = scenario
            .steps
            .iter()
            .chain(&scenario.cleanup)
            .map(|step| match &step.kind {
                StepKind::Action(a) => profiles.dependencies(scenario, a),
                StepKind::Request(_) => Default::default(),
            })
            .collect();
        let groups = scenario.directory_keys("groups");
        let users = scenario.directory_keys("users");
        // What earlier steps produce, and which steps act on which objects (need or produce
        // their ids), each with the step's position.
        let mut produced: Vec<(Dep, usize)> = Vec::new();
        let mut acted: Vec<(Dep, usize)> = Vec::new();
        let all = scenario.steps.iter_mut().chain(scenario.cleanup.iter_mut());
        for (i, (step, extra)) in all.zip(deps).enumerate() {
            let mut needs = std::mem::take(&mut step.needs);
            for (name, pos) in std::mem::take(&mut step.declared) {
                let captured = Dep::Value(name.clone());
                let dep = if produced.iter().any(|(d, _)| *d == captured) {
                    captured
                } else if groups.contains(&name) {
                    Dep::group(&name)
                } else if users.contains(&name) {
                    Dep::user(&name)
                } else {
                    self.err(
                        pos,
                        format!("`needs: {name}`: no earlier step captures `{name}`, and the directory has no user or group `{name}`"),
                    );
                    continue;
                };
                if !produced.iter().any(|(d, _)| *d == dep) {
                    self.err(
                        pos,
                        format!(
                            "`needs: {name}`: no earlier step provisions {}",
                            dep.describe()
                        ),
                    );
                    continue;
                }
                if !needs.iter().any(|n| n.dep == dep) {
                    needs.push(Need {
                        dep,
                        from: usize::MAX,
                    });
                }
            }
            for dep in extra.needs {
                if !needs.iter().any(|n| n.dep == dep) {
                    needs.push(Need {
                        dep,
                        from: usize::MAX,
                    });
                }
            }
            // A read-back GET checks the objects it reads; an action says what it checks.
            let reads_back = matches!(&step.kind, StepKind::Request(r) if r.method == "GET");
            let mut verifies = extra.verifies;
            if reads_back {
                verifies.extend(
                    needs
                        .iter()
                        .filter(|n| matches!(n.dep, Dep::Linked { .. }))
                        .map(|n| n.dep.clone()),
                );
            }
            step.verifies = verifies
                .into_iter()
                .filter_map(|dep| {
                    let from = acted.iter().rev().find(|(d, _)| *d == dep)?.1;
                    Some(Need { dep, from })
                })
                .collect();
            step.needs = needs
                .into_iter()
                .filter_map(|n| {
                    let from = produced.iter().rev().find(|(d, _)| *d == n.dep)?.1;
                    Some(Need { dep: n.dep, from })
                })
                .collect();
            for dep in extra.produces {
                if !step.produces.contains(&dep) {
                    step.produces.push(dep);
                }
            }
            // Checks do not act: a failed check is not a reason to skip the next one.
            if !reads_back && step.verifies.is_empty() {
                acted.extend(
                    step.needs
                        .iter()
                        .map(|n| &n.dep)
                        .chain(&step.produces)
                        .filter(|d| matches!(d, Dep::Linked { .. }))
                        .map(|d| (d.clone(), i)),
                );
            }
            produced.extend(step.produces.iter().map(|d| (d.clone(), i)));
        }
    }

    /// `needs: seed` or `needs: [seed, user_id]`: what a step needs that its templates do not
    /// show — typically what is on the server (a user an earlier step provisioned, which a
    /// list query counts on). Names are resolved once the scenario is read.
    fn declared_needs(&mut self, node: Option<&Node>) -> Vec<(String, Pos)> {
        let Some(node) = node else {
            return Vec::new();
        };
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_str() {
                Some(name) if !name.is_empty() => out.push((name.to_string(), item.pos)),
                _ => self.err(
                    item.pos,
                    "`needs` takes a directory key or a capture name, or a list of them",
                ),
            }
        }
        out
    }

    /// What the step's templates read from earlier steps: captures by name, and the server
    /// ids of directory objects (`users.alice.id`). Which earlier step produces each is worked
    /// out once the whole scenario is read (`resolve_needs`); built-ins and variables have no
    /// producer and drop out there.
    fn read_needs(&mut self) -> Vec<Need> {
        let mut reads = std::mem::take(&mut self.reads);
        reads.sort();
        reads.dedup();
        let mut out: Vec<Need> = Vec::new();
        for path in reads {
            let mut parts = path.split('.');
            let Some(head) = parts.next() else { continue };
            let dep = match head {
                // Any attribute of a directory object: a step that reads `users.alice.userName`
                // is about the user an earlier step provisioned (a read-back, a lookup), even
                // when the value itself was known before the run.
                "users" | "groups" => match parts.next() {
                    Some(key) if head == "users" => Dep::user(key),
                    Some(key) => Dep::group(key),
                    None => continue,
                },
                _ if template::BUILTINS.contains(&head) => continue,
                _ => Dep::Value(head.to_string()),
            };
            if !out.iter().any(|n| n.dep == dep) {
                out.push(Need {
                    dep,
                    from: usize::MAX,
                });
            }
        }
        out
    }

    fn request(
        &mut self,
        node: &Node,
        expect: Option<&Node>,
        capture: Option<&Node>,
        known: &mut HashSet<String>,
    ) -> Option<RequestStep> {
        let entries = self.map(node, "`request`")?;
        self.check_keys(entries, REQUEST_KEYS, "a request");
        let method = match node.get("method") {
            Some(m) => {
                let text = self.string(m, "`method`")?;
                let upper = text.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    self.err(m.pos, format!("unknown HTTP method `{text}`"));
                }
                upper
            }
            None => {
                self.err(node.pos, "a request needs a `method`");
                return None;
            }
        };
        let path_node = match node.get("path") {
            Some(p) => p,
            None => {
                self.err(
                    node.pos,
                    "a request needs a `path` (relative to the target URL, e.g. /Users)",
                );
                return None;
            }
        };
        let path = self.string(path_node, "`path`")?;
        self.request_target(&path, path_node.pos);
        self.template(&path, path_node.pos, known);
        let mut headers = Vec::new();
        if let Some(h) = node.get("headers") {
            if let Some(entries) = self.map(h, "`headers`") {
                for (k, v) in entries {
                    // RFC 9110 §5.1: a field name is a token; a value never holds a line break.
                    let token =
                        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
                    if k.name.is_empty() || !k.name.chars().all(token) {
                        let d = Diagnostic::new(self.file, k.pos, format!("`{}` is not an HTTP header name", k.name))
                            .width(k.name.chars().count().max(1))
                            .help("header names are letters, digits and -_.!#$%&'*+^`|~ (no spaces or colons)");
                        self.diags.push(d);
                        continue;
                    }
                    if let Some(value) = self.string(v, "a header value") {
                        if value.contains(['\r', '\n']) {
                            self.err(
                                v.pos,
                                format!("the value of header `{}` contains a line break", k.name),
                            );
                            continue;
                        }
                        // RFC 9110 §5.5: no control characters but HTAB in a field value.
                        if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
                            self.err(
                                v.pos,
                                format!(
                                    "the value of header `{}` contains the control character {}",
                                    k.name,
                                    crate::support::text::char_name(c)
                                ),
                            );
                            continue;
                        }
                        self.template(&value, v.pos, known);
                        headers.push((k.name.clone(), value));
                    }
                }
            }
        }
        let body = node.get("body").cloned();
        if let Some(b) = &body {
            self.templates_in(b, known);
        }
        let raw_body = node
            .get("raw_body")
            .and_then(|n| self.string(n, "`raw_body`"));
        if let (Some(raw), Some(n)) = (&raw_body, node.get("raw_body")) {
            self.template(raw, n.pos, known);
            if body.is_some() {
                self.err(n.pos, "a request has `body` or `raw_body`, not both");
            }
        }
        // `none`: no Authorization header; `invalid`: one that is not the run's credential (a
        // recorded request that carried another credential, which the server refused).
        let (no_auth, invalid_auth) = match node.get("auth") {
            None => (false, false),
            Some(n) if n.as_str() == Some("none") || matches!(n.kind, NodeKind::Bool(false)) => {
                (true, false)
            }
            Some(n) if n.as_str() == Some("invalid") => (false, true),
            Some(n) => {
                self.err(
                    n.pos,
                    "`auth` takes `none` (send no Authorization header) or `invalid` (send one that is not the run's credential)",
                );
                (false, false)
            }
        };
        let expect = match expect {
            Some(e) => self.expect(e, known),
            None => Expect::default(),
        };
        let capture = match capture {
            Some(c) => self.captures(c, known),
            None => Vec::new(),
        };
        Some(RequestStep {
            method,
            path,
            path_pos: path_node.pos,
            headers,
            body,
            raw_body,
            no_auth,
            invalid_auth,
            expect,
            capture,
        })
    }

    pub(crate) fn expect(&mut self, node: &Node, known: &HashSet<String>) -> Expect {
        let mut out = Expect::default();
        let Some(entries) = self.map(node, "`expect`") else {
            return out;
        };
        self.check_keys(entries, EXPECT_KEYS, "`expect`");
        if let Some(s) = node.get("status") {
            let items: Vec<&Node> = match &s.kind {
                NodeKind::Int(_) => vec![s],
                NodeKind::Seq(items) => items.iter().collect(),
                _ => Vec::new(),
            };
            if items.is_empty() {
                self.err(
                    s.pos,
                    "`status` takes an HTTP status code or a list of them, e.g. 201 or [200, 204]",
                );
            }
            let (mut codes, mut bad) = (Vec::new(), false);
            for item in items {
                bad |= !matches!(item.kind, NodeKind::Int(100..=599));
                match item.kind {
                    NodeKind::Int(c) if (100..=599).contains(&c) => codes.push(c as u16),
                    NodeKind::Int(c) => self.err(
                        item.pos,
                        format!("`status` {c} is not an HTTP status code (100 to 599)"),
                    ),
                    _ => self.err(
                        item.pos,
                        format!(
                            "`status` takes HTTP status codes (integers 100 to 599), found {}",
                            item.kind_name()
                        ),
                    ),
                }
            }
            if !codes.is_empty() && !bad {
                out.status = Some(StatusExpect { codes, pos: s.pos });
            }
        }
        if let Some(h) = node.get("headers") {
            if let Some(entries) = self.map(h, "expected `headers`") {
                for (k, v) in entries {
                    if let Some(pattern) = self.pattern(v, known) {
                        out.headers.push(HeaderExpect {
                            name: k.name.clone(),
                            pattern,
                        });
                    }
                }
            }
        }
        if let Some(b) = node.get("body") {
            out.body = self.pattern(b, known);
        }
        if let Some(r) = node.get("rule") {
            out.rules = self.expect_rules(r);
        }
        out
    }

    /// `rule: id` or `rule: { status: id, headers: id, body: id }`; every id must be in the
    /// rule catalogue, so a typo is a load-time error, not a finding without a consequence.
    fn expect_rules(&mut self, node: &Node) -> crate::scenario::ExpectRules {
        let mut out = crate::scenario::ExpectRules::default();
        let known_rule = |p: &mut Self, n: &Node| -> Option<String> {
            let Some(id) = n.as_str() else {
                p.err(
                    n.pos,
                    "`rule` takes a rule id from docs/RULES.md, e.g. rfc7644.create.uniqueness",
                );
                return None;
            };
            if crate::check::catalogue::rule(id).is_none() {
                p.err(
                    n.pos,
                    format!("`{id}` is not a rule idpsim knows (see docs/RULES.md)"),
                );
                return None;
            }
            Some(id.to_string())
        };
        match &node.kind {
            NodeKind::Str(_) => {
                let id = known_rule(self, node);
                out.status = id.clone();
                out.headers = id.clone();
                out.body = id;
            }
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    let id = known_rule(self, v);
                    match k.name.as_str() {
                        "status" => out.status = id,
                        "headers" => out.headers = id,
                        "body" => out.body = id,
                        other => self.err(
                            k.pos,
                            format!(
                                "unknown key `{other}` in `rule` (expected status, headers, body)"
                            ),
                        ),
                    }
                }
            }
            _ => self.err(
                node.pos,
                "`rule` takes a rule id, or `{ status: id, headers: id, body: id }`",
            ),
        }
        out
    }

    fn captures(&mut self, node: &Node, known: &mut HashSet<String>) -> Vec<Capture> {
        let mut out = Vec::new();
        let Some(entries) = self.map(node, "`capture`") else {
            return out;
        };
        for (k, v) in entries {
            let from = match (&v.kind, v.get("header")) {
                (NodeKind::Str(s), _) if s.starts_with('/') || s.is_empty() => {
                    Some(CaptureFrom::Pointer(s.clone()))
                }
                (NodeKind::Str(s), _) if s == "status" => Some(CaptureFrom::Status),
                (_, Some(h)) => h.as_str().map(|h| CaptureFrom::Header(h.to_string())),
                _ => None,
            };
            match from {
                Some(from) => {
                    known.insert(k.name.clone());
                    out.push(Capture {
                        name: k.name.clone(),
                        pos: k.pos,
                        from,
                    });
                }
                None => {
                    let d = Diagnostic::new(
                        self.file,
                        v.pos,
                        format!("cannot capture `{}` from this", k.name),
                    )
                    .help("use a JSON pointer such as `/id`, `{ header: Location }` or `status`");
                    self.diags.push(d);
                }
            }
        }
        out
    }

    fn pattern(&mut self, node: &Node, known: &HashSet<String>) -> Option<Pattern> {
        let pos = node.pos;
        let kind = match node.tag.as_deref() {
            None => match &node.kind {
                NodeKind::Map(entries) => PatternKind::Object {
                    fields: entries
                        .iter()
                        .filter_map(|(k, v)| {
                            // Keys are rendered too when the answer is matched.
                            self.template(&k.name, k.pos, known);
                            self.pattern(v, known).map(|p| (k.name.clone(), p))
                        })
                        .collect(),
                    exact: false,
                },
                NodeKind::Seq(items) => PatternKind::Array {
                    items: items
                        .iter()
                        .filter_map(|i| self.pattern(i, known))
                        .collect(),
                },
                NodeKind::Str(s) => {
                    self.template(s, pos, known);
                    PatternKind::Literal(node.to_json())
                }
                _ => PatternKind::Literal(node.to_json()),
            },
            Some("!exact") => {
                let untagged = Node {
                    tag: None,
                    ..node.clone()
                };
                let inner = self.pattern(&untagged, known)?;
                match inner.kind {
                    PatternKind::Object { fields, .. } => PatternKind::Object {
                        fields,
                        exact: true,
                    },
                    other => other,
                }
            }
            Some("!type") => match node.as_str().and_then(JsonType::from_name) {
                Some(t) => PatternKind::Type(t),
                None => {
                    self.err(pos, "`!type` takes one of: string, integer, number, boolean, object, array, null");
                    return None;
                }
            },
            Some("!regex") => {
                let Some(re) = node.as_str() else {
                    self.err(pos, "`!regex` takes a string");
                    return None;
                };
                if !template::is_template(re) {
                    if let Err(e) = regex::Regex::new(re) {
                        // regex's own message draws its own carets; its last line is the reason.
                        let text = e.to_string();
                        let reason = text
                            .lines()
                            .last()
                            .unwrap_or("")
                            .trim_start_matches("error: ")
                            .to_string();
                        self.err(pos, format!("invalid regular expression: {reason}"));
                        return None;
                    }
                }
                self.template(re, pos, known);
                PatternKind::Regex(re.to_string())
            }
            Some("!any") => PatternKind::Any,
            Some("!absent") => PatternKind::Absent,
            Some("!contains") => {
                let untagged = Node {
                    tag: None,
                    ..node.clone()
                };
                PatternKind::Contains(Box::new(self.pattern(&untagged, known)?))
            }
            Some("!first") => {
                let untagged = Node {
                    tag: None,
                    ..node.clone()
                };
                PatternKind::First(Box::new(self.pattern(&untagged, known)?))
            }
            Some("!ci") => match node.as_str() {
                Some(s) => {
                    self.template(s, pos, known);
                    PatternKind::CaseInsensitive(s.to_string())
                }
                None => {
                    self.err(pos, "`!ci` takes a string");
                    return None;
                }
            },
            Some(other) => {
                let d = Diagnostic::new(self.file, pos, format!("unknown matcher `{other}`"))
                    .width(other.chars().count())
                    .help("matchers: !exact, !type, !regex, !any, !absent, !contains, !first, !ci");
                self.diags.push(d);
                return None;
            }
        };
        Some(Pattern { pos, kind })
    }

    /// Checks every template in a node tree, keys included: bodies, variables and the
    /// directory are rendered key and value alike.
    fn templates_in(&mut self, node: &Node, known: &HashSet<String>) {
        match &node.kind {
            NodeKind::Str(s) => self.template(s, node.pos, known),
            NodeKind::Seq(items) => items.iter().for_each(|i| self.templates_in(i, known)),
            NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
                self.template(&k.name, k.pos, known);
                self.templates_in(v, known);
            }),
            _ => {}
        }
    }

    /// A request target goes on the request line as written: characters that cannot be in
    /// one (RFC 9112 §3.2, RFC 3986 §2) would fail only once the run is under way, so they
    /// are found here, outside the template tags (what a template renders is the run's).
    fn request_target(&mut self, path: &str, pos: Pos) {
        let literal = template::literal_text(path);
        let Some(c) = literal
            .chars()
            .find(|c| c.is_control() || matches!(c, ' ' | '"' | '<' | '>' | '`'))
        else {
            return;
        };
        let what = match c {
            '\r' | '\n' => "a line break".to_string(),
            ' ' => "a space".to_string(),
            c if c.is_control() => format!(
                "the control character {}",
                crate::support::text::char_name(c)
            ),
            c => format!("`{c}`"),
        };
        let at = if c.is_control() {
            pos
        } else {
            self.locate(pos, &c.to_string())
        };
        let encoded: String = c.to_string().bytes().map(|b| format!("%{b:02X}")).collect();
        let d = Diagnostic::new(
            self.file,
            at,
            format!("`path` contains {what}, which cannot be sent in a request line"),
        )
        .help(format!(
            "percent-encode it as {encoded} (or render it with `| urlencode` in a template)"
        ));
        self.diags.push(d);
    }

    /// Where `word` appears on the node's line, at or after the node's column; the node's own
    /// position when it spans lines or the word is not on that line.
    fn locate(&self, pos: Pos, word: &str) -> Pos {
        let Some(line) = self.lines.get(pos.line.saturating_sub(1) as usize) else {
            return pos;
        };
        let start = line
            .char_indices()
            .nth(pos.col.saturating_sub(1) as usize)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        match line[start..].find(word) {
            Some(off) => Pos {
                line: pos.line,
                col: pos.col + line[start..start + off].chars().count() as u32,
            },
            None => pos,
        }
    }

    fn template(&mut self, src: &str, pos: Pos, known: &HashSet<String>) {
        self.reads.extend(template::paths(src));
        let undefined = match template::analyze(src) {
            Ok(names) => {
                let mut names: Vec<_> = names.into_iter().filter(|n| !known.contains(n)).collect();
                names.sort();
                // Rendering a template that reads an undefined name would only say so again.
                let undefined = !names.is_empty();
                for name in names {
                    let at = self.locate(pos, &name);
                    let d = Diagnostic::new(self.file, at, format!("undefined variable `{name}`"))
                        .width(name.chars().count())
                        .label("not defined")
                        .help(
                        "declare it under `variables:`, capture it in an earlier step, or use a built-in: run, users, groups, base_url, uuid()",
                    );
                    self.diags.push(d);
                }
                undefined
            }
            Err(e) => {
                self.err(pos, format!("invalid template: {e}"));
                return;
            }
        };
        if self.check_fuel == 0 || undefined {
            return;
        }
        let trial = template::trial(src, known);
        if let Some(e) = trial.error {
            self.err(pos, format!("invalid template: {e}"));
        }
        self.check_fuel = self.check_fuel.saturating_sub(trial.fuel);
        if self.check_fuel == 0 {
            self.err(
                pos,
                format!(
                    "checking the templates of this file takes more than {} template steps in \
                     all, idpsim's limit for one file; this template is where it ran out",
                    template::FILE_CHECK_FUEL
                ),
            );
        }
    }
}

/// The closest allowed word, for "did you mean" help.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses a body matcher outside a request step (IdP actions' state checks use it).
pub fn parse_pattern(
    file: &str,
    node: &Node,
    known: &HashSet<String>,
) -> Result<Pattern, Vec<Diagnostic>> {
    let mut p = Parser::new(file, Vec::new());
    match p.pattern(node, known) {
        Some(pattern) if p.diags.is_empty() => Ok(pattern),
        _ => Err(p.diags),
    }
}

/// Parses an `expect:` block outside a request step (IdP actions use it too).
pub fn parse_expect(
    file: &str,
    node: &Node,
    known: &HashSet<String>,
) -> Result<Expect, Vec<Diagnostic>> {
    let mut p = Parser::new(file, Vec::new());
    let e = p.expect(node, known);
    if p.diags.is_empty() {
        Ok(e)
    } else {
        Err(p.diags)
    }
}
