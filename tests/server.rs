//! Reference-server tests over real HTTP on loopback (reqwest against `start()` on port 0).
//! One test binary with modules keeps link time down.

use idpsim::server::{start, Quirk, RunningServer, ServerConfig};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const TOKEN: &str = "s3cret-token";

struct T {
    server: RunningServer,
    base: String,
    http: reqwest::Client,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Resp {
    fn ctype(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

async fn server_with(quirks: &[Quirk]) -> T {
    server_cfg(ServerConfig {
        token: Some(TOKEN.into()),
        quirks: quirks.to_vec(),
        ..ServerConfig::default()
    })
    .await
}

async fn server_cfg(cfg: ServerConfig) -> T {
    let server = start(cfg).await.expect("server starts");
    T {
        base: server.base_url(),
        server,
        http: reqwest::Client::new(),
    }
}

async fn server() -> T {
    server_with(&[]).await
}

impl T {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut rb = self
            .http
            .request(method, url)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Accept", "application/scim+json");
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/scim+json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }
    async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }
    async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[]).await
    }
    async fn user(&self, user_name: &str) -> String {
        let r = self
            .post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true,
                       "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }
    async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self
            .post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }
    async fn members(&self, gid: &str) -> Vec<String> {
        let r = self.get(&format!("/Groups/{gid}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| m["value"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
    async fn total(&self, path: &str) -> u64 {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["totalResults"]
            .as_u64()
            .expect("integer totalResults")
    }
}

/// A GET without an Accept header, over a raw socket; returns the status line.
async fn raw_get_status_line(t: &T, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(t.server.addr())
        .await
        .unwrap();
    let base_path = t
        .base
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    let req = format!("GET {base_path}{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn patch_body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn assert_scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(
        r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["status"],
        json!(status.to_string()),
        "status must be a string: {}",
        r.text
    );
    if let Some(t) = scim_type {
        assert_eq!(r.body["scimType"], t, "{}", r.text);
    }
    assert!(r.body["detail"].is_string());
    assert!(r.ctype().starts_with("application/scim+json"));
}

mod protocol {
    use super::*;

    #[tokio::test]
    async fn auth_required_with_scim_401() {
        let t = server().await;
        let r = t
            .http
            .get(format!("{}/Users", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["status"], "401");
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert!(!body.to_string().contains(TOKEN));
        let r = t
            .http
            .get(format!("{}/Users", t.base))
            .header("Authorization", "Bearer wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // No token configured → no auth; also no Accept header and the root base.
        let open = server_cfg(ServerConfig {
            base: "/".into(),
            ..ServerConfig::default()
        })
        .await;
        assert!(open
            .base
            .ends_with(&format!("{}", open.server.addr().port())));
        let r = open
            .http
            .get(format!("{}/Users", open.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/scim+json");
        open.server.shutdown().await;
        assert!(
            raw_get_status_line(&t, "/Users?filter=userName+eq+%22x%22")
                .await
                .contains(" 200 "),
            "no Accept header is fine"
        );
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn discovery_endpoints() {
        let t = server().await;
        let spc = t.get("/ServiceProviderConfig").await;
        assert_eq!(spc.status, 200);
        assert_eq!(spc.body["patch"]["supported"], true);
        assert_eq!(spc.body["bulk"]["supported"], false);
        assert_eq!(spc.body["filter"]["maxResults"], 1000);
        assert_eq!(spc.body["etag"]["supported"], true);
        assert_eq!(
            spc.body["authenticationSchemes"][0]["type"],
            "oauthbearertoken"
        );
        let s = t.get("/Schemas").await;
        assert_eq!(
            s.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
        // Core, Group, enterprise, the custom extension, and the entitlement catalogue's
        // (tests/entitlements.rs covers those).
        assert_eq!(s.body["totalResults"], 7);
        let one = t
            .get("/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .await;
        assert_eq!(one.status, 200);
        assert!(one.body["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "manager"));
        let rt = t.get("/ResourceTypes").await;
        assert_eq!(rt.body["Resources"][0]["id"], "User");
        assert_eq!(rt.body["Resources"][1]["id"], "Group");
        let u = t.get("/ResourceTypes/User").await;
        assert_eq!(
            u.body["schemaExtensions"][0]["schema"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        );
        assert_scim_error(&t.get("/Schemas/urn:nope").await, 404, None);
        assert_scim_error(
            &t.send(Method::POST, "/Schemas", Some(json!({})), &[]).await,
            405,
            None,
        );
        assert_scim_error(&t.get("/Nope").await, 404, None);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn bad_bodies_never_panic() {
        let t = server().await;
        let send_raw = |body: Vec<u8>, ctype: Option<&'static str>| {
            let mut rb = t
                .http
                .post(format!("{}/Users", t.base))
                .header("Authorization", format!("Bearer {TOKEN}"))
                .body(body);
            if let Some(c) = ctype {
                rb = rb.header("Content-Type", c);
            }
            rb.send()
        };
        for bad in [
            &b"{not json"[..],
            b"",
            b"[1,2]",
            b"\"x\"",
            b"{\"userName\": 5}",
            b"{\"userName\": {\"a\":1}}",
            b"{\"active\": [1]}",
        ] {
            let r = send_raw(bad.to_vec(), Some("application/json"))
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let r = send_raw(b"{\"userName\":\"plain\"}".to_vec(), None)
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "missing content type is accepted");
        let huge = vec![b' '; 5 * 1024 * 1024];
        let r = send_raw(huge, Some("application/json")).await.unwrap();
        assert_eq!(r.status(), 413);
        let r = t.patch("/Users/whatever", json!({"Operations": "x"})).await;
        assert_eq!(r.status, 404);
        let id = t.user("patchy").await;
        for body in [
            json!({}),
            json!({"Operations": [{"op": "explode"}]}),
            json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": 1}]}),
            json!({"Operations": [{"op": "remove"}]}),
            json!({"Operations": [{"op": "replace", "value": 5}]}),
        ] {
            let r = t.patch(&format!("/Users/{id}"), body.clone()).await;
            assert_eq!(r.status, 400, "{body} → {}", r.text);
        }
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn etags_and_conditional_requests() {
        let t = server().await;
        let id = t.user("etag.user").await;
        let r = t.get(&format!("/Users/{id}")).await;
        let etag = r.header("etag").unwrap();
        assert!(etag.starts_with("W/\""));
        assert_eq!(r.body["meta"]["version"], etag);
        let r = t
            .send(
                Method::GET,
                &format!("/Users/{id}"),
                None,
                &[("If-None-Match", &etag)],
            )
            .await;
        assert_eq!(r.status, 304);
        let p = patch_body(json!([{"op": "replace", "path": "displayName", "value": "X"}]));
        let r = t
            .send(
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(p.clone()),
                &[("If-Match", "W/\"999\"")],
            )
            .await;
        assert_scim_error(&r, 412, None);
        let r = t
            .send(
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(p.clone()),
                &[("If-Match", &etag)],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_ne!(r.header("etag").unwrap(), etag);
        let r = t
            .send(
                Method::PUT,
                &format!("/Users/{id}"),
                Some(json!({"userName": "etag.user"})),
                &[("If-Match", &etag)],
            )
            .await;
        assert_eq!(r.status, 412);
        let r = t
            .send(
                Method::DELETE,
                &format!("/Users/{id}"),
                None,
                &[("If-Match", &etag)],
            )
            .await;
        assert_eq!(r.status, 412);
        let r = t
            .send(
                Method::DELETE,
                &format!("/Users/{id}"),
                None,
                &[("If-Match", "*")],
            )
            .await;
        assert_eq!(r.status, 204);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn pagination_edges() {
        let t = server().await;
        for i in 0..5 {
            t.user(&format!("page{i}")).await;
        }
        let r = t.get("/Users?startIndex=0&count=2").await;
        assert_eq!(r.body["startIndex"], 1);
        assert_eq!(r.body["itemsPerPage"], 2);
        assert_eq!(r.body["totalResults"], 5);
        assert_eq!(r.body["Resources"][0]["userName"], "page0");
        let r = t.get("/Users?startIndex=-4&count=0").await;
        assert_eq!(r.body["totalResults"], 5);
        assert_eq!(r.body["itemsPerPage"], 0);
        assert_eq!(r.body["Resources"], json!([]));
        let r = t.get("/Users?startIndex=4&count=100").await;
        assert_eq!(r.body["itemsPerPage"], 2);
        assert_eq!(r.body["Resources"][1]["userName"], "page4");
        let r = t.get("/Users?startIndex=101&count=100").await;
        assert_eq!(r.body["itemsPerPage"], 0);
        assert_eq!(r.body["Resources"], json!([]));
        // Okta's lowercase parameter names and sorting.
        let r = t
            .get("/Users?startindex=2&count=1&sortBy=userName&sortOrder=descending")
            .await;
        assert_eq!(r.body["Resources"][0]["userName"], "page3");
        assert_scim_error(&t.get("/Users?count=abc").await, 400, Some("invalidValue"));
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn filters_over_http() {
        let t = server().await;
        let a = t
            .post("/Users", json!({"userName": "BJensen", "title": "Tour Guide", "userType": "Employee", "externalId": "Ext-1",
                  "name": {"familyName": "O'Malley", "givenName": "Barbara"},
                  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}}))
            .await;
        assert_eq!(a.status, 201);
        t.post("/Users", json!({"userName": "other", "userType": "Intern", "emails": [{"value": "o@example.org", "type": "home"}]})).await;
        let q = |f: &str| {
            format!(
                "/Users?filter={}",
                percent_encoding::utf8_percent_encode(f, percent_encoding::NON_ALPHANUMERIC)
            )
        };
        assert_eq!(t.total(&q(r#"userName eq "bjensen""#)).await, 1);
        assert_eq!(
            t.total("/Users?filter=userName+eq+%22BJENSEN%22").await,
            1,
            "form-encoded, case-insensitive"
        );
        assert_eq!(
            t.total(&q(r#"externalId eq "ext-1""#)).await,
            0,
            "externalId is caseExact"
        );
        assert_eq!(t.total(&q(r#"name.familyName co "O'Malley""#)).await, 1);
        assert_eq!(
            t.total(&q(
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#
            ))
            .await,
            1
        );
        assert_eq!(t.total(&q("title pr")).await, 1);
        assert_eq!(t.total(&q(r#"title pr or userType eq "Intern""#)).await, 2);
        assert_eq!(
            t.total(&q(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#))
                .await,
            2
        );
        assert_eq!(t.total(&q(r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#)).await, 1);
        assert_eq!(t.total(&q(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#)).await, 0);
        assert_eq!(t.total(&q(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#)).await, 1);
        assert_eq!(t.total(&q(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#)).await, 1);
        assert_eq!(t.total(&q(r#"userName eq "nobody""#)).await, 0);
        let r = t.get(&q(r#"userName eq "nobody""#)).await;
        assert_eq!(r.body["Resources"], json!([]));
        let r = t.get(&q(r#"userName zz "x""#)).await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
        assert!(
            r.body["detail"].as_str().unwrap().contains("position 9"),
            "{}",
            r.text
        );
        // POST /.search
        let r = t.post("/Users/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"b\"", "attributes": ["userName"]})).await;
        assert_eq!(r.body["totalResults"], 1);
        assert!(r.body["Resources"][0].get("emails").is_none());
        t.server.shutdown().await;
    }
}

mod resources {
    use super::*;

    #[tokio::test]
    async fn okta_user_lifecycle() {
        let t = server().await;
        // okta.md Appendix A.1, verbatim body.
        let create = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "Jane.Doe@example.com",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"primary": true, "value": "jane.doe@example.com", "type": "work"}],
            "displayName": "Jane Doe", "locale": "en_US", "externalId": "00uv931EiyRsnwOGa0g3",
            "groups": [], "password": "4a9XuKkx", "active": true
        });
        let r = t.post("/Users", create.clone()).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert_eq!(
            r.header("location").unwrap(),
            format!("{}/Users/{id}", t.base)
        );
        assert_eq!(r.body["meta"]["location"], format!("{}/Users/{id}", t.base));
        assert_eq!(r.body["meta"]["resourceType"], "User");
        assert!(
            r.body["meta"]["created"].is_string() && r.body["meta"]["lastModified"].is_string()
        );
        assert!(r.body.get("password").is_none(), "password is write-only");
        assert_eq!(r.body["userName"], "Jane.Doe@example.com", "case preserved");
        assert!(r.ctype().starts_with("application/scim+json"));
        // Duplicate, different case → 409 uniqueness.
        let mut dup = create.clone();
        dup["userName"] = json!("jane.doe@EXAMPLE.com");
        assert_scim_error(&t.post("/Users", dup).await, 409, Some("uniqueness"));
        // Okta lookup (A.6).
        let r = t
            .get("/Users?filter=userName+eq+%22jane.doe%40example.com%22&startIndex=1&count=100")
            .await;
        assert_eq!(r.body["totalResults"], 1);
        // Profile push: GET, modify, PUT the whole thing back (id, meta, groups echoed).
        let mut got = t.get(&format!("/Users/{id}")).await.body;
        got["name"]["givenName"] = json!("Another");
        got["groups"] = json!([]);
        let r = t.put(&format!("/Users/{id}"), got).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["name"]["givenName"], "Another");
        assert_eq!(r.body["id"], id);
        // Deactivate (A.5): path-less replace.
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "replace", "value": {"active": false}}])),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["active"], false);
        // Deactivated users stay visible by id and by filter.
        assert_eq!(t.get(&format!("/Users/{id}")).await.status, 200);
        assert_eq!(
            t.total("/Users?filter=userName+eq+%22jane.doe%40example.com%22")
                .await,
            1
        );
        assert_eq!(t.total("/Users?filter=active+eq+false").await, 1);
        let r = t.delete(&format!("/Users/{id}")).await;
        assert_eq!(r.status, 204);
        assert_scim_error(&t.get(&format!("/Users/{id}")).await, 404, None);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn okta_group_push() {
        let t = server().await;
        let u1 = t.user("u1").await;
        let u2 = t.user("u2").await;
        let u3 = t.user("u3").await;
        // A.8 create with members (display given).
        let r = t
            .post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Example Group",
                  "members": [{"value": u1, "display": "whatever"}, {"value": u2, "display": "u2"}]}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let gid = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(
            r.body["members"][0]["display"], "u1",
            "display is the member's userName"
        );
        assert_eq!(r.body["members"][0]["type"], "User");
        assert_eq!(
            r.body["members"][0]["$ref"],
            format!("{}/Users/{u1}", t.base)
        );
        assert_scim_error(
            &t.post("/Groups", json!({"displayName": "example group"}))
                .await,
            409,
            Some("uniqueness"),
        );
        // The user's groups attribute is computed.
        let r = t.get(&format!("/Users/{u1}")).await;
        assert_eq!(r.body["groups"][0]["value"], gid);
        assert_eq!(r.body["groups"][0]["display"], "Example Group");
        // A.11 rename carrying the group's own id; members untouched; 204.
        let r = t.patch(&format!("/Groups/{gid}"), patch_body(json!([{"op": "replace", "value": {"id": gid, "displayName": "New Group Name"}}]))).await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(t.members(&gid).await, vec![u1.clone(), u2.clone()]);
        // A.12 remove by filter + add.
        let r = t
            .patch(&format!("/Groups/{gid}"), patch_body(json!([
                {"op": "remove", "path": format!("members[value eq \"{u1}\"]")},
                {"op": "remove", "path": "members[value eq \"not-a-member\"]"},
                {"op": "add", "path": "members", "value": [{"value": u3, "display": "u3"}, {"value": u2, "display": "u2"}]}
            ])))
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert_eq!(t.members(&gid).await, vec![u2.clone(), u3.clone()]);
        // A.13 replace all members.
        t.patch(&format!("/Groups/{gid}"), patch_body(json!([{"op": "replace", "path": "members", "value": [{"value": u1, "display": "u1"}]}]))).await;
        assert_eq!(t.members(&gid).await, vec![u1.clone()]);
        // A.10 PUT with id in body and display null.
        let r = t
            .put(&format!("/Groups/{gid}"), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": gid, "displayName": "SCIM_test1",
                 "members": [{"value": u2, "display": null}, {"value": u3, "display": null}]}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["members"][1]["display"], "u3");
        // Deleting a user removes it from groups.
        t.delete(&format!("/Users/{u2}")).await;
        assert_eq!(t.members(&gid).await, vec![u3.clone()]);
        // PATCH with attributes asks for a body.
        let r = t
            .patch(
                &format!("/Groups/{gid}?excludedAttributes=members"),
                patch_body(json!([{"op": "add", "path": "externalId", "value": "x"}])),
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(r.body.get("members").is_none());
        assert_eq!(t.delete(&format!("/Groups/{gid}")).await.status, 204);
        t.server.shutdown().await;
    }

    /// Microsoft Learn, "Customize user provisioning attribute-mappings" → "Provisioning a role
    /// to a SCIM app": each function's create and PATCH, as printed, land as the roles they name.
    #[tokio::test]
    async fn entra_app_roles() {
        let t = server().await;
        let role = |v: &str, key: &str, primary: bool| json!({"primary": primary, "type": "WindowsAzureActiveDirectoryRole", key: v, "value": v});
        // AppRoleAssignmentsComplex's POST: `displayName` is the role's display.
        let r = t
            .post("/Users", json!({"userName": "roles-complex", "active": true,
                "roles": [role("Admin", "displayName", false), role("User", "displayName", false)]}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["roles"][0]["display"], "Admin");
        let u = format!("/Users/{}", r.body["id"].as_str().unwrap());
        // Its PATCH: one Add, each role as JSON text; the roles already held are no change.
        let text = |id: &str, v: &str| json!({"value": format!(r#"{{"id":"{id}","value":"{v}","displayName":"{v}"}}"#)});
        let r = t
            .patch(
                &u,
                patch_body(json!([{"op": "Add", "path": "roles", "value": [
                text("06b07648-ecfe-589f-9d2f-6325724a46ee", "Admin"),
                text("06b07648-ecfe-599f-9d2f-6325724a46ee", "Auditor")]}])),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let values: Vec<&str> = r.body["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["value"].as_str())
            .collect();
        assert_eq!(values, ["Admin", "User", "Auditor"]);
        assert_eq!(
            r.body["roles"][2],
            json!({"value": "Auditor", "display": "Auditor"})
        );
        // AssertiveAppRoleAssignmentsComplex's PATCH: lower-case replace with `display` objects.
        let r = t
            .patch(&u, patch_body(json!([{"op": "replace", "path": "roles", "value": [role("User", "display", false)]}])))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["roles"], json!([role("User", "display", false)]));
        // SingleAppRoleAssignment's POST: one primary role.
        let r = t
            .post(
                "/Users",
                json!({"userName": "roles-single", "roles": [
                {"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["roles"][0]["primary"], true);
    }

    #[tokio::test]
    async fn entra_default_mode() {
        let t = server().await;
        // entra.md §3.1 create body (meta and roles: [] in the body).
        let r = t
            .post("/Users", json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User_11bb11bb@testuser.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                "roles": []
            }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        let u = format!("/Users/{id}");
        let ops = json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "Eqpj"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "271"}
        ]);
        let r = t.patch(&u, patch_body(ops)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["emails"][0]["value"], "updatedEmail@microsoft.com");
        assert_eq!(r.body["name"]["familyName"], "updatedFamilyName");
        assert_eq!(r.body["nickName"], "Babs");
        assert_eq!(
            r.body["phoneNumbers"],
            json!([{"type": "mobile", "value": "555"}])
        );
        let ent = &r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["employeeNumber"], "Eqpj");
        assert_eq!(ent["manager"]["value"], "271");
        assert!(r.body["schemas"].as_array().unwrap().contains(&json!(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        )));
        // Disable with the string "False", then "True", then lowercase.
        for (v, expect) in [("False", false), ("True", true), ("false", false)] {
            let r = t.patch(&u, json!({"Operations": [{"op": "Replace", "path": "active", "value": v}], "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["active"], expect);
        }
        // Manager removal the Microsoft tests use: replace with "".
        let r = t.patch(&u, patch_body(json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}]))).await;
        assert!(
            r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
                .get("manager")
                .is_none()
        );
        // Groups: MS schema URI ignored; $ref null; remove with value array removes only those.
        let m1 = t.user("m1").await;
        let m2 = t.user("m2").await;
        let r = t
            .post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                  "externalId": "8aa1a0c0", "displayName": "displayName", "meta": {"resourceType": "Group"}}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
        );
        let gid = r.body["id"].as_str().unwrap().to_string();
        let g = format!("/Groups/{gid}");
        let r = t.patch(&g, patch_body(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": m1}, {"value": m2}]}]))).await;
        assert_eq!(r.status, 204);
        assert_eq!(t.members(&gid).await, vec![m1.clone(), m2.clone()]);
        let r = t.patch(&g, patch_body(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": m1}]}]))).await;
        assert_eq!(r.status, 204);
        assert_eq!(t.members(&gid).await, vec![m2.clone()]);
        t.patch(
            &g,
            patch_body(json!([{"op": "Replace", "path": "displayName", "value": "renamed"}])),
        )
        .await;
        // Entra's group lookup with excludedAttributes=members.
        let r = t
            .get("/Groups?excludedAttributes=members&filter=displayName+eq+%22RENAMED%22")
            .await;
        assert_eq!(r.body["totalResults"], 1);
        assert!(r.body["Resources"][0].get("members").is_none());
        assert_eq!(r.body["Resources"][0]["displayName"], "renamed");
        let r = t.get(&format!("{g}?excludedAttributes=members")).await;
        assert!(r.body.get("members").is_none());
        assert_eq!(r.body["id"], gid);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn entra_flag_mode() {
        let t = server().await;
        let id = t.user("flag.user").await;
        let u = format!("/Users/{id}");
        let r = t
            .patch(&u, patch_body(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
                {"op": "replace", "value": {"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}},
                {"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}}},
                {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Tech Infrastructure"},
                {"op": "replace", "path": "active", "value": false}
            ])))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["displayName"], "Bjfe");
        assert_eq!(
            r.body["name"],
            json!({"givenName": "Kkom", "familyName": "Unua"})
        );
        assert_eq!(
            r.body["emails"][0]["value"],
            "TestMhvaes@test.microsoft.com"
        );
        assert_eq!(r.body["emails"][0]["primary"], true);
        let ent = &r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ent["employeeNumber"], "Aklq");
        assert_eq!(ent["department"], "Tech Infrastructure");
        assert_eq!(r.body["active"], false);
        let m = t.user("member").await;
        let gid = t.group("flag group", &[&m]).await;
        let r = t
            .patch(
                &format!("/Groups/{gid}"),
                patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{m}\"]")}])),
            )
            .await;
        assert_eq!(r.status, 204);
        assert!(t.members(&gid).await.is_empty());
        t.server.shutdown().await;
    }

    /// RFC 7644 §3.5.2 examples.
    #[tokio::test]
    async fn rfc_patch_examples() {
        let t = server().await;
        let id = t
            .post(
                "/Users",
                json!({"userName": "bjensen", "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}]}),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let u = format!("/Users/{id}");
        // §3.5.2.1 add without path.
        let r = t.patch(&u, patch_body(json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "new@x.org", "type": "other"}], "nickname": "Babs"}}]))).await;
        assert_eq!(
            r.body["emails"].as_array().unwrap().len(),
            3,
            "duplicates are not re-added: {}",
            r.text
        );
        assert_eq!(r.body["nickName"], "Babs");
        // §3.5.2.3 replace with a filtered path and sub-attribute.
        let r = t.patch(&u, patch_body(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.org"}]))).await;
        assert_eq!(r.body["emails"][0]["value"], "bjensen@example.org");
        // §3.5.2.3 replace a filtered element whole.
        let r = t.patch(&u, patch_body(json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@example.com", "primary": true}}]))).await;
        assert_eq!(
            r.body["emails"][0],
            json!({"type": "work", "value": "w@example.com", "primary": true})
        );
        // §3.5.2.2 remove with a complex filter.
        let r = t.patch(&u, patch_body(json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]))).await;
        assert_eq!(r.body["emails"].as_array().unwrap().len(), 2);
        // remove a sub-attribute of filtered elements, then a whole attribute.
        let r = t.patch(&u, patch_body(json!([{"op": "remove", "path": "emails[type eq \"home\"].type"}, {"op": "remove", "path": "nickName"}]))).await;
        assert!(r.body.get("nickName").is_none());
        assert!(r.body["emails"][0].get("type").is_none());
        // §3.5.2.3 replace without path: a complex attribute merges sub-attributes.
        t.patch(
            &u,
            patch_body(json!([{"op": "replace", "value": {"name": {"givenName": "Barbara"}}}])),
        )
        .await;
        let r = t
            .patch(
                &u,
                patch_body(json!([{"op": "replace", "value": {"name": {"familyName": "Jensen"}}}])),
            )
            .await;
        assert_eq!(
            r.body["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen"})
        );
        // readOnly targets.
        let r = t
            .patch(
                &u,
                patch_body(json!([{"op": "replace", "path": "id", "value": "x"}])),
            )
            .await;
        assert_scim_error(&r, 400, Some("mutability"));
        let r = t.patch(&u, patch_body(json!([{"op": "replace", "path": "emails[type eq \"fax\" or type eq \"x\"].value", "value": "v"}]))).await;
        assert_scim_error(&r, 400, Some("noTarget"));
        // Members: add, remove one by filter, remove all.
        let a = t.user("a").await;
        let b = t.user("b").await;
        let gid = t.group("Tour Guides", &[]).await;
        let g = format!("/Groups/{gid}");
        t.patch(&g, patch_body(json!([{"op": "add", "path": "members", "value": [{"display": "a", "$ref": format!("{}/Users/{a}", t.base), "value": a}, {"value": b}]}]))).await;
        assert_eq!(t.members(&gid).await, vec![a.clone(), b.clone()]);
        t.patch(
            &g,
            patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])),
        )
        .await;
        assert_eq!(t.members(&gid).await, vec![b.clone()]);
        t.patch(&g, patch_body(json!([{"op": "remove", "path": "members"}])))
            .await;
        assert!(t.members(&gid).await.is_empty());
        // §3.5.2.3 replace members, and a multi-op request.
        t.patch(&g, patch_body(json!([{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [{"value": a}]}]))).await;
        assert_eq!(t.members(&gid).await, vec![a.clone()]);
        // A failed op rolls the whole PATCH back.
        let r = t.patch(&g, patch_body(json!([{"op": "add", "path": "members", "value": [{"value": b}]}, {"op": "add", "path": "nope", "value": 1}]))).await;
        assert_scim_error(&r, 400, Some("invalidPath"));
        assert_eq!(t.members(&gid).await, vec![a.clone()]);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn concurrency_is_safe() {
        let t = server().await;
        let futs = (0..40).map(|i| {
            let t = &t;
            async move {
                t.post("/Users", json!({"userName": format!("par{i}")}))
                    .await
                    .status
            }
        });
        let statuses = futures_util::future::join_all(futs).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED));
        assert_eq!(t.total("/Users?count=0").await, 40);
        let futs = (0..20).map(|i| {
            let t = &t;
            async move {
                t.post(
                    "/Users",
                    json!({"userName": if i % 2 == 0 { "Same" } else { "same" }}),
                )
                .await
                .status
            }
        });
        let statuses = futures_util::future::join_all(futs).await;
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            19
        );
        // Parallel member adds to one group all land.
        let gid = t.group("parallel", &[]).await;
        let ids: Vec<String> = t.get("/Users?count=40").await.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        let futs = ids.iter().map(|id| {
            let (t, gid) = (&t, &gid);
            async move {
                t.patch(
                    &format!("/Groups/{gid}"),
                    patch_body(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
                )
                .await
                .status
            }
        });
        futures_util::future::join_all(futs).await;
        assert_eq!(t.members(&gid).await.len(), 40);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn persistence_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.json");
        let cfg = || ServerConfig {
            data: Some(file.clone()),
            ..ServerConfig::default()
        };
        let t = server_cfg(cfg()).await;
        let id = t.user("persisted").await;
        let gid = t.group("kept", &[&id]).await;
        t.patch(
            &format!("/Users/{id}"),
            patch_body(json!([{"op": "replace", "path": "active", "value": false}])),
        )
        .await;
        let etag = t.get(&format!("/Users/{id}")).await.header("etag");
        t.server.shutdown().await;
        // The file keeps a group's members inside its attributes (the format data files
        // written by earlier versions have), whatever the store holds them as.
        let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            saved["groups"][0]["attrs"]["members"],
            json!([{"value": id}])
        );
        let t = server_cfg(cfg()).await;
        let r = t.get(&format!("/Users/{id}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["active"], false);
        assert_eq!(r.header("etag"), etag);
        assert_eq!(t.members(&gid).await, vec![id.clone()]);
        assert_eq!(
            t.post("/Users", json!({"userName": "PERSISTED"}))
                .await
                .status,
            409
        );
        t.server.shutdown().await;
        // No temp files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        std::fs::write(&file, b"{garbage").unwrap();
        let err = start(cfg()).await.unwrap_err().to_string();
        assert!(err.contains("store.json"), "{err}");
        // Bind errors name the address.
        let t = server().await;
        let err = start(ServerConfig {
            port: t.server.addr().port(),
            ..ServerConfig::default()
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains(&t.server.addr().to_string()), "{err}");
        t.server.shutdown().await;
    }
}

/// The server under abuse (issue 9 §6): oversized and deeply nested bodies, hostile filters,
/// slow clients and more connections than it serves at once.
mod abuse {
    use super::*;
    use idpsim::server::Limits;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Generous bound on any wait below: a hang fails the test instead of stalling the suite.
    const HANG_GUARD: Duration = Duration::from_secs(30);

    async fn server_with_limits(limits: Limits) -> T {
        server_cfg(ServerConfig {
            token: Some(TOKEN.into()),
            limits,
            ..ServerConfig::default()
        })
        .await
    }

    fn raw_request(method: &str, path: &str, extra: &str, body: &str) -> String {
        format!(
            "{method} /scim/v2{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n{extra}\r\n{body}"
        )
    }

    /// Reads until the server closes the connection (or the hang guard fires).
    async fn read_until_closed(s: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the server never closed the connection");
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[tokio::test]
    async fn oversized_and_deeply_nested_bodies_are_refused() {
        let t = server().await;
        // Over the limit by Content-Length: refused before the body is read.
        let r = t
            .http
            .post(format!("{}/Users", t.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/scim+json")
            .body(vec![b' '; 4 * 1024 * 1024 + 1])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        // Over the limit with no Content-Length (chunked): refused once the limit is crossed.
        let chunks = (0..5).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024]));
        let r = t
            .http
            .post(format!("{}/Users", t.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/scim+json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["status"], "413");

        // 100,000-deep JSON: refused by depth, in words.
        for deep in ["[".repeat(100_000), "{\"a\":".repeat(100_000)] {
            let r = t
                .http
                .post(format!("{}/Users", t.base))
                .header("Authorization", format!("Bearer {TOKEN}"))
                .header("Content-Type", "application/scim+json")
                .body(deep)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400);
            let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(body["scimType"], "invalidSyntax");
            let detail = body["detail"].as_str().unwrap_or("");
            assert!(detail.contains("nested more than 128 levels"), "{detail}");
        }

        // A filter of 150,000 `or`s used to overflow a server thread's stack and abort the
        // process. It is refused, and the server still answers afterwards.
        let chain = vec![r#"userName eq "a""#; 150_000].join(" or ");
        let r = t
            .post(
                "/Users/.search",
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                       "filter": chain}),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
        assert!(r.text.contains("more than 1000"), "{}", &r.text[..200]);
        let deep_filter = format!(
            "{}userName eq \"a\"{}",
            "(".repeat(50_000),
            ")".repeat(50_000)
        );
        let r = t
            .post(
                "/Users/.search",
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                       "filter": deep_filter}),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
        assert_eq!(t.get("/ServiceProviderConfig").await.status, 200);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn slow_clients_are_timed_out() {
        let t = server_with_limits(Limits {
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            ..Limits::default()
        })
        .await;
        // A connection that never sends a request head is closed, with nothing sent.
        let mut idle = TcpStream::connect(t.server.addr()).await.unwrap();
        assert_eq!(read_until_closed(&mut idle).await, "");
        // Half a request head: a SCIM 408, then the connection closes.
        let mut half = TcpStream::connect(t.server.addr()).await.unwrap();
        half.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let answer = read_until_closed(&mut half).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            answer.contains("request head did not arrive within 1 s"),
            "{answer}"
        );
        assert!(
            answer.contains("urn:ietf:params:scim:api:messages:2.0:Error"),
            "{answer}"
        );
        // A kept-alive connection idle after its answer closes without a stray 408 (a client
        // would read it as the answer to its next request).
        let mut kept = TcpStream::connect(t.server.addr()).await.unwrap();
        kept.write_all(raw_request("GET", "/ServiceProviderConfig", "", "").as_bytes())
            .await
            .unwrap();
        let answer = read_until_closed(&mut kept).await;
        assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "{answer}");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // A head whose body never finishes: a SCIM 408.
        let mut slow = TcpStream::connect(t.server.addr()).await.unwrap();
        let req = raw_request(
            "POST",
            "/Users",
            "Content-Type: application/scim+json\r\nContent-Length: 100\r\n",
            "{\"userName\":",
        );
        slow.write_all(req.as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut slow).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("did not arrive within 1 s"), "{answer}");
        // Nothing was created by the half-sent body.
        assert_eq!(t.total("/Users?count=0").await, 0);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn connections_are_bounded_and_concurrent_writes_lose_nothing() {
        let t = server_with_limits(Limits {
            max_connections: 3,
            header_timeout: Duration::from_secs(60),
            ..Limits::default()
        })
        .await;
        // Three slow clients hold every connection the server serves, each in the middle of a
        // request body. (Connections between or before requests would be closed to make room:
        // see `listen`.)
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut s = TcpStream::connect(t.server.addr()).await.unwrap();
            let req = raw_request(
                "POST",
                "/Users",
                "Content-Type: application/scim+json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n",
                "",
            );
            s.write_all(req.as_bytes()).await.unwrap();
            // hyper says "100 Continue" once the handler starts reading the body: from here on
            // the connection is busy with a request.
            let mut interim = [0u8; 25];
            s.read_exact(&mut interim).await.unwrap();
            assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
            held.push(s);
        }
        let mut waiting = TcpStream::connect(t.server.addr()).await.unwrap();
        let req = raw_request("GET", "/ServiceProviderConfig", "Connection: close\r\n", "");
        waiting.write_all(req.as_bytes()).await.unwrap();
        let mut first = [0u8; 1];
        let early =
            tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut first)).await;
        assert!(
            early.is_err(),
            "a fourth connection was served while three were held"
        );
        // One holder leaves: the waiting client is served.
        drop(held.pop());
        let answer = read_until_closed(&mut waiting).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        drop(held);

        // An idle kept-alive connection does not keep a waiting client out: it is closed.
        let mut idle = TcpStream::connect(t.server.addr()).await.unwrap();
        let req = raw_request("GET", "/ServiceProviderConfig", "", "");
        idle.write_all(req.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        idle.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");

        // Many more writers than connections, through one pooling client: every write lands
        // exactly once, and nobody waits on a connection kept alive for nothing (this
        // deadlocked until idle connections were closed at capacity; see `listen`).
        let futs = (0..30).map(|i| {
            let t = &t;
            async move {
                t.post("/Users", json!({"userName": format!("bounded{i}")}))
                    .await
                    .status
            }
        });
        let statuses = tokio::time::timeout(HANG_GUARD, futures_util::future::join_all(futs))
            .await
            .expect("writes finish");
        assert!(
            statuses.iter().all(|s| *s == StatusCode::CREATED),
            "{statuses:?}"
        );
        assert_eq!(t.total("/Users?count=0").await, 30);
        t.server.shutdown().await;
    }
}

mod quirks {
    use super::*;
    use Quirk as Q;

    fn q(f: &str) -> String {
        format!(
            "/Users?filter={}",
            percent_encoding::utf8_percent_encode(f, percent_encoding::NON_ALPHANUMERIC)
        )
    }

    // One test per quirk, each on a server with that quirk alone, so a failure names the
    // behaviour that broke.

    #[tokio::test]
    async fn case_sensitive_username_filter_misses_another_case() {
        let t = server_with(&[Q::CaseSensitiveUsernameFilter]).await;
        t.user("Alice").await;
        assert_eq!(t.total(&q(r#"userName eq "alice""#)).await, 0);
        assert_eq!(t.total(&q(r#"userName eq "Alice""#)).await, 1);
    }

    /// RFC 7643 §4.1.1: userName is caseExact=false and unique, so "Ann@…" and "ann@…" are one
    /// userName. The clean server refuses a create or a rename (PUT, PATCH) to a case variant
    /// of another user's userName; under the quirk all three are accepted, while the exact
    /// value and a user's own rename in another case stay as on the clean server, and the
    /// filter still ignores case (so a lookup finds every variant).
    #[tokio::test]
    async fn case_sensitive_username_uniqueness_takes_a_case_variant_for_another_user() {
        async fn writes(t: &T) -> [u16; 3] {
            t.user("Ann@x.test").await;
            let bob = t.user("bob@x.test").await;
            let create = t.post("/Users", json!({"userName": "ann@x.test"})).await;
            let put = t
                .put(&format!("/Users/{bob}"), json!({"userName": "ANN@x.test"}))
                .await;
            let patch = t
                .patch(
                    &format!("/Users/{bob}"),
                    patch_body(
                        json!([{"op": "replace", "path": "userName", "value": "ann@X.test"}]),
                    ),
                )
                .await;
            // Still refused: the very same userName. Still allowed: a user's own case change.
            assert_scim_error(
                &t.post("/Users", json!({"userName": "Ann@x.test"})).await,
                409,
                Some("uniqueness"),
            );
            let carol = t.user("carol@x.test").await;
            let own = t
                .put(
                    &format!("/Users/{carol}"),
                    json!({"userName": "Carol@X.test"}),
                )
                .await;
            assert_eq!(own.status, 200, "{}", own.text);
            [create.status, put.status, patch.status].map(|s| s.as_u16())
        }
        let clean = server().await;
        assert_eq!(writes(&clean).await, [409, 409, 409]);
        assert_eq!(clean.total(&q(r#"userName eq "ann@x.test""#)).await, 1);
        let t = server_with(&[Q::CaseSensitiveUsernameUniqueness]).await;
        assert_eq!(writes(&t).await, [201, 200, 200]);
        // Three users now hold one userName, and the IdPs' lookup finds all three.
        assert_eq!(t.total(&q(r#"userName eq "ann@x.test""#)).await, 3);
        // Group displayNames keep their check.
        t.group("Eng", &[]).await;
        assert_eq!(
            t.post("/Groups", json!({"displayName": "ENG"}))
                .await
                .status,
            409
        );
    }

    #[tokio::test]
    async fn string_counters_quote_the_list_numbers() {
        let t = server_with(&[Q::StringCounters]).await;
        let r = t.get(&q(r#"userName eq "x""#)).await;
        assert_eq!(r.body["totalResults"], "0");
        assert_eq!(r.body["startIndex"], "1");
    }

    #[tokio::test]
    async fn omit_empty_resources_drops_the_empty_list() {
        let t = server_with(&[Q::OmitEmptyResources]).await;
        let r = t.get(&q(r#"userName eq "x""#)).await;
        assert_eq!(r.status, 200);
        assert!(r.body.get("Resources").is_none());
    }

    #[tokio::test]
    async fn filter_miss_404_answers_a_miss_with_not_found() {
        let t = server_with(&[Q::FilterMiss404]).await;
        t.user("bob").await;
        assert_eq!(t.get(&q(r#"userName eq "x""#)).await.status, 404);
        assert_eq!(t.get(&q(r#"userName eq "bob""#)).await.status, 200);
    }

    #[tokio::test]
    async fn items_per_page_is_count_past_the_end() {
        let t = server_with(&[Q::ItemsPerPageIsCount]).await;
        t.user("bob").await;
        let r = t.get("/Users?startIndex=101&count=100").await;
        assert_eq!(r.body["itemsPerPage"], 100);
        assert_eq!(r.body["Resources"], json!([]));
    }

    #[tokio::test]
    async fn hide_inactive_users_from_filters_only() {
        let t = server_with(&[Q::HideInactiveUsers]).await;
        let id = t.user("carol").await;
        t.patch(
            &format!("/Users/{id}"),
            patch_body(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
        assert_eq!(t.total(&q(r#"userName eq "carol""#)).await, 0);
        assert_eq!(t.get(&format!("/Users/{id}")).await.status, 200);
    }

    #[tokio::test]
    async fn ignore_excluded_attributes_returns_members_anyway() {
        let t = server_with(&[Q::IgnoreExcludedAttributes]).await;
        let u = t.user("dave").await;
        let gid = t.group("g", &[&u]).await;
        assert!(t
            .get(&format!("/Groups/{gid}?excludedAttributes=members"))
            .await
            .body
            .get("members")
            .is_some());
    }

    #[tokio::test]
    async fn create_returns_200_instead_of_201() {
        let t = server_with(&[Q::CreateReturns200]).await;
        assert_eq!(t.post("/Users", json!({"userName": "x"})).await.status, 200);
    }

    #[tokio::test]
    async fn json_content_type_instead_of_scim() {
        let t = server_with(&[Q::JsonContentType]).await;
        let r = t.post("/Users", json!({"userName": "x"})).await;
        assert_eq!(r.ctype(), "application/json");
    }

    #[tokio::test]
    async fn error_status_integer_instead_of_string() {
        let t = server_with(&[Q::ErrorStatusInteger]).await;
        let r = t.get("/Users/missing").await;
        assert_eq!(r.body["status"], 404);
    }

    #[tokio::test]
    async fn html_404_for_a_missing_resource() {
        let t = server_with(&[Q::Html404]).await;
        let r = t.get("/Users/missing").await;
        assert_eq!(r.status, 404);
        assert!(r.ctype().starts_with("text/html"));
        assert!(r.text.contains("<html>"));
    }

    #[tokio::test]
    async fn reject_scim_accept_takes_only_application_json() {
        let t = server_with(&[Q::RejectScimAccept]).await;
        assert_eq!(t.get("/Users").await.status, 406);
        let r = t
            .http
            .get(format!("{}/Users", t.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    #[tokio::test]
    async fn require_accept_header_refuses_a_request_without_one() {
        let t = server_with(&[Q::RequireAcceptHeader]).await;
        // reqwest always adds `Accept: */*`, so speak raw HTTP to send none (like Entra).
        assert!(raw_get_status_line(&t, "/Users").await.contains(" 406 "));
        assert_eq!(t.get("/Users").await.status, 200);
    }

    #[tokio::test]
    async fn no_duplicate_check_creates_twins() {
        let t = server_with(&[Q::NoDuplicateCheck]).await;
        t.user("dup").await;
        assert_eq!(
            t.post("/Users", json!({"userName": "DUP"})).await.status,
            201
        );
        t.group("G", &[]).await;
        assert_eq!(
            t.post("/Groups", json!({"displayName": "G"})).await.status,
            201
        );
    }

    #[tokio::test]
    async fn deactivate_deletes_user() {
        let t = server_with(&[Q::DeactivateDeletesUser]).await;
        let id = t.user("gone").await;
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "replace", "value": {"active": false}}])),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(t.get(&format!("/Users/{id}")).await.status, 404);
    }

    #[tokio::test]
    async fn reject_readonly_on_put_refuses_the_echoed_resource() {
        let t = server_with(&[Q::RejectReadonlyOnPut]).await;
        let id = t.user("ro").await;
        let got = t.get(&format!("/Users/{id}")).await.body;
        assert_scim_error(
            &t.put(&format!("/Users/{id}"), got).await,
            400,
            Some("mutability"),
        );
        assert_eq!(
            t.put(
                &format!("/Users/{id}"),
                json!({"userName": "ro", "title": "t"})
            )
            .await
            .status,
            200
        );
    }

    #[tokio::test]
    async fn reject_string_booleans_in_patch() {
        let t = server_with(&[Q::RejectStringBooleans]).await;
        let id = t.user("sb").await;
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "replace", "path": "active", "value": false}])),
            )
            .await;
        assert_eq!(r.status, 200);
    }

    #[tokio::test]
    async fn strict_role_subattributes_refuses_display_name_and_keeps_the_text() {
        let t = server_with(&[Q::StrictRoleSubattributes]).await;
        let role = json!({"primary": false, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"});
        let r = t
            .post(
                "/Users",
                json!({"userName": "strict-roles", "roles": [role]}),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidSyntax"));
        assert!(r.text.contains("displayName"), "{}", r.text);
        let id = t.user("strict-roles").await;
        let text = r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#;
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "Add", "path": "roles", "value": [{"value": text}]}])),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["roles"], json!([{"value": text}]));
    }

    #[tokio::test]
    async fn ignore_pathless_patch_answers_200_and_changes_nothing() {
        let t = server_with(&[Q::IgnorePathlessPatch]).await;
        let id = t.user("pl").await;
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "replace", "value": {"active": false}}])),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["active"], true);
    }

    #[tokio::test]
    async fn patch_noop_204_drops_the_change() {
        let t = server_with(&[Q::PatchNoop204]).await;
        let id = t.user("noop").await;
        let r = t
            .patch(
                &format!("/Users/{id}"),
                patch_body(json!([{"op": "replace", "path": "title", "value": "x"}])),
            )
            .await;
        assert_eq!(r.status, 204);
        assert!(t
            .get(&format!("/Users/{id}"))
            .await
            .body
            .get("title")
            .is_none());
    }

    #[tokio::test]
    async fn reject_id_in_patch_value() {
        let t = server_with(&[Q::RejectIdInPatchValue]).await;
        let u = t.user("m").await;
        let gid = t.group("G", &[&u]).await;
        let r = t
            .patch(
                &format!("/Groups/{gid}"),
                patch_body(json!([{"op": "replace", "value": {"id": gid, "displayName": "G2"}}])),
            )
            .await;
        assert_scim_error(&r, 400, Some("mutability"));
        assert_eq!(t.members(&gid).await, vec![u.clone()]);
    }

    #[tokio::test]
    async fn rename_wipes_members() {
        let t = server_with(&[Q::RenameWipesMembers]).await;
        let u = t.user("m").await;
        let gid = t.group("G", &[&u]).await;
        let r = t
            .patch(
                &format!("/Groups/{gid}"),
                patch_body(json!([{"op": "replace", "value": {"displayName": "G2"}}])),
            )
            .await;
        assert_eq!(r.status, 204);
        assert!(t.members(&gid).await.is_empty());
    }

    #[tokio::test]
    async fn ignore_filtered_member_remove_keeps_the_member() {
        let t = server_with(&[Q::IgnoreFilteredMemberRemove]).await;
        let u = t.user("m").await;
        let gid = t.group("G", &[&u]).await;
        let r = t
            .patch(
                &format!("/Groups/{gid}"),
                patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}])),
            )
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(t.members(&gid).await, vec![u.clone()]);
    }

    #[tokio::test]
    async fn return_password_renders_the_write_only_password() {
        let t = server_with(&[Q::ReturnPassword]).await;
        let r = t
            .post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "pw", "password": "4a9XuKkx"}),
            )
            .await;
        assert_eq!(r.body["password"], "4a9XuKkx");
        let id = r.body["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            t.get(&format!("/Users/{id}")).await.body["password"],
            "4a9XuKkx"
        );
        // The clean server never returns it.
        let clean = server().await;
        let r = clean
            .post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "pw", "password": "4a9XuKkx"}),
            )
            .await;
        assert!(r.body.get("password").is_none(), "{}", r.text);
    }

    #[tokio::test]
    async fn duplicate_members_stores_a_member_added_again() {
        let add = |u: &str| {
            patch_body(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]))
        };
        let t = server_with(&[Q::DuplicateMembers]).await;
        let u = t.user("m").await;
        let gid = t.group("G", &[&u]).await;
        assert_eq!(
            t.patch(&format!("/Groups/{gid}"), add(&u)).await.status,
            204
        );
        assert_eq!(t.members(&gid).await, vec![u.clone(), u.clone()]);
        // The clean server treats the second add as no change (RFC 7644 §3.5.2.1).
        let clean = server().await;
        let u = clean.user("m").await;
        let gid = clean.group("G", &[&u]).await;
        clean.patch(&format!("/Groups/{gid}"), add(&u)).await;
        assert_eq!(clean.members(&gid).await, vec![u]);
    }

    /// Entra's member removal: `Remove` on `members` with the member in `value`.
    fn entra_remove(u: &str) -> Value {
        patch_body(json!([{"op": "Remove", "path": "members", "value": [{"value": u}]}]))
    }

    #[tokio::test]
    async fn reject_entra_member_remove() {
        let t = server_with(&[Q::RejectEntraMemberRemove]).await;
        let (a, b) = (t.user("a").await, t.user("b").await);
        let gid = t.group("G", &[&a, &b]).await;
        assert_scim_error(
            &t.patch(&format!("/Groups/{gid}"), entra_remove(&a)).await,
            400,
            Some("invalidValue"),
        );
        assert_eq!(t.members(&gid).await.len(), 2);
    }

    #[tokio::test]
    async fn rfc_literal_member_remove_removes_every_member() {
        let t = server_with(&[Q::RfcLiteralMemberRemove]).await;
        let (a, b) = (t.user("a").await, t.user("b").await);
        let gid = t.group("G", &[&a, &b]).await;
        assert_eq!(
            t.patch(&format!("/Groups/{gid}"), entra_remove(&a))
                .await
                .status,
            204
        );
        assert!(t.members(&gid).await.is_empty());
    }

    #[tokio::test]
    async fn lose_concurrent_writes_acknowledges_and_drops() {
        let t = server_with(&[Q::LoseConcurrentWrites]).await;
        let futs = (0..10).map(|i| {
            let t = &t;
            async move {
                t.post("/Users", json!({"userName": format!("lost{i}")}))
                    .await
                    .status
            }
        });
        let statuses = futures_util::future::join_all(futs).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::CREATED));
        assert!(
            t.total("/Users").await < 10,
            "acknowledged creates were lost"
        );
    }

    #[tokio::test]
    async fn duplicate_on_race_creates_twins_concurrently_only() {
        let t = server_with(&[Q::DuplicateOnRace]).await;
        let futs = (0..5).map(|_| {
            let t = &t;
            async move { t.post("/Users", json!({"userName": "twin"})).await.status }
        });
        let statuses = futures_util::future::join_all(futs).await;
        assert!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count()
                > 1
        );
        assert!(t.total("/Users?filter=userName+eq+%22twin%22").await > 1);
        // Sequential duplicates are still caught.
        assert_eq!(
            t.post("/Users", json!({"userName": "twin"})).await.status,
            409
        );
    }

    #[test]
    fn every_quirk_is_named_and_sourced() {
        assert!(Quirk::all().len() >= 25);
        for info in Quirk::all() {
            assert_eq!(Quirk::from_name(info.name), Some(info.quirk));
            assert!(info.source.contains("http") || info.source.contains("RFC"));
        }
    }
}

/// `--data` that cannot be written: the write is refused (500) and leaves no trace — not in
/// memory (a retry is no conflict, a read does not find it), not in a later write's file — and
/// the answer does not name the server's file.
mod failed_writes {
    use super::*;

    fn user_body(name: &str) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true})
    }

    /// Makes the data file unwritable whoever runs the test (root included): the atomic
    /// rename onto a non-empty directory fails.
    fn block(file: &std::path::Path) {
        let _ = std::fs::remove_file(file);
        std::fs::create_dir_all(file.join("blocker")).expect("mkdir");
    }
    fn unblock(file: &std::path::Path) {
        std::fs::remove_dir_all(file).expect("rmdir");
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_trace_and_names_no_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("store.json");
        let t = server_cfg(ServerConfig {
            token: Some(TOKEN.into()),
            data: Some(file.clone()),
            ..ServerConfig::default()
        })
        .await;
        let kept = t.user("kept").await;

        block(&file);
        let r = t.post("/Users", user_body("refused")).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
        assert!(
            !r.text.contains(dir.path().to_str().expect("utf-8")) && !r.text.contains("store.json"),
            "the 500 names no path: {}",
            r.text
        );
        // An update and a delete that cannot be stored are not made either.
        let r = t
            .patch(
                &format!("/Users/{kept}"),
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
        let r = t.delete(&format!("/Users/{kept}")).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
        let r = t.get("/Users?filter=userName%20eq%20%22refused%22").await;
        assert_eq!(
            r.body["totalResults"], 0,
            "the refused user is not in memory: {}",
            r.text
        );
        let r = t.get(&format!("/Users/{kept}")).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "the refused delete did not happen"
        );
        assert!(
            r.body.get("displayName").is_none(),
            "the refused PATCH did not happen: {}",
            r.text
        );

        unblock(&file);
        t.user("later").await;
        let stored = std::fs::read_to_string(&file).expect("the data file");
        assert!(stored.contains("later") && stored.contains("kept"));
        assert!(
            !stored.contains("refused") && !stored.contains("Changed"),
            "a later write persists nothing the client was told failed: {stored}"
        );
        // The retry of the refused create is a create, not a conflict.
        let r = t.post("/Users", user_body("refused")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
}

/// What one PATCH may make the server do: at most 1000 operations and 10,000 values, refused
/// whole beyond (nothing applied); PATCHes applied with the store unlocked lose nothing to each
/// other.
mod patch_work {
    use super::*;

    const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    #[tokio::test]
    async fn a_patch_beyond_the_limits_is_refused_whole() {
        let t = server().await;
        let id = t.user("bounded").await;
        let ops = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"op": "replace", "path": "displayName", "value": format!("Name {i}")}))
                .collect()
        };
        let r = t
            .patch(
                &format!("/Users/{id}"),
                json!({"schemas": [PATCH_OP], "Operations": ops(1001)}),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert!(
            r.text.contains("1001 operations") && r.text.contains("at most 1000"),
            "{}",
            r.text
        );
        assert!(t
            .get(&format!("/Users/{id}"))
            .await
            .body
            .get("displayName")
            .is_none());
        let r = t
            .patch(
                &format!("/Users/{id}"),
                json!({"schemas": [PATCH_OP], "Operations": ops(1000)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["displayName"], "Name 999");

        let group = t.group("big", &[]).await;
        let members: Vec<Value> = (0..10_001)
            .map(|i| json!({"value": format!("m-{i}")}))
            .collect();
        let r = t
            .patch(
                &format!("/Groups/{group}"),
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": members}]}),
            )
            .await;
        assert_scim_error(&r, 400, Some("invalidValue"));
        assert!(r.text.contains("10001 values"), "{}", r.text);
        t.server.shutdown().await;
    }

    /// The IdPs' membership PATCHes are read by their own reader; a body that is not valid JSON
    /// (RFC 8259 §8.1 UTF-8, §8.2 strings, numbers a parser cannot hold, deeper than the
    /// server's nesting bound) is refused with 400 invalidSyntax whichever reader sees it —
    /// here the flaw sits in `schemas`, the one member a reader could skip over unread.
    #[tokio::test]
    async fn a_membership_patch_that_is_not_json_is_refused() {
        let t = server().await;
        let ann = t.user("ann").await;
        let group = t.group("eng", &[]).await;
        let version = t.get(&format!("/Groups/{group}")).await.header("etag");
        let ops = format!(
            r#""Operations":[{{"op":"add","path":"members","value":[{{"value":"{ann}"}}]}}]"#
        );
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let bodies: Vec<Vec<u8>> = vec![
            [
                &br#"{"schemas":[""#[..],
                b"\xff\xfe",
                br#""],"#,
                ops.as_bytes(),
                b"}",
            ]
            .concat(),
            format!(r#"{{"schemas":["\ud800"],{ops}}}"#).into_bytes(),
            format!(r#"{{"schemas":1e400,{ops}}}"#).into_bytes(),
            format!(r#"{{"schemas":{deep},{ops}}}"#).into_bytes(),
        ];
        for body in bodies {
            let r = t
                .http
                .patch(format!("{}/Groups/{group}", t.base))
                .header("Authorization", format!("Bearer {TOKEN}"))
                .header("Content-Type", "application/scim+json")
                .body(body.clone())
                .send()
                .await
                .expect("request");
            let shown = String::from_utf8_lossy(&body);
            assert_eq!(r.status(), 400, "{}", &shown[..shown.len().min(80)]);
            let err: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            assert_eq!(err["scimType"], "invalidSyntax", "{err}");
        }
        let after = t.get(&format!("/Groups/{group}")).await;
        assert_eq!(after.body["members"], json!([]), "{}", after.text);
        assert_eq!(after.header("etag"), version);
        // The same PATCH in valid JSON is applied.
        let r = t
            .patch(
                &format!("/Groups/{group}"),
                serde_json::from_str(&format!(r#"{{"schemas":["{PATCH_OP}"],{ops}}}"#)).unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert_eq!(t.members(&group).await, vec![ann]);
        t.server.shutdown().await;
    }

    #[tokio::test]
    async fn concurrent_patches_of_one_group_lose_no_member() {
        let t = server().await;
        let mut users = Vec::new();
        for i in 0..24 {
            users.push(t.user(&format!("member-{i}")).await);
        }
        let group = t.group("shared", &[]).await;
        let t = std::sync::Arc::new(t);
        let mut tasks = Vec::new();
        for u in users.clone() {
            let t = std::sync::Arc::clone(&t);
            let path = format!("/Groups/{group}");
            tasks.push(tokio::spawn(async move {
                t.patch(
                    &path,
                    json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": u}]}]}),
                )
                .await
                .status
            }));
        }
        for task in tasks {
            assert!(task.await.expect("task").is_success());
        }
        let r = t.get(&format!("/Groups/{group}")).await;
        let held: std::collections::BTreeSet<String> = r.body["members"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| m["value"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(held, users.into_iter().collect(), "{}", r.text);
    }
}
