//! Table-driven tests of the scenario grammar (`parse`): each row is one file and the problems
//! the loader must report for it, by `line:col` and message. The grammar is handed a catalogue
//! with no IdP profiles (the IdPs' own arguments are the profiles' to test), which is also what
//! keeps this module's imports one-way.

use super::parse::parse_scenario;
use super::{ActionStep, Idp, Profiles, Scenario};
use crate::support::diagnostic::Pos;

/// No profiles, one action (`wait`) for every IdP, arguments always fine.
struct OneAction;

impl Profiles for OneAction {
    fn profiles(&self, _: Idp) -> &'static [&'static str] {
        &[]
    }
    fn actions(&self, idp: Idp) -> &'static [&'static str] {
        match idp {
            Idp::Generic => &[],
            _ => &["wait"],
        }
    }
    fn validate_action(&self, _: Idp, _: &ActionStep) -> Vec<(Pos, String)> {
        Vec::new()
    }
    fn validate_scenario(&self, _: &Scenario) -> Vec<(Pos, String)> {
        Vec::new()
    }
    fn action_options(&self, _: Idp, _: &str) -> Option<&'static [&'static str]> {
        None
    }
    fn settings_keys(&self, _: Idp) -> Option<&'static [&'static str]> {
        None
    }
}

/// `line:col message` of every problem, in the order reported.
fn problems(text: &str) -> Vec<String> {
    match parse_scenario("t.yaml", text, &OneAction) {
        Ok(_) => Vec::new(),
        Err(diags) => diags
            .iter()
            .map(|d| format!("{}:{} {}", d.pos.line, d.pos.col, d.message))
            .collect(),
    }
}

const LIST: &str = "  - request: { method: GET, path: /Users }\n";

/// (behaviour, file text, `line:col` and a piece of each message, in order)
type FileRow<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

#[test]
fn scenario_files_by_problem() {
    // (behaviour, file text, `line:col` and a piece of each message, in order)
    let rows: Vec<FileRow> = vec![
        (
            "a minimal generic scenario is valid",
            format!("name: ok\nsteps:\n{LIST}"),
            vec![],
        ),
        (
            "a misspelt top-level key",
            format!("nmae: x\nname: ok\nsteps:\n{LIST}"),
            vec![("1:1", "nmae")],
        ),
        (
            "no name",
            format!("steps:\n{LIST}"),
            vec![("1:1", "needs a `name`")],
        ),
        (
            "an unsupported format version",
            format!("version: 2\nname: ok\nsteps:\n{LIST}"),
            vec![("1:10", "version")],
        ),
        (
            "an unknown idp",
            format!("name: ok\nidp: pingone\nsteps:\n{LIST}"),
            vec![("2:6", "unknown `idp`")],
        ),
        (
            "a step with neither request nor action",
            "name: ok\nsteps:\n  - name: nothing\n".to_string(),
            vec![("3:5", "a step needs `request:`")],
        ),
        (
            "an unknown HTTP method",
            "name: ok\nsteps:\n  - request: { method: FETCH, path: /Users }\n".to_string(),
            vec![("3:24", "FETCH")],
        ),
        (
            "an undefined template variable",
            "name: ok\nsteps:\n  - request: { method: GET, path: \"/Users/{{ nope }}\" }\n"
                .to_string(),
            vec![("3:46", "nope")],
        ),
        (
            "a capability that does not exist",
            format!("name: ok\nrequires: [pach]\nsteps:\n{LIST}"),
            vec![("2:12", "pach")],
        ),
        (
            "an IdP action in a generic scenario",
            "name: ok\nsteps:\n  - wait: 1\n".to_string(),
            vec![("3:5", "unknown step `wait` for idp generic")],
        ),
        (
            "an IdP action its IdP knows",
            "name: ok\nidp: okta\nsteps:\n  - wait: 1\n".to_string(),
            vec![],
        ),
        (
            "every problem is reported, in file order",
            "nmae: x\nsteps:\n  - name: nothing\n".to_string(),
            vec![
                ("1:1", "nmae"),
                ("1:1", "needs a `name`"),
                ("3:5", "a step needs `request:`"),
            ],
        ),
        (
            "not YAML at all",
            "name: [unclosed\n".to_string(),
            vec![("2:1", "expected")],
        ),
    ];
    let mut wrong = Vec::new();
    for (behaviour, text, expected) in rows {
        let got = problems(&text);
        let fits = got.len() == expected.len()
            && got
                .iter()
                .zip(&expected)
                .all(|(g, (at, says))| g.starts_with(at) && g.contains(says));
        if !fits {
            wrong.push(format!("{behaviour}: got {got:#?}, want {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
