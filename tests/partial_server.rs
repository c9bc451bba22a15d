//! Answers of a real partial SCIM server, played over loopback by a small stateful wiremock
//! responder: django-scim2 0.23's default adapters (PyPI `django-scim2`), as triaged in
//! `/work/wt/notes/triage3.md`. It stores users and groups, but
//! - a group filter matches nothing (its `GroupFilterQuery` maps no attribute), while a plain
//!   list shows every group and a duplicate `displayName` is a 409;
//! - a path-less PATCH `replace` of a group (Okta's rename) is 501 with `"detail": ""`;
//! - a user create keeps only the core attributes its model has (no roles, no title);
//! - a group create ignores `members`, and a member that is not a user fails the whole PATCH
//!   with 400.
//!
//! Each test checks that idpsim reports such a server's fault once, under the rule that names
//! its cause, with a message that does not dangle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

mod common;
use common::run_async as idpsim;

const TOKEN: &str = "partial-server-token";

#[derive(Default)]
struct Store {
    next: usize,
    users: BTreeMap<String, Value>,
    groups: BTreeMap<String, Value>,
}

/// The django-scim2-like server. `group_filter_after` > 0: group filters match again from that
/// request on (a group created between Entra's lookup and its create: a race, not a filter bug).
struct Partial {
    store: Mutex<Store>,
    group_filters: AtomicUsize,
    group_filter_after: usize,
}

impl Partial {
    fn new(group_filter_after: usize) -> Self {
        Partial {
            store: Mutex::new(Store::default()),
            group_filters: AtomicUsize::new(0),
            group_filter_after,
        }
    }
}

fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

fn list(items: Vec<Value>) -> ResponseTemplate {
    scim(
        200,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": items.len(), "itemsPerPage": items.len(), "startIndex": 1,
            "Resources": items,
        }),
    )
}

fn error(status: u16, detail: &str) -> ResponseTemplate {
    // django-scim2's error body: `status` as a number, `detail` possibly empty.
    scim(
        status,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail, "status": status}),
    )
}

/// `http://host:port/scim/v2/`, for `Location` and `meta.location`.
fn base(req: &Request) -> String {
    format!("{}://{}/scim/v2/", req.url.scheme(), req.url.authority())
}

/// The quoted value of a `displayName eq "…"` filter.
fn filter_value(filter: &str) -> Option<String> {
    let start = filter.find('"')? + 1;
    let end = filter.rfind('"')?;
    (end > start).then(|| filter[start..end].replace("\\\"", "\""))
}

impl Respond for Partial {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let Some(rest) = req.url.path().strip_prefix("/scim/v2/") else {
            return error(404, "no such endpoint");
        };
        let mut parts = rest.splitn(2, '/');
        let collection = parts.next().unwrap_or("");
        let id = parts.next().map(str::to_string);
        let filter: Option<String> = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "filter")
            .map(|(_, v)| v.into_owned());
        let start: usize = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "startIndex")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1);
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let mut store = self.store.lock().expect("store");
        match (req.method.as_str(), collection, id) {
            ("GET", "ServiceProviderConfig", _) => scim(
                200,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                       "patch": {"supported": true}, "filter": {"supported": false, "maxResults": 50}}),
            ),
            ("GET", "Users", None) => {
                let items: Vec<Value> = match &filter {
                    Some(f) => {
                        let v = filter_value(f).unwrap_or_default();
                        store
                            .users
                            .values()
                            .filter(|u| u["userName"].as_str() == Some(v.as_str()))
                            .cloned()
                            .collect()
                    }
                    None if start > 1 => Vec::new(),
                    None => store.users.values().cloned().collect(),
                };
                list(items)
            }
            ("GET", "Groups", None) => {
                let items: Vec<Value> = match &filter {
                    Some(f) => {
                        let n = self.group_filters.fetch_add(1, Ordering::SeqCst);
                        if self.group_filter_after == 0 || n < self.group_filter_after {
                            Vec::new()
                        } else {
                            let v = filter_value(f).unwrap_or_default();
                            store
                                .groups
                                .values()
                                .filter(|g| g["displayName"].as_str() == Some(v.as_str()))
                                .cloned()
                                .collect()
                        }
                    }
                    None if start > 1 => Vec::new(),
                    None => store.groups.values().cloned().collect(),
                };
                list(items)
            }
            ("POST", "Users", None) => {
                store.next += 1;
                let id = store.next.to_string();
                // What django-scim2's default user adapter keeps: everything else (roles,
                // title, extensions, the password in the answer) is dropped without a word.
                let keep = [
                    "schemas",
                    "userName",
                    "name",
                    "displayName",
                    "emails",
                    "active",
                    "externalId",
                ];
                let mut user = json!({});
                for k in keep {
                    if let Some(v) = body.get(k) {
                        user[k] = v.clone();
                    }
                }
                user["id"] = json!(id);
                user["meta"] =
                    json!({"resourceType": "User", "location": format!("{}Users/{id}", base(req))});
                store.users.insert(id.clone(), user.clone());
                scim(201, user).insert_header("Location", format!("{}Users/{id}", base(req)))
            }
            ("POST", "Groups", None) => {
                let name = body["displayName"].as_str().unwrap_or("").to_string();
                if store.groups.values().any(|g| g["displayName"] == name) {
                    return error(409, "UNIQUE constraint failed: app_group.name");
                }
                store.next += 1;
                let id = store.next.to_string();
                let location = format!("{}Groups/{id}", base(req));
                let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                   "id": id, "displayName": name, "members": [],
                                   "meta": {"resourceType": "Group", "location": location}});
                store.groups.insert(id, group.clone());
                scim(201, group).insert_header("Location", location)
            }
            ("GET", "Users", Some(id)) => match store.users.get(&id) {
                Some(u) => scim(200, u.clone()),
                None => error(404, &format!("Resource {id} not found")),
            },
            ("GET", "Groups", Some(id)) => match store.groups.get(&id) {
                Some(g) => scim(200, g.clone()),
                None => error(404, &format!("Resource {id} not found")),
            },
            ("PATCH", "Users", Some(id)) => match store.users.get(&id) {
                Some(u) => scim(200, u.clone()),
                None => error(404, &format!("Resource {id} not found")),
            },
            ("PATCH", "Groups", Some(id)) => {
                let ops = body["Operations"].as_array().cloned().unwrap_or_default();
                let pathless = ops.iter().any(|op| op.get("path").is_none());
                if !store.groups.contains_key(&id) {
                    return error(404, &format!("Resource {id} not found"));
                }
                if pathless {
                    return error(501, "");
                }
                // Members are users: a group id as a member (Entra's nested group) is refused,
                // and the whole PATCH with it.
                let unknown = ops
                    .iter()
                    .flat_map(|op| op["value"].as_array().cloned().unwrap_or_default())
                    .any(|m| {
                        m["value"]
                            .as_str()
                            .is_none_or(|v| !store.users.contains_key(v))
                    });
                let adds = ops.iter().any(|op| {
                    op["op"]
                        .as_str()
                        .is_some_and(|o| o.eq_ignore_ascii_case("add"))
                });
                if adds && unknown {
                    return error(400, "Can not add a non-existent user to group");
                }
                let Some(group) = store.groups.get_mut(&id) else {
                    return error(404, &format!("Resource {id} not found"));
                };
                for op in &ops {
                    let add = op["op"]
                        .as_str()
                        .is_some_and(|o| o.eq_ignore_ascii_case("add"));
                    if add && op["path"] == "members" {
                        let members = group["members"].as_array_mut().expect("members");
                        for m in op["value"].as_array().into_iter().flatten() {
                            members.push(json!({"value": m["value"]}));
                        }
                    }
                }
                scim(200, group.clone())
            }
            ("DELETE", "Users", Some(id)) => {
                store.users.remove(&id);
                ResponseTemplate::new(204)
            }
            ("DELETE", "Groups", Some(id)) => {
                store.groups.remove(&id);
                ResponseTemplate::new(204)
            }
            _ => error(501, ""),
        }
    }
}

async fn serve(server: Partial) -> wiremock::MockServer {
    let mock = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path_regex("^/scim/v2/"))
        .respond_with(server)
        .mount(&mock)
        .await;
    mock
}

async fn run(mock: &wiremock::MockServer, scenarios: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(
        scenarios
            .iter()
            .map(|s| common::root().join(s).display().to_string()),
    );
    args.extend([
        "--target".into(),
        format!("{}/scim/v2", mock.uri()),
        "--token".into(),
        TOKEN.into(),
        "--time-scale".into(),
        "0".into(),
        "--report-json".into(),
        report.display().to_string(),
    ]);
    let out = idpsim(args).await;
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(&text).expect("report is JSON")
}

fn problems(report: &Value) -> Vec<Value> {
    report["problems"].as_array().cloned().unwrap_or_default()
}

/// The rule of every problem, with its severity: `rule:severity`.
fn problem_rules(report: &Value) -> Vec<String> {
    problems(report)
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["rule"].as_str().unwrap_or(""),
                p["severity"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn messages(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in report["scenarios"].as_array().into_iter().flatten() {
        for st in s["steps"].as_array().into_iter().flatten() {
            for f in st["findings"].as_array().into_iter().flatten() {
                out.push(f["message"].as_str().unwrap_or("").to_string());
            }
        }
    }
    out
}

/// Okta's rename PATCH answered 501 with an empty `detail`: one problem, whether Okta's own
/// group push sent it or the support scenario replayed it, and no message ends in "501: ".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_okta_rename_is_one_problem_with_a_clean_message() {
    let mock = serve(Partial::new(0)).await;
    let report = run(
        &mock,
        &[
            "scenarios/okta/quirk-group-rename.yaml",
            "scenarios/support/okta-group-out-of-sync-push-now.yaml",
        ],
    )
    .await;
    let rename: Vec<Value> = problems(&report)
        .into_iter()
        .filter(|p| p["rule"].as_str().is_some_and(|r| r.contains("rename")))
        .collect();
    assert_eq!(rename.len(), 1, "{rename:#?}");
    assert_eq!(rename[0]["rule"], "okta.group.rename-rejected");
    assert_eq!(rename[0]["severity"], "error");
    assert_eq!(rename[0]["scenarios"], 2, "{:#?}", rename[0]["places"]);
    for m in messages(&report) {
        assert!(!m.trim_end().ends_with(':'), "dangling detail: {m}");
        assert!(!m.contains("501: "), "an empty detail quoted: {m}");
    }
}

/// Entra matches a group the app's admin created by `displayName`; the server's group filter
/// misses it and the create is a 409. The cause is the filter: rfc7644.filter.missed, naming
/// the group the server holds — not a conflict of unknown cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_create_conflict_after_a_filter_miss_is_the_filter() {
    let mock = serve(Partial::new(0)).await;
    let report = run(
        &mock,
        &["scenarios/entra/group-member-removal-default.yaml"],
    )
    .await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"rfc7644.filter.missed:error".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r.starts_with("entra.create.conflict")),
        "{rules:?}"
    );
    let missed = messages(&report)
        .into_iter()
        .find(|m| m.contains("does not return it"))
        .expect("the cause in the message");
    assert!(
        missed.contains("the server holds group displayName \"Engineering "),
        "{missed}"
    );
}

/// The same 409 when the group filter does find the group on idpsim's second look: the group
/// appeared between Entra's lookup and its create, which is no filter fault. It stays
/// entra.create.conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_the_second_filter_finds_stays_a_conflict() {
    // Test Connection is not in this scenario: the first group filter is Entra's match.
    let mock = serve(Partial::new(1)).await;
    let report = run(
        &mock,
        &["scenarios/entra/group-member-removal-default.yaml"],
    )
    .await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"entra.create.conflict:error".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r.starts_with("rfc7644.filter.missed")),
        "{rules:?}"
    );
}

/// Entra adds a nested group's id as a member; the server refuses the whole PATCH (400). The
/// membership read that follows shows that refusal again: one problem, entra.patch.add-members,
/// and no "member-add not applied" beside it because the group filter misses the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_nested_member_is_one_problem() {
    let mock = serve(Partial::new(0)).await;
    let report = run(
        &mock,
        &["scenarios/support/nested-group-without-nesting.yaml"],
    )
    .await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"entra.patch.add-members:error".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules
            .iter()
            .any(|r| r.contains("not-applied") || r.contains("filter")),
        "{rules:?}"
    );
    let add = problems(&report)
        .into_iter()
        .find(|p| p["rule"] == "entra.patch.add-members")
        .expect("the problem");
    let steps: Vec<i64> = add["places"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["step"].as_i64())
        .collect();
    assert_eq!(
        steps,
        [6, 7, 8],
        "the refused PATCH, the read-back, the audit"
    );
}

/// A group create whose `members` the server drops: neither IdP relies on them (Okta PATCH-adds
/// the members right after the create, Entra creates groups empty), so it is a warning under its
/// own rule, and the membership steps that follow still run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_dropped_on_create_warn_and_the_scenario_goes_on() {
    let mock = serve(Partial::new(0)).await;
    let report = run(&mock, &["scenarios/generic/groups.yaml"]).await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"rfc7644.create.members-not-stored:warning".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules
            .iter()
            .any(|r| r.starts_with("rfc7644.create.not-stored")),
        "{rules:?}"
    );
    let steps = report["scenarios"][0]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let add_bob = steps
        .iter()
        .find(|s| s["name"] == "add bob")
        .expect("the add step");
    assert_eq!(add_bob["outcome"], "passed", "{add_bob:#}");
}

/// Entra creates a user with an app role; the server answers 201 and drops `roles`. The read-back
/// names the create, not an unexplained drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_the_create_dropped_is_the_create() {
    let mock = serve(Partial::new(0)).await;
    let report = run(&mock, &["scenarios/entra/app-role-single-default.yaml"]).await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"rfc7644.create.not-stored:error".to_string()),
        "{rules:?}"
    );
    assert!(!rules.iter().any(|r| r.starts_with("state.")), "{rules:?}");
    assert!(
        messages(&report).iter().any(|m| m
            == "the server acknowledged the create of user `ada` but holds a different `roles`"),
        "{:?}",
        messages(&report)
    );
}

/// The same read-back on an attribute the create never sent: nothing says the create dropped
/// it, so it stays unexplained drift (`state.attribute`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_the_create_never_sent_stays_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("drift.yaml");
    std::fs::write(
        &file,
        r#"version: 1
name: an attribute the create never sent
idp: entra
mappings:
  user:
    userName: "[mail]"
    displayName: "[displayName]"
directory:
  users:
    ada: { mail: "ada-{{ run }}@example.com", displayName: Ada }
steps:
  - provision: ada
  - expect_server: { user: ada, title: Engineer }
"#,
    )
    .expect("write");
    let mock = serve(Partial::new(0)).await;
    let report = run(&mock, &[file.to_str().expect("utf-8 path")]).await;
    let rules = problem_rules(&report);
    assert_eq!(rules, ["state.attribute:error"], "{rules:?}");
}

/// Okta pushes a group the app already has; its `displayName eq` lookup misses it on this
/// server and the POST is a 409. As for Entra, the cause is the filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okta_group_conflict_after_a_filter_miss_is_the_filter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("okta-push.yaml");
    std::fs::write(
        &file,
        r#"version: 1
name: an Okta group push whose lookup misses the team the app already has
idp: okta
directory:
  users:
    ann: { login: "ann-{{ run }}@example.com", firstName: Ann, lastName: Lee, email: "ann-{{ run }}@example.com" }
  groups:
    ops: { displayName: "Ops {{ run }}", members: [ann] }
steps:
  - name: the app's admin made the team
    request:
      method: POST
      path: /Groups
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Ops {{ run }}" }
    expect: { status: 201 }
  - assign: ann
  - push_group: ops
"#,
    )
    .expect("write");
    let mock = serve(Partial::new(0)).await;
    let report = run(&mock, &[file.to_str().expect("utf-8 path")]).await;
    let rules = problem_rules(&report);
    assert!(
        rules.contains(&"rfc7644.filter.missed:error".to_string()),
        "{rules:?}"
    );
    assert!(
        !rules.iter().any(|r| r.starts_with("okta.group.conflict")),
        "{rules:?}"
    );
}
