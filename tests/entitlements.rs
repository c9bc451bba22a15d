//! Roles, entitlements, custom extension attributes and the manager reference (issue 17), over
//! real HTTP on loopback: the reference server's catalogue as Okta reads it, a `--catalog` with
//! a type the app manages itself, and every quirk of this area caught by the shipped scenarios
//! with exactly one distinct problem that names it.

use std::path::{Path, PathBuf};
use std::process::Command;

use idpsim::server::entitlements::{Catalog, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
use idpsim::server::{start, Quirk, RunningServer, ServerConfig};
use serde_json::{json, Value};

const TOKEN: &str = "entitlements-test-token";

async fn server(quirks: Vec<Quirk>) -> RunningServer {
    start(ServerConfig {
        quirks,
        token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await
    .expect("start the built-in server")
}

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(TOKEN)
        .header("Accept", "application/scim+json");
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_catalogue_is_served_as_oktas_guide_describes() {
    let srv = server(Vec::new()).await;
    let base = srv.base_url();
    let (status, rt) = call(reqwest::Method::GET, format!("{base}/ResourceTypes"), None).await;
    assert_eq!(status, 200);
    let types: Vec<&Value> = rt["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .collect();
    let role = types
        .iter()
        .find(|t| t["id"] == "Role")
        .expect("a Role type");
    assert_eq!(role["schema"], OKTA_ROLE_URN);
    assert_eq!(role["endpoint"], "/Roles");
    let profile = types
        .iter()
        .find(|t| t["id"] == "Profile")
        .expect("Profile");
    assert_eq!(profile["schema"], OKTA_ENTITLEMENT_URN);
    let ext = profile["schemaExtensions"][0]["schema"]
        .as_str()
        .expect("an extension")
        .to_string();
    // Every declared extension is defined in /Schemas, and so is the custom User extension.
    let (_, schemas) = call(reqwest::Method::GET, format!("{base}/Schemas"), None).await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&ext.as_str()), "{ids:?}");
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"));
    // Okta's Entitlements Test probe: count=1&startIndex=1 → one value, itemsPerPage 1.
    let (status, page) = call(
        reqwest::Method::GET,
        format!("{base}/Licenses?count=1&startIndex=1"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["itemsPerPage"], 1);
    assert_eq!(page["totalResults"], 3);
    assert_eq!(
        page["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    let v = &page["Resources"][0];
    assert_eq!(v["type"], "License");
    assert!(v["id"].is_string() && v["displayName"].is_string());
    // The draft's names for the same facts.
    assert_eq!(v["value"], v["id"]);
    // The second page, and one value by id.
    let (_, second) = call(
        reqwest::Method::GET,
        format!("{base}/Licenses?count=2&startIndex=3"),
        None,
    )
    .await;
    assert_eq!(second["Resources"].as_array().map(Vec::len), Some(1));
    let id = v["id"].as_str().unwrap_or_default();
    let (status, one) = call(reqwest::Method::GET, format!("{base}/Licenses/{id}"), None).await;
    assert_eq!((status, &one["id"]), (200, &json!(id)));
    // Read-only: writes are 405, unknown values 404.
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{base}/Roles"),
        Some(json!({"displayName": "x"})),
    )
    .await;
    assert_eq!(status, 405);
    let (status, _) = call(reqwest::Method::GET, format!("{base}/Roles/nope"), None).await;
    assert_eq!(status, 404);
    // The draft's ServiceProviderConfig extension.
    let (_, spc) = call(
        reqwest::Method::GET,
        format!("{base}/ServiceProviderConfig"),
        None,
    )
    .await;
    // draft-ietf-scim-roles-entitlements-01 §3.1: roles and entitlements each say whether the
    // server serves them; entitlement `types` are the resource type names.
    let block = &spc["RolesAndEntitlements"];
    assert_eq!(block["roles"]["supported"], true, "{spc}");
    assert_eq!(block["entitlements"]["supported"], true, "{spc}");
    assert_eq!(
        block["entitlements"]["types"],
        json!(["License", "Profile"])
    );
    srv.shutdown().await;
}

/// A server that serves neither /Roles nor /Entitlements says nothing about them (the draft's
/// MUST is for servers that implement them), so strict RFC 7643 clients still read its
/// ServiceProviderConfig, and its ResourceTypes are only Users and Groups.
#[tokio::test]
async fn without_a_catalogue_nothing_is_advertised() {
    let srv = start(ServerConfig {
        token: Some(TOKEN.into()),
        catalog: Catalog::from_json(r#"{"types":[]}"#).expect("empty catalogue"),
        ..Default::default()
    })
    .await
    .expect("start");
    let base = srv.base_url();
    let (status, spc) = call(
        reqwest::Method::GET,
        format!("{base}/ServiceProviderConfig"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(spc.get("RolesAndEntitlements").is_none(), "{spc}");
    let (_, rt) = call(reqwest::Method::GET, format!("{base}/ResourceTypes"), None).await;
    let ids: Vec<&str> = rt["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, ["User", "Group"]);
    srv.shutdown().await;
}

/// An app without entitlements is not a faulty one: Okta shows no Governance tab and sends none
/// of this traffic, so the entitlement scenarios are skipped, with the reason, and nothing fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_without_entitlements_skips_the_entitlement_scenarios() {
    let srv = start(ServerConfig {
        token: Some(TOKEN.into()),
        catalog: Catalog::from_json(r#"{"types":[]}"#).expect("empty catalogue"),
        ..Default::default()
    })
    .await
    .expect("start");
    let okta = scenarios_dir().join("okta");
    let files: Vec<PathBuf> = [
        "entitlements-test",
        "entitlements-crud-test",
        "entitlements-lifecycle",
    ]
    .iter()
    .map(|n| okta.join(format!("{n}.yaml")))
    .collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, report, console) = run(&paths, &srv.base_url());
    srv.shutdown().await;
    assert_eq!(code, 0, "{console}");
    assert!(problems(&report).is_empty(), "{console}");
    for sc in report["scenarios"].as_array().expect("scenarios") {
        assert_eq!(sc["outcome"], "skipped", "{sc:#}");
        assert!(
            sc["skip_reason"]
                .as_str()
                .is_some_and(|r| r.contains("no roles or entitlements")),
            "{sc:#}"
        );
    }
    // The server's answer that decided it is in the report, as an info finding.
    assert!(
        console.contains("no ResourceType declares a Role or Entitlement schema"),
        "{console}"
    );
}

#[tokio::test]
async fn a_type_the_app_manages_cannot_be_assigned_over_scim() {
    let catalog = Catalog::from_json(
        r#"{"types":[{"name":"Seat","endpoint":"/Seats","kind":"entitlement","assignable":false,
            "values":[{"id":"seat-1","displayName":"Standard seat"}]},
           {"name":"Role","endpoint":"/Roles","kind":"role",
            "values":[{"id":"r1","displayName":"Reader"}]}]}"#,
    )
    .expect("a valid catalogue");
    let srv = start(ServerConfig {
        token: Some(TOKEN.into()),
        catalog,
        ..Default::default()
    })
    .await
    .expect("start");
    let base = srv.base_url();
    let (status, user) = call(
        reqwest::Method::POST,
        format!("{base}/Users"),
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "seat.holder@atko.com"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = user["id"].as_str().unwrap_or_default().to_string();
    let mut put = user.clone();
    put["roles"] = json!([{"value": "r1", "display": "Reader"}]);
    let (status, held) = call(
        reqwest::Method::PUT,
        format!("{base}/Users/{id}"),
        Some(put.clone()),
    )
    .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["roles"][0]["value"], "r1");
    put["entitlements"] = json!([{"value": "seat-1", "type": "Seat"}]);
    let (status, err) = call(
        reqwest::Method::PUT,
        format!("{base}/Users/{id}"),
        Some(put),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["scimType"], "mutability");
    let (_, rt) = call(
        reqwest::Method::GET,
        format!("{base}/ResourceTypes/Seat"),
        None,
    )
    .await;
    assert_eq!(rt["endpoint"], "/Seats");
    srv.shutdown().await;
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Runs `paths` against `target`; the exit code and the JSON report.
fn run(paths: &[&Path], target: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_idpsim"))
        .arg("run")
        .args(paths)
        .args([
            "--target", target, "--token", TOKEN, "--color", "never", "-j", "4",
        ])
        .arg("--report-json")
        .arg(&report)
        .output()
        .expect("run idpsim");
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let console =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).unwrap_or(Value::Null),
        console,
    )
}

fn problems(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["rule"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_scenarios_pass_against_the_built_in_server() {
    let srv = server(Vec::new()).await;
    let dir = scenarios_dir();
    let (code, report, console) = run(&[&dir], &srv.base_url());
    assert_eq!(code, 0, "{:?}\n{console}", problems(&report));
    srv.shutdown().await;
}

/// Every quirk of this area, against all shipped scenarios: exactly one distinct problem, and
/// it names the fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_quirk_of_this_area_is_one_distinct_problem() {
    // (quirk, the rule that names it, the run's exit code: 1 where the IdP fails an operation
    // or drifts, 0 where only a vendor's test suite fails — a warning, as the catalogue says)
    let table: &[(&str, &str, i32)] = &[
        ("catalog-ignores-count", "scim.entitlements.page-size", 0),
        (
            "catalog-list-wrong-schemas",
            "scim.entitlements.list-schema",
            0,
        ),
        (
            "resource-type-schema-missing",
            "scim.discovery.extension-schema-missing",
            1,
        ),
        ("drop-assignments-on-put", "scim.assignment.not-applied", 1),
        ("list-omits-assignments", "scim.assignment.not-imported", 1),
        (
            "strip-custom-extension",
            "scim.custom-attribute.not-stored",
            1,
        ),
        (
            "reject-unlisted-extension",
            "scim.custom-attribute.unlisted-rejected",
            1,
        ),
        (
            "reject-custom-urn-patch",
            "scim.custom-attribute.patch-rejected",
            1,
        ),
        (
            "custom-extension-not-advertised",
            "scim.custom-attribute.not-advertised",
            1,
        ),
        (
            "no-custom-extension",
            "scim.custom-attribute.unsupported",
            1,
        ),
        (
            "reject-manager-filter-remove",
            "scim.manager.remove-rejected",
            1,
        ),
    ];
    let dir = scenarios_dir();
    for (name, rule, exit) in table {
        let quirk = Quirk::from_name(name).unwrap_or_else(|| panic!("unknown quirk {name}"));
        let srv = server(vec![quirk]).await;
        let (code, report, console) = run(&[&dir], &srv.base_url());
        assert_eq!(
            problems(&report),
            vec![rule.to_string()],
            "quirk {name}\n{console}"
        );
        assert_eq!(code, *exit, "quirk {name}: exit code\n{console}");
        srv.shutdown().await;
    }
}

/// What only Okta's Entitlements Test asserts (itemsPerPage 1, the ListResponse URN) is not a
/// finding of Okta's runtime discovery, which reads the values regardless: the lifecycle is
/// clean against those quirks; the test scenario warns (Okta's test fails, Okta does not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entitlements_test_assertions_are_not_runtime_findings() {
    let okta = scenarios_dir().join("okta");
    let lifecycle = okta.join("entitlements-lifecycle.yaml");
    let test = okta.join("entitlements-test.yaml");
    for (name, rule) in [
        ("catalog-ignores-count", "scim.entitlements.page-size"),
        (
            "catalog-list-wrong-schemas",
            "scim.entitlements.list-schema",
        ),
    ] {
        let quirk = Quirk::from_name(name).unwrap_or_else(|| panic!("unknown quirk {name}"));
        let srv = server(vec![quirk]).await;
        let (code, report, console) = run(&[&lifecycle], &srv.base_url());
        assert_eq!(
            (code, problems(&report)),
            (0, Vec::<String>::new()),
            "{name}: {console}"
        );
        let (code, report, console) = run(&[&test], &srv.base_url());
        assert_eq!(
            (code, problems(&report)),
            (0, vec![rule.to_string()]),
            "{name}: {console}"
        );
        srv.shutdown().await;
    }
}

/// A ResourceType whose `endpoint` is an absolute URL, has whitespace and a header in it, or is
/// missing is reported (one rule) and never requested; a usable one next to them is still read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_endpoints_are_findings_and_are_not_requested() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let rt = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 4, "startIndex": 1, "itemsPerPage": 4,
        "Resources": [
            {"id": "A", "name": "A", "endpoint": "http://elsewhere.example/steal", "schema": OKTA_ROLE_URN},
            {"id": "B", "name": "B", "endpoint": "/Ro les\r\nX-Injected: 1", "schema": OKTA_ENTITLEMENT_URN},
            {"id": "C", "name": "C", "schema": OKTA_ENTITLEMENT_URN},
            {"id": "Role", "name": "Role", "endpoint": "/Roles", "schema": OKTA_ROLE_URN}
        ]
    });
    let list = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
        "Resources": [{"schemas": [OKTA_ROLE_URN], "id": "r1", "displayName": "Reader"}]
    });
    Mock::given(method("GET"))
        .and(path("/scim/v2/ResourceTypes"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(rt.to_string(), "application/scim+json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Roles"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(list.to_string(), "application/scim+json"),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("discover.yaml");
    std::fs::write(
        &scenario,
        "version: 1\nname: discovery against odd endpoints\nidp: okta\nprofile: oin\nsteps:\n  - discover_entitlements:\n",
    )
    .expect("write scenario");
    let (code, report, console) = run(&[&scenario], &format!("{}/scim/v2", server.uri()));
    assert_eq!(code, 1, "{console}");
    assert_eq!(
        problems(&report),
        vec!["scim.entitlements.resource-types".to_string()],
        "{console}"
    );
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| r.url.path().to_string())
        // The run reads /ServiceProviderConfig for `requires:` gating; not Okta's traffic.
        .filter(|p| p != "/scim/v2/ServiceProviderConfig")
        .collect();
    assert_eq!(
        paths,
        ["/scim/v2/ResourceTypes", "/scim/v2/Roles"],
        "{console}"
    );
    assert!(
        console.contains("Okta discovered Role (1 values at /Roles)"),
        "{console}"
    );
}

/// Writes `yaml` as a scenario file in `dir`.
fn scenario_file(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write the scenario");
    path
}

/// The messages and diff pointers of a report's findings of `rule`.
fn findings_of(report: &Value, rule: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for sc in report["scenarios"].as_array().into_iter().flatten() {
        for step in sc["steps"].as_array().into_iter().flatten() {
            for f in step["findings"].as_array().into_iter().flatten() {
                if f["rule"] == rule {
                    let pointers = f["diff"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d["pointer"].as_str().map(str::to_string))
                        .collect();
                    out.push((f["message"].as_str().unwrap_or("").to_string(), pointers));
                }
            }
        }
    }
    out
}

/// Precision: a server that supports the custom extension and drops one attribute of it gets
/// the precise finding (that attribute, not stored) — not "the extension is unsupported".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supported_extension_that_drops_one_attribute_is_not_stored_not_unsupported() {
    let srv = server(Vec::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The built-in server's extension defines `tag` and not `shoeSize`: it stores the one and
    // skips the other.
    let file = scenario_file(
        dir.path(),
        "partial.yaml",
        r#"version: 1
name: one attribute of a supported extension is dropped
idp: entra
profile: default
mappings:
  user:
    userName: { source: "[userPrincipalName]", match: 1 }
    active: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    displayName: "[displayName]"
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag: extensionAttribute1
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize: extensionAttribute2
directory:
  users:
    ada: { userPrincipalName: "ada-{{ run }}@contoso.com", displayName: Ada Lovelace, extensionAttribute1: analyst, extensionAttribute2: "38" }
steps:
  - provision: ada
"#,
    );
    let (code, report, console) = run(&[&file], &srv.base_url());
    assert_eq!(
        problems(&report),
        vec!["scim.custom-attribute.not-stored".to_string()],
        "{console}"
    );
    assert_eq!(code, 1, "{console}");
    let found = findings_of(&report, "scim.custom-attribute.not-stored");
    assert_eq!(
        found
            .iter()
            .flat_map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
        vec!["/urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize"],
        "{found:?}"
    );
    srv.shutdown().await;
}

/// An extension the server does not define at all (the clean built-in server has no `Acme`
/// extension and skips what it does not define): every write of Okta loses its attributes, and
/// that is one problem that names the extension, whatever else the writes did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extension_the_server_does_not_define_is_one_unsupported_problem() {
    let srv = server(Vec::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario_file(
        dir.path(),
        "acme.yaml",
        r#"version: 1
name: Okta sends a namespace the server does not have
idp: okta
profile: oin
directory:
  users:
    linus: { login: "linus.{{ run }}@atko.com", firstName: Linus, lastName: Pauling, email: "linus.{{ run }}@atko.com", level: L3 }
mappings:
  user:
    "urn:ietf:params:scim:schemas:extension:Acme:2.0:User:level": level
steps:
  - assign: linus
    expect: created
  - push_profile: linus
    set: { level: L4 }
    verify: true
"#,
    );
    let (code, report, console) = run(&[&file], &srv.base_url());
    assert_eq!(
        problems(&report),
        vec!["scim.custom-attribute.unsupported".to_string()],
        "{console}"
    );
    assert_eq!(code, 1, "{console}");
    let found = findings_of(&report, "scim.custom-attribute.unsupported");
    assert!(
        found.iter().all(|(m, p)| m
            .contains("urn:ietf:params:scim:schemas:extension:Acme:2.0:User")
            && p.iter().any(|p| p == "/Schemas")),
        "{found:?}"
    );
    srv.shutdown().await;
}

/// A server without discovery, played by a stateful wiremock responder (the built-in server
/// always serves /Schemas): `/Schemas` and `/ResourceTypes` are 404, users keep their core and
/// enterprise attributes and the custom attributes in `kept` (`urn:…:User:attr`), every other
/// extension attribute is skipped on POST, PUT and as a URN key of a path-less PATCH value, and
/// a PATCH whose `path` names one is refused with 400 invalidPath — with `kept` empty,
/// Captain-P-Goldfish/SCIM-SDK#539's answers from a server that publishes no schema.
mod schemaless {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use serde_json::{json, Map, Value};
    use wiremock::{Request, Respond, ResponseTemplate};

    pub struct Schemaless {
        users: Mutex<(usize, BTreeMap<String, Value>)>,
        kept: &'static [&'static str],
        /// `displayName` is the userName whatever is sent, as django-scim2's user model
        /// computes it (triaged against django-scim2 0.23).
        computed_display_name: bool,
        /// PATCH skips the custom attributes it is sent — URN paths and URN keys alike, with
        /// 200 (simpleidserver/SimpleIdServer#138) — and `meta.version` is derived from the
        /// content, so a PATCH that changed nothing leaves it where it was.
        patch_drops_custom: bool,
    }

    impl Schemaless {
        /// The user as answered: with a content-derived `meta.version` under
        /// `patch_drops_custom`.
        fn out(&self, user: &Value) -> Value {
            let mut u = user.clone();
            if self.patch_drops_custom {
                use std::hash::{Hash, Hasher};
                let mut content = u.clone();
                if let Some(o) = content.as_object_mut() {
                    o.remove("meta");
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                content.to_string().hash(&mut h);
                u["meta"]["version"] = json!(format!("W/\"{:x}\"", h.finish()));
            }
            u
        }
    }

    fn scim(status: u16, body: Value) -> ResponseTemplate {
        ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
    }

    fn error(status: u16, scim_type: Option<&str>, detail: &str) -> ResponseTemplate {
        let mut body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                              "status": status.to_string(), "detail": detail});
        if let Some(t) = scim_type {
            body["scimType"] = json!(t);
        }
        scim(status, body)
    }

    /// A key the server does not define: a URN other than the core and enterprise schemas.
    fn foreign(key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        k.starts_with("urn:")
            && !k.starts_with("urn:ietf:params:scim:schemas:core:2.0:")
            && !k.starts_with("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user")
    }

    fn kept(kept: &[&str], urn: &str, attr: &str) -> bool {
        kept.iter()
            .any(|k| k.eq_ignore_ascii_case(&format!("{urn}:{attr}")))
    }

    /// What the server keeps of a user body.
    fn keep(body: &Value, id: &str, base: &str, kept_attrs: &[&str], computed: bool) -> Value {
        let mut user: Map<String, Value> = Map::new();
        for (k, v) in body.as_object().into_iter().flatten() {
            if k == "password" {
                continue;
            }
            if !foreign(k) {
                user.insert(k.clone(), v.clone());
                continue;
            }
            let ext: Map<String, Value> = v
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(a, _)| kept(kept_attrs, k, a))
                .map(|(a, v)| (a.clone(), v.clone()))
                .collect();
            if !ext.is_empty() {
                user.insert(k.clone(), Value::Object(ext));
            }
        }
        let schemas: Vec<Value> = body["schemas"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| {
                s.as_str()
                    .is_some_and(|s| !foreign(s) || user.contains_key(s))
            })
            .cloned()
            .collect();
        user.insert("schemas".into(), json!(schemas));
        if computed {
            user.insert("displayName".into(), body["userName"].clone());
        }
        user.insert("id".into(), json!(id));
        user.insert(
            "meta".into(),
            json!({"resourceType": "User", "location": format!("{base}Users/{id}")}),
        );
        Value::Object(user)
    }

    fn set_path(user: &mut Value, path: &str, value: Option<&Value>) {
        let mut parts = path.splitn(2, '.');
        let head = parts.next().unwrap_or("");
        let Some(o) = user.as_object_mut() else {
            return;
        };
        let key = o
            .keys()
            .find(|k| k.eq_ignore_ascii_case(head))
            .cloned()
            .unwrap_or_else(|| head.to_string());
        match (parts.next(), value) {
            (Some(rest), _) => {
                let inner = o.entry(key).or_insert_with(|| json!({}));
                set_path(inner, rest, value);
            }
            (None, Some(v)) => {
                o.insert(key, v.clone());
            }
            (None, None) => {
                o.remove(&key);
            }
        }
    }

    impl Respond for Schemaless {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let Some(rest) = req.url.path().strip_prefix("/scim/v2/") else {
                return error(404, None, "no such endpoint");
            };
            let base = format!("{}://{}/scim/v2/", req.url.scheme(), req.url.authority());
            let mut parts = rest.splitn(2, '/');
            let collection = parts.next().unwrap_or("");
            let id = parts.next().map(str::to_string);
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let mut guard = self.users.lock().expect("users");
            let (next, users) = &mut *guard;
            match (req.method.as_str(), collection, id) {
                ("GET", "ServiceProviderConfig", None) => scim(
                    200,
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                           "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
                           "filter": {"supported": true, "maxResults": 100}, "changePassword": {"supported": false},
                           "sort": {"supported": false}, "etag": {"supported": false},
                           "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "bearer"}]}),
                ),
                ("GET", "Users", None) => {
                    let filter = req
                        .url
                        .query_pairs()
                        .find(|(k, _)| k == "filter")
                        .map(|(_, v)| v.into_owned());
                    let wanted = filter.as_deref().and_then(|f| {
                        let start = f.find('"')? + 1;
                        let end = f.rfind('"')?;
                        (end > start).then(|| f[start..end].to_string())
                    });
                    let items: Vec<Value> = users
                        .values()
                        .filter(|u| {
                            wanted.as_deref().is_none_or(|w| {
                                u["userName"]
                                    .as_str()
                                    .is_some_and(|n| n.eq_ignore_ascii_case(w))
                            })
                        })
                        .cloned()
                        .collect();
                    scim(
                        200,
                        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                               "totalResults": items.len(), "itemsPerPage": items.len(), "startIndex": 1,
                               "Resources": items}),
                    )
                }
                ("POST", "Users", None) => {
                    let name = body["userName"].as_str().unwrap_or("");
                    if users.values().any(|u| u["userName"] == name) {
                        return error(409, Some("uniqueness"), "userName is taken");
                    }
                    *next += 1;
                    let id = next.to_string();
                    let user = keep(&body, &id, &base, self.kept, self.computed_display_name);
                    users.insert(id.clone(), user.clone());
                    scim(201, self.out(&user))
                        .insert_header("Location", format!("{base}Users/{id}"))
                }
                ("GET", "Users", Some(id)) => match users.get(&id) {
                    Some(u) => scim(200, self.out(u)),
                    None => error(404, None, &format!("User {id} not found")),
                },
                ("PUT", "Users", Some(id)) => {
                    if !users.contains_key(&id) {
                        return error(404, None, &format!("User {id} not found"));
                    }
                    let user = keep(&body, &id, &base, self.kept, self.computed_display_name);
                    users.insert(id, user.clone());
                    scim(200, user)
                }
                ("PATCH", "Users", Some(id)) => {
                    let ops = body["Operations"].as_array().cloned().unwrap_or_default();
                    let known = |p: &str| {
                        !foreign(p)
                            || p.rsplit_once(':')
                                .is_some_and(|(urn, attr)| kept(self.kept, urn, attr))
                    };
                    if let Some(p) = ops
                        .iter()
                        .filter_map(|op| op["path"].as_str())
                        .filter(|_| !self.patch_drops_custom)
                        .find(|p| !known(p))
                    {
                        return error(
                            400,
                            Some("invalidPath"),
                            &format!("the attribute with the name '{p}' is unknown to resource type 'User'"),
                        );
                    }
                    let Some(user) = users.get_mut(&id) else {
                        return error(404, None, &format!("User {id} not found"));
                    };
                    for op in &ops {
                        let remove = op["op"]
                            .as_str()
                            .is_some_and(|o| o.eq_ignore_ascii_case("remove"));
                        match op["path"].as_str() {
                            Some(p) if foreign(p) && self.patch_drops_custom => {}
                            Some(p) if foreign(p) => {
                                if let Some((urn, attr)) = p.rsplit_once(':') {
                                    let ext = &mut user[urn];
                                    if !ext.is_object() {
                                        *ext = json!({});
                                    }
                                    set_path(ext, attr, (!remove).then_some(&op["value"]));
                                }
                            }
                            Some(p) => set_path(user, p, (!remove).then_some(&op["value"])),
                            None => {
                                for (k, v) in op["value"].as_object().into_iter().flatten() {
                                    if !foreign(k) {
                                        set_path(user, k, Some(v));
                                    }
                                }
                            }
                        }
                    }
                    if self.computed_display_name {
                        user["displayName"] = user["userName"].clone();
                    }
                    let answer = self.out(user);
                    scim(200, answer)
                }
                ("DELETE", "Users", Some(id)) => {
                    users.remove(&id);
                    ResponseTemplate::new(204)
                }
                _ => error(404, None, "no such endpoint"),
            }
        }
    }

    pub async fn serve(kept: &'static [&'static str]) -> wiremock::MockServer {
        serve_with(kept, false, false).await
    }

    pub async fn serve_with(
        kept: &'static [&'static str],
        computed_display_name: bool,
        patch_drops_custom: bool,
    ) -> wiremock::MockServer {
        let mock = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path_regex("^/scim/v2/"))
            .respond_with(Schemaless {
                users: Mutex::default(),
                kept,
                computed_display_name,
                patch_drops_custom,
            })
            .mount(&mock)
            .await;
        mock
    }
}

/// A server that publishes no /Schemas and has no custom extension loses every attribute of it
/// on each write (Entra's create and updates, Okta's create and profile push): one fault, and
/// one problem that names it, as for a server whose /Schemas omits the extension — not a
/// `not-stored` for the writes it acknowledged beside a `patch-rejected` for those it refused,
/// and the /Schemas warning is its supporting sign. No finding claims /Schemas lacks the schema:
/// it gave no list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_schemas_an_extension_whose_attributes_are_all_lost_is_one_problem() {
    let mock = schemaless::serve(&[]).await;
    let dir = scenarios_dir();
    for scenario in [
        "entra/custom-attributes-default.yaml",
        "entra/custom-attributes-flag.yaml",
        "okta/custom-attributes.yaml",
    ] {
        let path = dir.join(scenario);
        let (code, report, console) = run(&[&path], &format!("{}/scim/v2", mock.uri()));
        assert_eq!(
            problems(&report),
            vec!["scim.custom-attribute.unsupported".to_string()],
            "{scenario}\n{console}"
        );
        assert_eq!(code, 1, "{scenario}\n{console}");
        let found = findings_of(&report, "scim.custom-attribute.unsupported");
        assert!(
            found.iter().all(|(m, _)| m
                .contains("urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User")),
            "{scenario}: {found:?}"
        );
        assert!(
            !console.contains("a schema with id urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User — actual absent"),
            "{scenario}: a 404 /Schemas is not a list without the schema\n{console}"
        );
    }
}

/// Precision without /Schemas: a server that keeps the extension but drops one attribute of it
/// gets the precise finding (that attribute, not stored), not "the extension is unsupported".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_schemas_an_extension_that_keeps_one_attribute_is_not_stored_not_unsupported() {
    let mock = schemaless::serve(&[
        "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag",
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario_file(
        dir.path(),
        "partial.yaml",
        r#"version: 1
name: one attribute of a kept extension is dropped, and there is no /Schemas
idp: entra
profile: default
mappings:
  user:
    userName: { source: "[userPrincipalName]", match: 1 }
    active: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    displayName: "[displayName]"
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag: extensionAttribute1
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize: extensionAttribute2
directory:
  users:
    ada: { userPrincipalName: "ada-{{ run }}@contoso.com", displayName: Ada Lovelace, extensionAttribute1: analyst, extensionAttribute2: "38" }
steps:
  - provision: ada
"#,
    );
    let (code, report, console) = run(&[&file], &format!("{}/scim/v2", mock.uri()));
    assert_eq!(
        problems(&report),
        vec!["scim.custom-attribute.not-stored".to_string()],
        "{console}"
    );
    assert_eq!(code, 1, "{console}");
    let found = findings_of(&report, "scim.custom-attribute.not-stored");
    assert_eq!(
        found
            .iter()
            .flat_map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
        vec!["/urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize"],
        "{found:?}"
    );
}

/// Entra's mapping of `tag` (which the built-in extension defines) and `shoeSize` (which it
/// does not: skipped on create, 400 "unknown attribute" for its URN path), with a create and
/// updates that change `extensionAttribute2` (shoeSize), then only `extensionAttribute1` (tag).
const UNDEFINED_ATTRIBUTE: &str = r#"version: 1
name: one attribute of a supported extension is not defined, and its URN-path PATCH is refused
idp: entra
profile: default
mappings:
  user:
    userName: { source: "[userPrincipalName]", match: 1 }
    active: 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    displayName: "[displayName]"
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag: extensionAttribute1
    urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize: extensionAttribute2
directory:
  users:
    ada: { userPrincipalName: "ada-{{ run }}@contoso.com", displayName: Ada Lovelace, extensionAttribute1: analyst, extensionAttribute2: "38" }
steps:
  - name: provision Ada
    provision: ada
  - name: change the shoe size
    update: ada
    set: { extensionAttribute2: "39" }
  - name: change the tag
    update: ada
    set: { extensionAttribute1: architect }
"#;

/// (step, method, status) of every place a problem of `rule` showed.
fn places_of(report: &Value, rule: &str) -> Vec<(u64, String, u64)> {
    report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["rule"] == rule)
        .flat_map(|p| p["places"].as_array().cloned().unwrap_or_default())
        .map(|pl| {
            (
                pl["step"].as_u64().unwrap_or(0),
                pl["exchange"]["method"].as_str().unwrap_or("").to_string(),
                pl["exchange"]["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// One missing attribute is one problem: the server keeps the extension but does not define
/// `shoeSize`, so Entra's create loses it (acknowledged) and Entra's URN-path PATCHes of it are
/// refused (400 unknown attribute). The refusals are that same fault — the `not-stored`
/// problem, with the create's read-back and each refused PATCH as its evidence — not a
/// `patch-rejected` beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_patch_of_an_attribute_the_server_never_stored_is_the_not_stored_problem() {
    let srv = server(Vec::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario_file(dir.path(), "undefined.yaml", UNDEFINED_ATTRIBUTE);
    let (code, report, console) = run(&[&file], &srv.base_url());
    assert_eq!(
        problems(&report),
        vec!["scim.custom-attribute.not-stored".to_string()],
        "{console}"
    );
    assert_eq!(code, 1, "{console}");
    // Step 3's PATCH carries the tag and (re-sent: Entra's read showed it absent) the shoe
    // size; the server names the shoe size, so it is the same problem.
    assert_eq!(
        places_of(&report, "scim.custom-attribute.not-stored"),
        vec![
            (1, "GET".to_string(), 200),
            (2, "PATCH".to_string(), 400),
            (3, "PATCH".to_string(), 400)
        ],
        "{console}"
    );
    let found = findings_of(&report, "scim.custom-attribute.not-stored");
    assert!(
        found[1..].iter().all(|(m, _)| m.contains(
            "refused Entra's update of urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:shoeSize"
        )),
        "{found:?}"
    );
    srv.shutdown().await;
}

/// Precision: a refused PATCH of an attribute the server did store (`tag`, held after the
/// create; refused here by `reject-custom-urn-patch`) stays its own problem, beside the
/// `not-stored` of the attribute it never kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_patch_of_an_attribute_the_server_stored_stays_patch_rejected() {
    let srv = server(vec![Quirk::RejectCustomUrnPatch]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Only the tag changes after the create: its PATCH carries the tag alone.
    let yaml = UNDEFINED_ATTRIBUTE.replace(
        "  - name: change the shoe size\n    update: ada\n    set: { extensionAttribute2: \"39\" }\n",
        "",
    );
    let file = scenario_file(dir.path(), "stored.yaml", &yaml);
    let (code, report, console) = run(&[&file], &srv.base_url());
    let mut rules = problems(&report);
    rules.sort();
    assert_eq!(
        rules,
        vec![
            "scim.custom-attribute.not-stored".to_string(),
            "scim.custom-attribute.patch-rejected".to_string()
        ],
        "{console}"
    );
    assert_eq!(code, 1, "{console}");
    assert_eq!(
        places_of(&report, "scim.custom-attribute.patch-rejected"),
        vec![(2, "PATCH".to_string(), 400)],
        "{console}"
    );
    srv.shutdown().await;
}

/// A create the server acknowledges and applies only in part — it keeps the user, computes
/// `displayName` from the userName (as django-scim2 does) and skips the custom extension it has
/// no schema for — lost the custom attributes at the create: Entra reads nothing back and
/// records them as provisioned. The loss is reported there, once, as the one unsupported
/// problem — not passed over because `displayName` did not land either and left to show only
/// as the next update's refusal (`patch-rejected`) beside the /Schemas warning. In flag mode
/// the acknowledged path-less updates of `displayName` that the server ignores are a fault of
/// their own (`rfc7644.patch.not-applied`, at the final read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_also_loses_a_core_attribute_still_reports_its_lost_custom_attributes() {
    let mock = schemaless::serve_with(&[], true, false).await;
    for (scenario, also) in [
        ("entra/custom-attributes-default.yaml", None),
        (
            "entra/custom-attributes-flag.yaml",
            Some("rfc7644.patch.not-applied"),
        ),
    ] {
        let path = scenarios_dir().join(scenario);
        let (code, report, console) = run(&[&path], &format!("{}/scim/v2", mock.uri()));
        let mut want = vec!["scim.custom-attribute.unsupported".to_string()];
        want.extend(also.map(str::to_string));
        assert_eq!(problems(&report), want, "{scenario}\n{console}");
        assert_eq!(code, 1, "{scenario}\n{console}");
        // Step 1 is the /Schemas sign; step 2, the create, is where the data was lost.
        let places = places_of(&report, "scim.custom-attribute.unsupported");
        assert_eq!(
            places.get(..2),
            Some(&[(1, "GET".to_string(), 404), (2, "GET".to_string(), 200)][..]),
            "{scenario}\n{console}"
        );
    }
}

/// A server that keeps the custom extension on create but skips its attributes in a PATCH
/// (simpleidserver/SimpleIdServer#138), answering 200 with a content-derived version: Entra's
/// update of only the tag changes nothing, so from that write alone it looks like a PATCH
/// ignored altogether. The next update, whose displayName lands, shows the server dropping
/// custom attributes; then the tag's update is where its value was lost, and the one
/// `not-stored` problem shows first there — not only at the next update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_custom_only_patch_is_reported_at_its_step_once_a_later_update_confirms_it() {
    let mock = schemaless::serve_with(
        &[
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute",
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag",
        ],
        false,
        true,
    )
    .await;
    for scenario in [
        "entra/custom-attributes-default.yaml",
        "entra/custom-attributes-flag.yaml",
    ] {
        let path = scenarios_dir().join(scenario);
        let (code, report, console) = run(&[&path], &format!("{}/scim/v2", mock.uri()));
        // This server publishes no /Schemas: Microsoft's gallery test warning is a fault of
        // its own (it keeps the extension, so not the unsupported problem's sign).
        assert_eq!(
            problems(&report),
            vec![
                "scim.custom-attribute.not-stored".to_string(),
                "scim.custom-attribute.not-advertised".to_string()
            ],
            "{scenario}\n{console}"
        );
        assert_eq!(code, 1, "{scenario}\n{console}");
        // Step 3 changed only the tag; step 4 the displayName and CustomAttribute (and the
        // tag again: Entra's read before it found the old value).
        assert_eq!(
            places_of(&report, "scim.custom-attribute.not-stored"),
            vec![(3, "GET".to_string(), 200), (4, "GET".to_string(), 200)],
            "{scenario}\n{console}"
        );
        let step3 = &report["scenarios"][0]["steps"][2];
        assert_eq!(step3["outcome"], "failed", "{scenario}\n{console}");
    }
}

/// Precision: a PATCH the server ignores altogether (`patch-noop-204`) also leaves a custom-only
/// update unchanged under an unmoved version; no later update confirms a custom drop, so the
/// one fault stays one problem — the generic `rfc7644.patch.not-applied` at the final read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_patch_is_not_also_a_not_stored_problem() {
    let srv = server(vec![Quirk::PatchNoop204]).await;
    for scenario in [
        "entra/custom-attributes-default.yaml",
        "entra/custom-attributes-flag.yaml",
    ] {
        let path = scenarios_dir().join(scenario);
        let (_, report, console) = run(&[&path], &srv.base_url());
        assert_eq!(
            problems(&report),
            vec!["rfc7644.patch.not-applied".to_string()],
            "{scenario}\n{console}"
        );
    }
    srv.shutdown().await;
}
