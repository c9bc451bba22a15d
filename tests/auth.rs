//! Authentication as the IdPs do it, end to end over loopback: every auth mode's shipped
//! scenario against the built-in server; each auth quirk caught as exactly one distinct problem;
//! a mode an IdP does not offer refused before anything is sent; the Entra and Okta lifecycles
//! from one command line with the client secret in the environment; the browser leg of the code
//! grant; a rotated refresh token written only where the user said; expiry by time on both
//! sides (the server's `expires_in`, and a lapse idpsim was told to play).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use idpsim::server::{self, OAuthClientReg, Quirk, ServerAuth, ServerConfig};
use serde_json::Value;

const CLIENT_ID: &str = "idpsim-test-client";
const SECRET: &str = "client-secret-for-tests/+=";
const TOKEN: &str = "bearer-token-for-tests";
const HEADER: &str = "raw-header-token-for-tests";
const BASIC: (&str, &str) = ("admin", "basic-password-for-tests");

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idpsim"));
    for var in [
        "IDPSIM_TOKEN",
        "IDPSIM_BASIC",
        "IDPSIM_AUTH_HEADER",
        "IDPSIM_OAUTH_CLIENT_ID",
        "IDPSIM_OAUTH_CLIENT_SECRET",
        "IDPSIM_OAUTH_REFRESH_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    cmd
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn start(
    rt: &tokio::runtime::Runtime,
    quirks: &[Quirk],
    lifetime: Duration,
) -> server::RunningServer {
    rt.block_on(server::start(ServerConfig {
        token: Some(TOKEN.into()),
        auth: ServerAuth {
            header: Some(HEADER.into()),
            basic: Some((BASIC.0.into(), BASIC.1.into())),
            oauth: Some(OAuthClientReg {
                client_id: CLIENT_ID.into(),
                client_secret: SECRET.into(),
                token_lifetime: lifetime,
            }),
        },
        quirks: quirks.to_vec(),
        ..Default::default()
    }))
    .expect("the built-in server starts")
}

fn report(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON report")).expect("JSON")
}

/// `idpsim run FILES --target SERVER` authenticating with `mode`, the secrets in the
/// environment; returns the exit code and the report.
fn run_mode(srv: &server::RunningServer, mode: &str, files: &[&str]) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let mut cmd = bin();
    cmd.arg("run")
        .args(files)
        .args(["--target", &srv.base_url(), "--auth", mode])
        .args(["--report-json", json.to_str().expect("utf-8")]);
    match mode {
        "bearer" => {
            cmd.env("IDPSIM_TOKEN", TOKEN);
        }
        "header" => {
            cmd.env("IDPSIM_AUTH_HEADER", HEADER);
        }
        "basic" => {
            cmd.env("IDPSIM_BASIC", format!("{}:{}", BASIC.0, BASIC.1));
        }
        "oauth-client-credentials" | "oauth-code" => {
            cmd.args([
                "--oauth-token-url",
                &srv.token_url(),
                "--oauth-client-id",
                CLIENT_ID,
            ])
            .env("IDPSIM_OAUTH_CLIENT_SECRET", SECRET);
        }
        other => panic!("no such mode {other}"),
    }
    if mode != "oauth-code" {
        let o = cmd.output().expect("idpsim runs");
        return (o.status.code(), report(&json));
    }
    // The code grant against a server that is not built in: idpsim prints the authorization
    // URL for a person to open; this test is the browser.
    cmd.args(["--oauth-authorize-url", &srv.authorize_url()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("idpsim runs");
    let mut stderr = child.stderr.take().expect("stderr");
    let url = browse(&mut stderr, &srv.authorize_url());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // reqwest follows the 302 to idpsim's loopback redirect, as a browser would.
        let page = reqwest::get(&url)
            .await
            .expect("the authorization URL answers");
        assert_eq!(page.status().as_u16(), 200);
        let body = page.text().await.unwrap_or_default();
        assert!(body.contains("You can close this tab"), "{body}");
    });
    let o = child.wait_with_output().expect("idpsim exits");
    (o.status.code(), report(&json))
}

/// Reads idpsim's stderr until it names the authorization URL to open.
fn browse(stderr: &mut impl Read, prefix: &str) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stderr.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => panic!("no authorization URL: {}", String::from_utf8_lossy(&seen)),
        }
        let text = String::from_utf8_lossy(&seen);
        if let Some(at) = text.find(prefix) {
            if let Some(end) = text[at..].find('\n') {
                return text[at..at + end].trim().to_string();
            }
        }
    }
}

/// Distinct problems of a report: key → severity.
fn problems(r: &Value) -> BTreeMap<String, String> {
    r["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["key"].as_str().unwrap_or("").to_string(),
                p["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn outcomes(r: &Value) -> Vec<(String, String)> {
    r["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["file"].as_str().unwrap_or("").to_string(),
                s["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The shipped auth scenarios, by the mode each plays, and the generic one that sends no
/// credentials at all.
const BY_MODE: &[(&str, &[&str])] = &[
    (
        "bearer",
        &[
            "scenarios/entra/auth-secret-token-expires.yaml",
            "scenarios/generic/errors.yaml",
        ],
    ),
    ("header", &["scenarios/okta/auth-header.yaml"]),
    ("basic", &["scenarios/okta/auth-basic.yaml"]),
    (
        "oauth-client-credentials",
        &["scenarios/entra/auth-client-credentials.yaml"],
    ),
    ("oauth-code", &["scenarios/okta/auth-oauth-code.yaml"]),
];

#[test]
fn every_auth_mode_passes_against_the_built_in_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let o = bin()
        .args([
            "run",
            "--tag",
            "auth",
            "--report-json",
            json.to_str().expect("utf-8"),
        ])
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = report(&json);
    let seen = outcomes(&r);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(seen.iter().all(|(_, o)| o == "passed"), "{seen:?}");
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    // What happened is what the modes do: the code grant authorized, was refused twice and
    // refreshed twice; Entra stopped where its token lapsed and says why, in its terms.
    let scenario = |name: &str| {
        r["scenarios"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|s| s["file"].as_str().is_some_and(|f| f.ends_with(name)))
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    let code = scenario("okta/auth-oauth-code.yaml").to_string();
    assert_eq!(
        code.matches("\"target\":\"/oauth2/authorize?").count(),
        1,
        "one authorization"
    );
    assert_eq!(
        code.matches("grant_type=refresh_token").count(),
        2,
        "two refreshes"
    );
    assert_eq!(code.matches("\"status\":401").count(), 2, "two refusals");
    let entra = scenario("entra/auth-secret-token-expires.yaml");
    let last = &entra["steps"][2]["findings"][0];
    assert_eq!(last["rule"], "auth.refused", "{entra}");
    assert_eq!(last["severity"], "info");
    assert!(
        last["impact"].as_str().unwrap_or("").contains("quarantine"),
        "{last}"
    );
    assert!(!code.contains(SECRET));
}

#[test]
fn each_auth_quirk_is_exactly_one_distinct_problem_naming_it() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (None, None),
        (
            Some("auth-no-www-authenticate"),
            Some("rfc7235.www-authenticate"),
        ),
        (
            Some("auth-403-invalid-token"),
            Some("rfc6750.invalid-token-status"),
        ),
        (Some("token-form-encoded"), Some("rfc6749.token.json")),
        (
            Some("token-no-expires-in"),
            Some("rfc6749.token.expires-in"),
        ),
        (
            Some("refresh-revoked-without-replacement"),
            Some("rfc6749.refresh.revoked-without-replacement"),
        ),
    ];
    for (quirk, rule) in cases {
        let quirks: Vec<Quirk> = quirk
            .iter()
            .map(|q| Quirk::from_name(q).expect("a known quirk"))
            .collect();
        let srv = start(&rt, &quirks, Duration::from_secs(3600));
        let mut all = BTreeMap::new();
        for (mode, files) in BY_MODE {
            let (_, r) = run_mode(&srv, mode, files);
            let skipped: Vec<_> = outcomes(&r)
                .into_iter()
                .filter(|(_, o)| o == "skipped")
                .collect();
            assert!(skipped.is_empty(), "{quirk:?} {mode}: {skipped:?}");
            all.extend(problems(&r));
        }
        let keys: Vec<&String> = all.keys().collect();
        match rule {
            None => assert!(keys.is_empty(), "the clean server has problems: {all:?}"),
            Some(rule) => assert_eq!(keys, vec![&rule.to_string()], "quirk {quirk:?}: {all:?}"),
        }
        // The quirks that break the IdP fail the run; the one neither IdP reads warns.
        if let Some(rule) = rule {
            let expected =
                if *rule == "rfc7235.www-authenticate" || *rule == "rfc6749.token.expires-in" {
                    "warning"
                } else {
                    "error"
                };
            assert_eq!(all[*rule], expected, "{quirk:?}");
        }
        rt.block_on(srv.shutdown());
    }
}

#[test]
fn a_mode_the_idp_does_not_offer_is_refused_before_anything_is_sent() {
    let o = bin()
        .args(["run", "--idp", "okta", "--auth", "oauth-client-credentials"])
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("Okta does not offer OAuth 2.0 client credentials"),
        "{t}"
    );
    assert!(
        t.contains("--auth oauth-code") && t.contains("developer.okta.com"),
        "{t}"
    );
    assert!(!t.contains("started the built-in"), "nothing started: {t}");
    let o = bin()
        .args([
            "run",
            "--idp",
            "entra",
            "--auth",
            "basic",
            "--target",
            "http://127.0.0.1:9/scim",
        ])
        .env("IDPSIM_BASIC", "u:p")
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("learn.microsoft.com"), "{}", text(&o));

    // A scenario that asks for it: file:line:column, at load time.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("entra-basic.yaml");
    std::fs::write(
        &file,
        "name: Entra with Basic\nidp: entra\nauth:\n  mode: basic\nsteps:\n  - test_connection:\n",
    )
    .expect("write");
    let o = bin()
        .args(["validate", file.to_str().expect("utf-8")])
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("entra-basic.yaml:4:9"), "{}", text(&o));
    assert!(
        text(&o).contains("Entra does not offer HTTP Basic"),
        "{}",
        text(&o)
    );

    // The credentials a mode needs are named when missing.
    let o = bin()
        .args([
            "run",
            "--target",
            "http://127.0.0.1:9/scim",
            "--auth",
            "oauth-client-credentials",
            "--oauth-token-url",
            "http://127.0.0.1:9/token",
        ])
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("client id"), "{}", text(&o));
}

#[test]
fn the_entra_and_okta_lifecycles_run_from_one_command_line_with_the_secret_in_the_environment() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let srv = start(&rt, &[], Duration::from_secs(3600));
    // Entra: every shipped Entra scenario with client credentials (the OAuth scenarios of
    // another mode are skipped, with the reason).
    let (code, r) = run_mode(&srv, "oauth-client-credentials", &["--idp", "entra"]);
    assert_eq!(code, Some(0), "{}", r["problems"]);
    let ran: Vec<_> = outcomes(&r);
    assert!(
        ran.iter().filter(|(_, o)| o == "passed").count() >= 10,
        "{ran:?}"
    );
    assert!(
        ran.iter()
            .filter(|(_, o)| o == "skipped")
            .all(|(f, _)| f.contains("auth-secret-token")),
        "{ran:?}"
    );

    // Okta: a refresh token given directly, the rotated one written where the user said.
    let dir = tempfile::tempdir().expect("tempdir");
    let rt_file = dir.path().join("okta-refresh-token");
    let first = obtain_refresh_token(&srv);
    let okta = |refresh: Option<&str>| {
        let json = dir.path().join("okta.json");
        let mut cmd = bin();
        cmd.args([
            "run",
            "--idp",
            "okta",
            "--name",
            "*lifecycle-*",
            "--target",
            &srv.base_url(),
        ])
        .args([
            "--auth",
            "oauth-code",
            "--oauth-token-url",
            &srv.token_url(),
            "--oauth-client-id",
            CLIENT_ID,
        ])
        .args([
            "--oauth-refresh-token-file",
            rt_file.to_str().expect("utf-8"),
        ])
        .args(["--report-json", json.to_str().expect("utf-8")])
        .env("IDPSIM_OAUTH_CLIENT_SECRET", SECRET);
        if let Some(t) = refresh {
            cmd.env("IDPSIM_OAUTH_REFRESH_TOKEN", t);
        }
        let o = cmd.output().expect("idpsim runs");
        (o, report(&json))
    };
    let (o, r) = okta(Some(&first));
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o), r["problems"]);
    assert_eq!(outcomes(&r).len(), 2, "{:?}", outcomes(&r));
    let kept = std::fs::read_to_string(&rt_file).expect("the rotated token was written");
    assert_ne!(kept.trim(), first, "rotated");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&rt_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!text(&o).contains(kept.trim()) && !text(&o).contains(&first));
    // The next run starts from the file alone: the first token was invalidated by rotation.
    let (o, _) = okta(None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // And the first token, used again, is refused: the IdP stops, in Okta's terms.
    std::fs::remove_file(&rt_file).expect("rm");
    let (o, r) = okta(Some(&first));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        problems(&r).contains_key("auth.refused"),
        "{:?}",
        problems(&r)
    );
    // Later steps are not run, and say why.
    assert!(
        r.to_string()
            .contains("Okta cannot go on: the refresh-token request answered 400 invalid_grant"),
        "{r}"
    );
    rt.block_on(srv.shutdown());
}

/// The code grant by hand, as a person with a browser would: authorize, take the code off the
/// redirect, exchange it.
fn obtain_refresh_token(srv: &server::RunningServer) -> String {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let redirect = "http://127.0.0.1:1/cb";
        let answer = client
            .get(srv.authorize_url())
            .query(&[
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", redirect),
                ("state", "s"),
            ])
            .send()
            .await
            .expect("authorize");
        assert_eq!(answer.status().as_u16(), 302);
        let location = answer.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        let code = location
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("code="))
            .expect("a code")
            .to_string();
        let tokens = client
            .post(srv.token_url())
            .basic_auth(CLIENT_ID, Some(idpsim::support::text::form_encode(SECRET)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
            ])
            .send()
            .await
            .expect("token")
            .text()
            .await
            .unwrap_or_default();
        let tokens: Value = serde_json::from_str(&tokens).expect("JSON");
        tokens["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_string()
    })
}

#[test]
fn tokens_expire_at_the_server_and_the_idp_renews_them_in_time() {
    use idpsim::transport::{Auth, AuthPolicy, Lapse, OutgoingRequest, Transport, TransportConfig};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let srv = start(&rt, &[], Duration::from_secs(2));
    rt.block_on(async {
        // The server's side: an issued token works, then expires (401 invalid_token).
        let http = reqwest::Client::new();
        let issued = http
            .post(srv.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
            ])
            .send()
            .await
            .expect("token");
        assert_eq!(issued.headers()["cache-control"], "no-store");
        let issued: Value =
            serde_json::from_str(&issued.text().await.unwrap_or_default()).expect("JSON");
        let token = issued["access_token"]
            .as_str()
            .expect("a token")
            .to_string();
        assert_eq!(issued["expires_in"], 2);
        let users = format!("{}/Users", srv.base_url());
        let get = |t: String| {
            let http = http.clone();
            let users = users.clone();
            async move { http.get(&users).bearer_auth(t).send().await.expect("GET") }
        };
        assert_eq!(get(token.clone()).await.status().as_u16(), 200);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let expired = get(token).await;
        assert_eq!(expired.status().as_u16(), 401);
        let challenge = expired.headers()["www-authenticate"]
            .to_str()
            .unwrap_or("")
            .to_string();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

        // The IdP's side: a client that knows the lifetime (expires_in) renews before it runs
        // out, so the server never sees the expired token (three requests span 2.1 s).
        let client = |lapse: Lapse| {
            Transport::new(TransportConfig {
                base_url: srv.base_url(),
                auth: Auth::OAuth(Box::new(idpsim::transport::auth::OAuthClient {
                    grant: idpsim::transport::auth::Grant::ClientCredentials,
                    token_url: srv.token_url(),
                    client_id: CLIENT_ID.into(),
                    client_secret: SECRET.into(),
                    scope: None,
                    resource: None,
                    client_auth: idpsim::transport::auth::ClientAuth::Post,
                })),
                headers: vec![],
                timeout: Duration::from_secs(10),
                cacert: None,
                insecure: false,
            })
            .expect("transport")
            .with_lapse(lapse)
        };
        let req = OutgoingRequest::new("GET", "/Users");
        let t = client(Lapse::default());
        let policy = AuthPolicy {
            renew_on_401: false,
        };
        for _ in 0..3 {
            let sent = t.send_as(&req, policy).await;
            assert_eq!(sent.raw.status, 200, "{:?}", sent.refused);
            tokio::time::sleep(Duration::from_millis(700)).await;
        }

        // A lapse by time that idpsim was told to play: after it, the token goes out expired
        // and, without renewal, is refused.
        let t = client(Lapse::parse("100ms").expect("lapse"));
        assert_eq!(t.send_as(&req, policy).await.raw.status, 200);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let sent = t.send_as(&req, policy).await;
        assert_eq!(sent.raw.status, 401);
        assert!(sent.refused.is_some_and(|r| r.lapsed));
        // With renewal (Okta's way), the same lapse costs one token request and a retry.
        let t = client(Lapse::parse("100ms").expect("lapse"));
        assert_eq!(t.send_as(&req, policy).await.raw.status, 200);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let sent = t.send_as(&req, AuthPolicy { renew_on_401: true }).await;
        assert_eq!(sent.raw.status, 200);
        assert_eq!(sent.exchanges.len(), 3, "401, token, retry");
    });
    rt.block_on(srv.shutdown());
}

#[test]
fn idpsim_toml_names_the_oauth_client_and_the_variable_that_holds_its_secret() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let srv = start(&rt, &[], Duration::from_secs(3600));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("idpsim.toml");
    std::fs::write(
        &config,
        format!(
            "[target]\nurl = \"{}\"\nauth = \"oauth-client-credentials\"\n[target.oauth]\ntoken_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_env = \"MY_SCIM_SECRET\"\nclient_auth = \"client-secret-post\"\n[select]\npaths = [\"{}/scenarios/entra/auth-client-credentials.yaml\"]\n",
            srv.base_url(),
            srv.token_url(),
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .expect("write");
    let config_arg = config.to_str().expect("utf-8");
    let o = bin()
        .args(["run", "--config", config_arg, "-v"])
        .env("MY_SCIM_SECRET", SECRET)
        .output()
        .expect("idpsim runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("client_secret=[redacted]"),
        "{}",
        text(&o)
    );
    // A secret written into the file is refused, pointing at it.
    std::fs::write(
        &config,
        "[target]\nurl = \"http://127.0.0.1:9/scim\"\n[target.oauth]\nclient_secret = \"oops\"\n",
    )
    .expect("write");
    let o = bin()
        .args(["run", "--config", config_arg])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("idpsim.toml:4:17") && text(&o).contains("client_secret_env"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("oops\""), "{}", text(&o));
    rt.block_on(srv.shutdown());
}
