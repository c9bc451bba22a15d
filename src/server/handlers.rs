//! HTTP dispatch: one handler receives every request, checks Accept quirks and auth, reads the
//! body under a size limit, routes by path segments below the base, and renders the reply.
//! Routing by hand (instead of axum's router) keeps `base = ""`, `/.search` and
//! `/Schemas/urn:…` simple and lets every failure, even 404/405, be a SCIM error body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::discovery;
use super::entitlements::{self, Catalog};
use super::extensions;
use super::manager;
use super::member_patch;
use super::patch;
use super::quirks::{Quirk, Quirks};
use super::resource::{self, RenderCtx, Wanted};
use super::response::{render_error, render_reply, Reply, ScimError};
use super::store::{now, Compare, Data, Resource, Store};
use crate::scim::filter::{self, get_ci, EvalOptions};
use crate::scim::path::AttrPath;
use crate::scim::schema::{ResourceKind, LIST_URN};

/// Largest accepted request body (issue 3 §9): 4 MiB, answered with a SCIM 413 beyond.
pub(crate) const BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Page size when the client gives no `count` (advertised nowhere, RFC leaves it open).
pub(crate) const DEFAULT_COUNT: usize = 100;
/// Largest page; advertised as `filter.maxResults` in /ServiceProviderConfig.
pub(crate) const MAX_COUNT: usize = 1000;

pub(crate) struct App {
    pub store: Store,
    pub quirks: Quirks,
    /// The roles and entitlements served at their own endpoints (`entitlements`).
    pub catalog: Catalog,
    pub token: Option<String>,
    /// Header, Basic and OAuth credentials besides the static token.
    pub auth: super::auth::ServerAuth,
    /// Access and refresh tokens and codes issued by the token endpoint.
    pub tokens: super::auth::Tokens,
    /// Normalised path prefix ("" or "/scim/v2").
    pub base_path: String,
    /// Absolute base URL used in `meta.location` and `$ref`.
    pub base_url: String,
    /// How long a client has to send a request body.
    pub body_timeout: std::time::Duration,
}

type Result<T> = std::result::Result<T, ScimError>;

pub(crate) async fn handle(State(app): State<Arc<App>>, req: Request) -> Response<Body> {
    if super::auth::is_oauth_path(&app, req.uri().path()) {
        return super::auth::handle(&app, req).await;
    }
    match dispatch(&app, req).await {
        Ok(reply) => render_reply(reply, &app.quirks),
        Err(e) => render_error(&e, &app.quirks),
    }
}

async fn dispatch(app: &App, req: Request) -> Result<Reply> {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if app.quirks.has(Quirk::RequireAcceptHeader) && accept.is_none() {
        return Err(ScimError::new(
            StatusCode::NOT_ACCEPTABLE,
            None,
            "an Accept header is required",
        ));
    }
    if app.quirks.has(Quirk::RejectScimAccept)
        && accept
            .map(|a| a.to_ascii_lowercase().contains("application/scim+json"))
            .unwrap_or(false)
    {
        return Err(ScimError::new(
            StatusCode::NOT_ACCEPTABLE,
            None,
            "application/scim+json is not acceptable",
        ));
    }
    let access = super::auth::check(app, headers);
    if access != super::auth::Access::Granted {
        return Err(super::auth::refuse(app, &access));
    }

    let path = parts.uri.path();
    let rest = match path.strip_prefix(app.base_path.as_str()) {
        Some(r) if r.is_empty() || r.starts_with('/') => r,
        _ => return Err(ScimError::not_found(format!("no such endpoint: {path}"))),
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let query = parse_query(parts.uri.query());

    let method = parts.method.clone();
    let raw = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        let too_big = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .map(|n| n > BODY_LIMIT)
            .unwrap_or(false);
        if too_big {
            return Err(payload_too_large());
        }
        Some(read_body(body, app.body_timeout).await?)
    } else {
        None
    };
    // Parsed only by endpoints that take a body, so e.g. POST /Schemas is a 405, not a 400.
    let json = || -> Result<Value> {
        match &raw {
            Some(b) => parse_json(b),
            None => Err(ScimError::bad("invalidSyntax", "request body is missing")),
        }
    };

    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    let kind_of = |s: &str| match s {
        "Users" => Some(ResourceKind::User),
        "Groups" => Some(ResourceKind::Group),
        _ => None,
    };
    let discovery_path = matches!(
        seg.first(),
        Some(&("ServiceProviderConfig" | "Schemas" | "ResourceTypes"))
    );
    if discovery_path && method != Method::GET && seg.len() <= 2 {
        return Err(method_not_allowed(&method));
    }
    match (&method, seg.as_slice()) {
        (&Method::GET, ["ServiceProviderConfig"]) => Ok(Reply::json(
            StatusCode::OK,
            discovery::service_provider_config(&app.base_url, &app.catalog),
        )),
        (&Method::GET, ["Schemas"]) => Ok(Reply::json(
            StatusCode::OK,
            discovery::schemas(&app.base_url, &app.catalog, &app.quirks),
        )),
        (&Method::GET, ["Schemas", id]) => {
            discovery::schema(&app.base_url, &app.catalog, &app.quirks, id)
                .map(|v| Reply::json(StatusCode::OK, v))
        }
        (&Method::GET, ["ResourceTypes"]) => Ok(Reply::json(
            StatusCode::OK,
            discovery::resource_types(&app.base_url, &app.catalog, &app.quirks),
        )),
        (&Method::GET, ["ResourceTypes", id]) => {
            discovery::resource_type(&app.base_url, &app.catalog, &app.quirks, id)
                .map(|v| Reply::json(StatusCode::OK, v))
        }
        (m, [seg, rest @ ..]) if rest.len() <= 1 && app.catalog.by_segment(seg).is_some() => {
            catalog_request(app, m, seg, rest.first().copied(), &query)
        }
        (&Method::POST, [".search"]) => {
            let params = ListParams::from_body(Some(&json()?))?;
            list(app, &[ResourceKind::User, ResourceKind::Group], &params).await
        }
        (m, [coll]) if kind_of(coll).is_some() => {
            let kind = kind_of(coll).unwrap_or(ResourceKind::User);
            match *m {
                Method::GET => list(app, &[kind], &ListParams::from_query(&query)?).await,
                Method::POST => create(app, kind, Some(&json()?)).await,
                _ => Err(method_not_allowed(m)),
            }
        }
        (&Method::POST, [coll, ".search"]) if kind_of(coll).is_some() => {
            let kind = kind_of(coll).unwrap_or(ResourceKind::User);
            list(app, &[kind], &ListParams::from_body(Some(&json()?))?).await
        }
        (m, [coll, id]) if kind_of(coll).is_some() => {
            let kind = kind_of(coll).unwrap_or(ResourceKind::User);
            match *m {
                Method::GET => get_one(app, kind, id, &query, headers).await,
                Method::PUT => replace(app, kind, id, Some(&json()?), headers, &query).await,
                Method::PATCH => patch_one(app, kind, id, raw.as_deref(), headers, &query).await,
                Method::DELETE => delete(app, kind, id, headers).await,
                _ => Err(method_not_allowed(m)),
            }
        }
        _ => Err(ScimError::not_found(format!(
            "no such endpoint: {method} {path}"
        ))),
    }
}

/// The read-only entitlement endpoints: list and read; every write is a 405 (the draft's
/// schemas make every attribute readOnly; Okta only reads them).
fn catalog_request(
    app: &App,
    method: &Method,
    segment: &str,
    id: Option<&str>,
    query: &[(String, String)],
) -> Result<Reply> {
    let Some(t) = app.catalog.by_segment(segment) else {
        return Err(ScimError::not_found(format!(
            "no such endpoint: /{segment}"
        )));
    };
    if method != Method::GET {
        return Err(method_not_allowed(method));
    }
    let body = match id {
        Some(id) => t.get(id, &app.base_url)?,
        None => {
            let params = ListParams::from_query(query)?;
            t.list(
                params.start_index,
                params.count,
                params.filter.is_some(),
                &app.base_url,
                &app.quirks,
            )?
        }
    };
    Ok(Reply::json(StatusCode::OK, body))
}

fn payload_too_large() -> ScimError {
    ScimError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Some("tooLarge"),
        format!("request body exceeds {BODY_LIMIT} bytes"),
    )
}

fn method_not_allowed(m: &Method) -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!("method {m} not allowed here"),
    )
}

/// Reads a request body of at most [`BODY_LIMIT`] bytes that must arrive within `deadline`.
pub(super) async fn read_body(body: Body, deadline: std::time::Duration) -> Result<bytes::Bytes> {
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Err(_) => Err(ScimError::new(
            StatusCode::REQUEST_TIMEOUT,
            None,
            format!(
                "the request body did not arrive within {} s",
                deadline.as_secs_f64()
            ),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let over_limit =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            if over_limit {
                Err(payload_too_large())
            } else {
                Err(ScimError::bad(
                    "invalidSyntax",
                    format!("the request body could not be read: {e}"),
                ))
            }
        }
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::bad("invalidSyntax", "request body is empty"));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json stops at 128 levels of nesting, before any of it is built, so a
        // 100,000-deep body costs nothing; say so in words rather than "recursion limit".
        let detail = if e.to_string().starts_with("recursion limit exceeded") {
            format!(
                "request body is nested more than 128 levels deep (line {}, column {})",
                e.line(),
                e.column()
            )
        } else {
            format!("request body is not valid JSON: {e}")
        };
        ScimError::bad("invalidSyntax", detail)
    })
}

/// Query parameters with lower-cased names: Okta has been seen sending `startindex`
/// (Okta and SCIM Version 2.0, "Retrieve Users"), and RFC 7644 parameter names are compared case-insensitively here.
fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = q else { return vec![] };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            // application/x-www-form-urlencoded: '+' is a space (Okta/Entra send `userName+eq+…`).
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k).to_ascii_lowercase(), dec(v))
        })
        .collect()
}

fn qget<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn render_ctx<'a>(app: &'a App, index: &'a super::store::Index) -> RenderCtx<'a> {
    RenderCtx {
        base_url: &app.base_url,
        index,
        return_password: app.quirks.has(Quirk::ReturnPassword),
    }
}

fn projection(
    kind: ResourceKind,
    app: &App,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> (Vec<Wanted>, Vec<Wanted>) {
    let include = attributes
        .map(|a| resource::parse_wanted(kind, a))
        .unwrap_or_default();
    let exclude = if app.quirks.has(Quirk::IgnoreExcludedAttributes) {
        vec![]
    } else {
        excluded
            .map(|a| resource::parse_wanted(kind, a))
            .unwrap_or_default()
    };
    (include, exclude)
}

fn etag_matches(header_value: &str, etag: &str) -> bool {
    // Weak comparison (RFC 7232 §2.3.2): SCIM versions are weak ETags and clients echo them.
    let opaque = |s: &str| s.trim().trim_start_matches("W/").to_string();
    header_value
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == opaque(etag))
}

fn check_if_match(headers: &HeaderMap, r: &Resource) -> Result<()> {
    if let Some(im) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        if !etag_matches(im, &r.etag()) {
            return Err(ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                format!(
                    "If-Match {im} does not match the current version {}",
                    r.etag()
                ),
            ));
        }
    }
    Ok(())
}

fn body_object(body: Option<&Value>) -> Result<&Map<String, Value>> {
    match body {
        Some(Value::Object(o)) => Ok(o),
        _ => Err(ScimError::bad(
            "invalidSyntax",
            "request body must be a JSON object",
        )),
    }
}

fn unique_violation(kind: ResourceKind, attrs: &Map<String, Value>) -> ScimError {
    let attr = Data::unique_attr(kind);
    let v = attrs.get(attr).and_then(Value::as_str).unwrap_or("");
    ScimError::conflict(format!("{} with {attr} '{v}' already exists", kind.name()))
}

fn new_resource(kind: ResourceKind, attrs: Map<String, Value>) -> Resource {
    Resource::created_now(uuid::Uuid::new_v4().to_string(), kind, attrs)
}

/// How this server compares userNames for uniqueness: ignoring case (RFC 7643 §4.1.1), or
/// exactly under `case-sensitive-username-uniqueness` (Users only; groups keep their check).
fn unique_compare(app: &App, kind: ResourceKind) -> Compare {
    if kind == ResourceKind::User && app.quirks.has(Quirk::CaseSensitiveUsernameUniqueness) {
        Compare::Exactly
    } else {
        Compare::IgnoringCase
    }
}

/// A short pause used by the race quirks to widen their race windows deterministically.
async fn race_window() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn create(app: &App, kind: ResourceKind, body: Option<&Value>) -> Result<Reply> {
    let obj = body_object(body)?;
    extensions::check_listed(&app.quirks, obj)?;
    let mut attrs = resource::ingest(kind, obj, &app.quirks)?;
    extensions::strip(&app.quirks, &mut attrs);
    resource::check_required(kind, &attrs)?;
    entitlements::check_assignable(&app.catalog, None, &attrs)?;
    let unique_value = attrs
        .get(Data::unique_attr(kind))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let check_unique = !app.quirks.has(Quirk::NoDuplicateCheck);
    let compare = unique_compare(app, kind);
    let res = new_resource(kind, attrs);
    let id = res.id.clone();

    let data = if app.quirks.has(Quirk::LoseConcurrentWrites) {
        // Read-modify-write of the whole table outside the lock: concurrent creates overwrite
        // each other's tables, losing acknowledged users.
        let mut table = app.store.lock().await.table(kind).clone();
        if check_unique
            && table.iter().any(|r| {
                r.str_attr(Data::unique_attr(kind))
                    .is_some_and(|v| match compare {
                        Compare::IgnoringCase => super::store::eq_folded(v, &unique_value),
                        Compare::Exactly => v == unique_value,
                    })
            })
        {
            return Err(unique_violation(kind, &res.attrs));
        }
        race_window().await;
        table.push(res);
        let mut data = app.store.lock().await;
        let before = app.store.before_write(&data);
        *data.table_mut(kind) = table;
        data.reindex();
        (data, before)
    } else if app.quirks.has(Quirk::DuplicateOnRace) {
        // Check, release the lock, wait, insert without re-checking.
        if check_unique
            && app
                .store
                .lock()
                .await
                .is_taken(kind, &unique_value, None, compare)
        {
            return Err(unique_violation(kind, &res.attrs));
        }
        race_window().await;
        let mut data = app.store.lock().await;
        let before = app.store.before_write(&data);
        data.insert(res);
        (data, before)
    } else {
        let mut data = app.store.lock().await;
        if check_unique && data.is_taken(kind, &unique_value, None, compare) {
            return Err(unique_violation(kind, &res.attrs));
        }
        let before = app.store.before_write(&data);
        data.insert(res);
        (data, before)
    };
    let (mut data, before) = data;
    app.store.persist(&mut data, before).await?;
    let Some(r) = data.get(kind, &id) else {
        return Err(ScimError::internal("created resource vanished"));
    };
    let index = data.index_for(&[r]);
    let out = resource::render(r, &render_ctx(app, &index));
    let etag = r.etag();
    let location = format!("{}/{}/{}", app.base_url, kind.endpoint(), id);
    let status = if app.quirks.has(Quirk::CreateReturns200) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Reply::json(status, out)
        .header(header::LOCATION, location)
        .header(header::ETAG, etag))
}

async fn get_one(
    app: &App,
    kind: ResourceKind,
    id: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Reply> {
    let data = app.store.lock().await;
    let Some(r) = data.get(kind, id) else {
        return Err(ScimError::resource_not_found(kind.name(), id));
    };
    let etag = r.etag();
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        if etag_matches(inm, &etag) {
            return Ok(Reply::empty(StatusCode::NOT_MODIFIED).header(header::ETAG, etag));
        }
    }
    let index = data.index_for(&[r]);
    let full = resource::render(r, &render_ctx(app, &index));
    let (inc, exc) = projection(
        kind,
        app,
        qget(query, "attributes"),
        qget(query, "excludedattributes"),
    );
    Ok(
        Reply::json(StatusCode::OK, resource::project(full, kind, &inc, &exc))
            .header(header::ETAG, etag),
    )
}

/// Whether an update rewrote a group's member list (refile its members in the index) or left
/// it as stored (move the stored list over, refile nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Members {
    Rewritten,
    Kept,
}

/// Common tail of PUT and PATCH: validate, bump version, persist, apply
/// `deactivate-deletes-user`, and render.
#[allow(clippy::too_many_arguments)]
async fn finish_update(
    app: &App,
    kind: ResourceKind,
    id: &str,
    mut new_attrs: Map<String, Value>,
    mut data: tokio::sync::MutexGuard<'_, Data>,
    query: &[(String, String)],
    status: StatusCode,
    members: Members,
) -> Result<Reply> {
    resource::check_required(kind, &new_attrs)?;
    if !app.quirks.has(Quirk::NoDuplicateCheck) {
        if let Some(v) = new_attrs
            .get(Data::unique_attr(kind))
            .and_then(Value::as_str)
        {
            if data.is_taken(kind, v, Some(id), unique_compare(app, kind)) {
                return Err(unique_violation(kind, &new_attrs));
            }
        }
    }
    let before = app.store.before_write(&data);
    let Some(r) = data.get_mut(kind, id) else {
        return Err(ScimError::resource_not_found(kind.name(), id));
    };
    match members {
        // The stored list stays (a `members` that is not a list stays in the attributes).
        Members::Kept => {
            if let Some(list) = r.attrs.remove("members") {
                new_attrs.insert("members".into(), list);
            }
            r.attrs = new_attrs;
        }
        Members::Rewritten => r.set_attrs(new_attrs),
    }
    r.version += 1;
    r.last_modified = now();
    let deactivated =
        kind == ResourceKind::User && r.attrs.get("active") == Some(&Value::Bool(false));
    match members {
        Members::Rewritten => data.rekey(kind, id),
        Members::Kept => data.rekey_unique(kind, id),
    }
    let rendered = rendered(app, kind, id, &data, status);
    if deactivated && app.quirks.has(Quirk::DeactivateDeletesUser) {
        data.remove(kind, id);
    }
    app.store.persist(&mut data, before).await?;
    drop(data);
    reply_updated(app, kind, rendered, query, status)
}

/// The updated resource's representation (none for a 204, which carries no body) and ETag,
/// taken while the lock is held.
fn rendered(
    app: &App,
    kind: ResourceKind,
    id: &str,
    data: &Data,
    status: StatusCode,
) -> Option<(Option<Value>, String)> {
    data.get(kind, id).map(|r| {
        let body = (status != StatusCode::NO_CONTENT)
            .then(|| resource::render(r, &render_ctx(app, &data.index_for(&[r]))));
        (body, r.etag())
    })
}

fn reply_updated(
    app: &App,
    kind: ResourceKind,
    rendered: Option<(Option<Value>, String)>,
    query: &[(String, String)],
    status: StatusCode,
) -> Result<Reply> {
    let Some((full, etag)) = rendered else {
        return Err(ScimError::internal("updated resource vanished"));
    };
    let Some(full) = full else {
        return Ok(Reply::empty(status).header(header::ETAG, etag));
    };
    let (inc, exc) = projection(
        kind,
        app,
        qget(query, "attributes"),
        qget(query, "excludedattributes"),
    );
    Ok(Reply::json(status, resource::project(full, kind, &inc, &exc)).header(header::ETAG, etag))
}

async fn replace(
    app: &App,
    kind: ResourceKind,
    id: &str,
    body: Option<&Value>,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Reply> {
    let obj = body_object(body)?;
    if app.quirks.has(Quirk::RejectReadonlyOnPut) {
        for ro in ["id", "meta", "groups"] {
            if get_ci(obj, ro).is_some() && !(ro == "groups" && kind == ResourceKind::Group) {
                return Err(ScimError::bad(
                    "mutability",
                    format!("attribute '{ro}' is readOnly"),
                ));
            }
        }
    }
    extensions::check_listed(&app.quirks, obj)?;
    let mut attrs = resource::ingest(kind, obj, &app.quirks)?;
    extensions::strip(&app.quirks, &mut attrs);
    let lossy = app.quirks.has(Quirk::LoseConcurrentWrites);
    let data = app.store.lock().await;
    let Some(r) = data.get(kind, id) else {
        return Err(ScimError::resource_not_found(kind.name(), id));
    };
    check_if_match(headers, r)?;
    if kind == ResourceKind::User {
        if app.quirks.has(Quirk::DropAssignmentsOnPut) {
            entitlements::keep_stored_assignments(&r.attrs, &mut attrs);
        }
        entitlements::check_assignable(&app.catalog, Some(&r.attrs), &attrs)?;
    }
    // The write-only password survives a PUT that omits it: Okta's PUT is its GET echoed, and
    // the GET never contains the password.
    if let Some(p) = r.attrs.get("password") {
        attrs.entry("password").or_insert(p.clone());
    }
    let data = if lossy {
        drop(data);
        race_window().await;
        app.store.lock().await
    } else {
        data
    };
    finish_update(
        app,
        kind,
        id,
        attrs,
        data,
        query,
        StatusCode::OK,
        Members::Rewritten,
    )
    .await
}

async fn patch_one(
    app: &App,
    kind: ResourceKind,
    id: &str,
    raw: Option<&[u8]>,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Reply> {
    let lossy = app.quirks.has(Quirk::LoseConcurrentWrites);
    let group = kind == ResourceKind::Group;
    // Entra wants 204 for Groups PATCH (Entra's SCIM tutorial, what Entra requires of responses) unless the client asked for a
    // representation via attributes/excludedAttributes; Users get 200 with the resource.
    let wants_body =
        qget(query, "attributes").is_some() || qget(query, "excludedattributes").is_some();
    let status = if group && !wants_body {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::OK
    };
    // The IdPs' membership pushes change a few members of a group that may hold thousands:
    // applied in place and indexed by the ids that changed, they cost by the change (at most
    // `patch::check_size`'s values), so they are done under the lock, with no copy. (With a
    // --data file every write serialises the whole store anyway, and the general path keeps
    // the change on a copy until it is written.) The IdPs' own form is read from the bytes;
    // any other body is parsed, and may still be a membership PATCH.
    let in_place = group && !lossy && !app.store.persistent();
    let mut parsed = None;
    let edits = match raw
        .filter(|_| in_place)
        .map(|b| member_patch::read(b, &app.quirks))
    {
        Some(Some(edits)) => Some(edits),
        Some(None) => patch::member_edits(parsed.insert(patch_body(app, raw)?), &app.quirks),
        None => None,
    };
    if let Some(edits) = edits {
        let mut data = app.store.lock().await;
        match edit_in_place(app, kind, id, &mut data, edits, headers, status)? {
            InPlace::Done(rendered) => {
                drop(data);
                return reply_updated(app, kind, rendered, query, status);
            }
            InPlace::Noop => return Ok(Reply::empty(StatusCode::NO_CONTENT)),
            InPlace::NotAList => {}
        }
    }
    let body = match parsed {
        Some(body) => body,
        None => patch_body(app, raw)?,
    };
    let body = &body;
    // A PATCH that leaves the members alone (Okta's rename, a displayName change) works on a
    // copy of the group without them.
    let members = if group
        && !lossy
        && !app.quirks.has(Quirk::RenameWipesMembers)
        && !patch::touches_members(body)
    {
        Members::Kept
    } else {
        Members::Rewritten
    };
    // The operations are applied to a copy with the store unlocked: their work grows with the
    // request, and every other client waits while the store is held. The copy is written back
    // only if the resource is still the version it was copied from; else it is redone on the
    // newer one (a concurrent PATCH is never lost), a bounded number of times.
    let mut attempts = 0;
    let (attrs, data) = loop {
        attempts += 1;
        let data = app.store.lock().await;
        let Some(r) = data.get(kind, id) else {
            return Err(ScimError::resource_not_found(kind.name(), id));
        };
        check_if_match(headers, r)?;
        if app.quirks.has(Quirk::PatchNoop204) {
            return Ok(Reply::empty(StatusCode::NO_CONTENT));
        }
        let version = r.version;
        let mut attrs: Map<String, Value> = match members {
            Members::Kept => r
                .attrs
                .iter()
                .filter(|(k, _)| k.as_str() != "members")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Members::Rewritten => r.attrs_with_members(),
        };
        let stored = (kind == ResourceKind::User).then(|| r.attrs.clone());
        drop(data);
        patch::apply(kind, id, &mut attrs, body, &app.quirks)?;
        extensions::strip(&app.quirks, &mut attrs);
        if let Some(stored) = &stored {
            entitlements::check_assignable(&app.catalog, Some(stored), &attrs)?;
        }
        if lossy {
            // Modify a copy outside the lock, then write it back whole: a concurrent PATCH to
            // the same resource is overwritten.
            race_window().await;
            break (attrs, app.store.lock().await);
        }
        let data = app.store.lock().await;
        match data.get(kind, id) {
            None => return Err(ScimError::resource_not_found(kind.name(), id)),
            Some(r) if r.version == version => break (attrs, data),
            Some(_) if attempts >= PATCH_ATTEMPTS => {
                return Err(ScimError::new(
                    StatusCode::CONFLICT,
                    None,
                    "the resource kept changing while this PATCH was applied; retry it",
                ))
            }
            Some(_) => continue,
        }
    };
    finish_update(app, kind, id, attrs, data, query, status, members).await
}

/// A PATCH body parsed, and refused before any work when it is too large or carries what a
/// quirk refuses.
fn patch_body(app: &App, raw: Option<&[u8]>) -> Result<Value> {
    let body = match raw {
        Some(b) => parse_json(b)?,
        None => return Err(ScimError::bad("invalidSyntax", "PATCH needs a body")),
    };
    patch::check_size(&body)?;
    extensions::check_patch(&app.quirks, &body)?;
    manager::check_patch(&app.quirks, &body)?;
    Ok(body)
}

/// What [`edit_in_place`] did.
enum InPlace {
    /// Applied: the representation to answer with.
    Done(Option<(Option<Value>, String)>),
    /// The `patch-noop-204` quirk: nothing changed, 204.
    Noop,
    /// The group's `members` is not a list: the general path's.
    NotAList,
}

/// Applies membership edits to a group under the lock, after the checks every PATCH makes
/// (the group exists, `If-Match`), and bumps its version.
fn edit_in_place(
    app: &App,
    kind: ResourceKind,
    id: &str,
    data: &mut Data,
    edits: Vec<super::store::MemberEdit>,
    headers: &HeaderMap,
    status: StatusCode,
) -> Result<InPlace> {
    let Some(r) = data.get(kind, id) else {
        return Err(ScimError::resource_not_found(kind.name(), id));
    };
    check_if_match(headers, r)?;
    if app.quirks.has(Quirk::PatchNoop204) {
        return Ok(InPlace::Noop);
    }
    if r.attrs.contains_key("members") {
        return Ok(InPlace::NotAList);
    }
    if !data.edit_members(id, edits) {
        return Err(ScimError::resource_not_found(kind.name(), id));
    }
    if let Some(r) = data.get_mut(kind, id) {
        r.version += 1;
        r.last_modified = now();
    }
    Ok(InPlace::Done(rendered(app, kind, id, data, status)))
}

/// How many times a PATCH is redone on a resource that changed while it was being applied.
const PATCH_ATTEMPTS: u32 = 8;

async fn delete(app: &App, kind: ResourceKind, id: &str, headers: &HeaderMap) -> Result<Reply> {
    let mut data = app.store.lock().await;
    let Some(r) = data.get(kind, id) else {
        return Err(ScimError::resource_not_found(kind.name(), id));
    };
    check_if_match(headers, r)?;
    let before = app.store.before_write(&data);
    data.remove(kind, id);
    app.store.persist(&mut data, before).await?;
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// List/search parameters (RFC 7644 §3.4.2 query form, §3.4.3 SearchRequest body).
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    filter: Option<String>,
    sort_by: Option<String>,
    descending: bool,
    start_index: usize,
    count: Option<usize>,
    attributes: Option<String>,
    excluded: Option<String>,
}

fn parse_int(name: &str, v: &str) -> Result<i64> {
    v.trim().parse::<i64>().map_err(|_| {
        ScimError::bad(
            "invalidValue",
            format!("'{name}' must be an integer, got '{v}'"),
        )
    })
}

impl ListParams {
    fn build(
        filter: Option<String>,
        sort_by: Option<String>,
        sort_order: Option<String>,
        start: Option<i64>,
        count: Option<i64>,
        attributes: Option<String>,
        excluded: Option<String>,
    ) -> ListParams {
        ListParams {
            filter: filter.filter(|f| !f.trim().is_empty()),
            sort_by: sort_by.filter(|s| !s.trim().is_empty()),
            descending: sort_order
                .map(|o| o.eq_ignore_ascii_case("descending"))
                .unwrap_or(false),
            // RFC 7644 §3.4.2.4: startIndex < 1 is interpreted as 1; negative count as 0.
            start_index: start.unwrap_or(1).max(1) as usize,
            count: count.map(|c| (c.max(0) as usize).min(MAX_COUNT)),
            attributes,
            excluded,
        }
    }

    fn from_query(q: &[(String, String)]) -> Result<ListParams> {
        let start = qget(q, "startindex")
            .map(|v| parse_int("startIndex", v))
            .transpose()?;
        let count = qget(q, "count")
            .map(|v| parse_int("count", v))
            .transpose()?;
        Ok(Self::build(
            qget(q, "filter").map(str::to_string),
            qget(q, "sortby").map(str::to_string),
            qget(q, "sortorder").map(str::to_string),
            start,
            count,
            qget(q, "attributes").map(str::to_string),
            qget(q, "excludedattributes").map(str::to_string),
        ))
    }

    fn from_body(body: Option<&Value>) -> Result<ListParams> {
        let obj = body_object(body)?;
        let s = |k: &str| get_ci(obj, k).and_then(Value::as_str).map(str::to_string);
        let list = |k: &str| match get_ci(obj, k) {
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let int = |k: &str| -> Result<Option<i64>> {
            match get_ci(obj, k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                    ScimError::bad("invalidValue", format!("'{k}' must be an integer"))
                }),
                Some(Value::String(v)) => parse_int(k, v).map(Some),
                Some(_) => Err(ScimError::bad(
                    "invalidValue",
                    format!("'{k}' must be an integer"),
                )),
            }
        };
        Ok(Self::build(
            s("filter"),
            s("sortBy"),
            s("sortOrder"),
            int("startIndex")?,
            int("count")?,
            list("attributes"),
            list("excludedAttributes"),
        ))
    }
}

fn counter(app: &App, n: usize) -> Value {
    if app.quirks.has(Quirk::StringCounters) {
        json!(n.to_string())
    } else {
        json!(n)
    }
}

/// `attr eq "string"` on an attribute stored as a plain string: the shape of every IdP lookup.
fn lookup_key(f: &filter::Filter) -> Option<(&'static str, &str)> {
    let filter::Filter::Compare {
        path,
        op: filter::CompareOp::Eq,
        value: Value::String(v),
    } = f
    else {
        return None;
    };
    if path.sub.is_some()
        || path
            .urn
            .as_deref()
            .is_some_and(|u| !u.starts_with("urn:ietf:params:scim:schemas:core:"))
    {
        return None;
    }
    ["userName", "displayName", "externalId", "id"]
        .into_iter()
        .find(|a| a.eq_ignore_ascii_case(&path.attr))
        .map(|a| (a, v.as_str()))
}

/// Could this resource match `attr eq value`? Errs on the side of yes: the full filter decides.
fn prefilter(r: &super::store::Resource, attr: &str, value: &str, case_exact: bool) -> bool {
    let stored = if attr == "id" {
        Some(r.id.as_str())
    } else {
        r.str_attr(attr)
    };
    match stored {
        Some(s) if attr == "id" || attr == "externalId" || case_exact => s == value,
        // userName (User) and displayName are caseExact=false (RFC 7643 §4.1.1, §4.2).
        Some(s) => super::store::eq_folded(s, value),
        None => false,
    }
}

/// Lists one or more resource types: filter on the full representation, sort, page, project.
async fn list(app: &App, kinds: &[ResourceKind], p: &ListParams) -> Result<Reply> {
    let filter =
        match &p.filter {
            Some(f) => Some(filter::parse(f).map_err(|e| {
                ScimError::bad("invalidFilter", format!("invalid filter '{f}': {e}"))
            })?),
            None => None,
        };
    let opts = EvalOptions {
        force_case_exact: app.quirks.has(Quirk::CaseSensitiveUsernameFilter),
    };
    let data = app.store.lock().await;
    // The IdPs' lookups (`userName eq "…"`, `displayName eq "…"`, `externalId eq "…"`) pick
    // their candidates by one stored attribute instead of rendering every resource; the whole
    // filter is still evaluated on each candidate's full representation, so results are the same.
    let indexed = |kind: ResourceKind| -> Option<Vec<&super::store::Resource>> {
        let (attr, value) = filter.as_ref().and_then(lookup_key)?;
        match (attr, kind) {
            ("userName", ResourceKind::User) | ("displayName", ResourceKind::Group) => {
                Some(data.by_unique(kind, value))
            }
            ("id", _) => Some(data.get(kind, value).into_iter().collect()),
            _ => None,
        }
    };
    let candidates: Vec<(ResourceKind, &super::store::Resource)> = kinds
        .iter()
        .flat_map(|&kind| match indexed(kind) {
            Some(hits) => hits.into_iter().map(|r| (kind, r)).collect::<Vec<_>>(),
            None => data.table(kind).iter().map(|r| (kind, r)).collect(),
        })
        .filter(|(_, r)| match filter.as_ref().and_then(lookup_key) {
            Some((attr, value)) => prefilter(r, attr, value, opts.force_case_exact),
            None => true,
        })
        .filter(|(kind, r)| {
            !(*kind == ResourceKind::User
                && app.quirks.has(Quirk::HideInactiveUsers)
                && r.attrs.get("active") == Some(&Value::Bool(false)))
        })
        .collect();
    // Without a filter or a sort, the page is known before rendering: render only the page
    // (an importer paging through 100,000 users would otherwise render them all per page).
    let requested = p.count.unwrap_or(DEFAULT_COUNT);
    let windowed = filter.is_none() && p.sort_by.is_none();
    let unfiltered_total = candidates.len();
    let candidates: Vec<(ResourceKind, &super::store::Resource)> = if windowed {
        candidates
            .into_iter()
            .skip(p.start_index - 1)
            .take(requested)
            .collect()
    } else {
        candidates
    };
    let index = if candidates.len() == data.users.len() + data.groups.len() {
        data.index()
    } else {
        data.index_for(&candidates.iter().map(|(_, r)| *r).collect::<Vec<_>>())
    };
    let ctx = render_ctx(app, &index);
    let mut hits: Vec<(ResourceKind, Value)> = Vec::new();
    for (kind, r) in candidates {
        let v = resource::render(r, &ctx);
        if filter
            .as_ref()
            .map(|f| f.matches(&v, kind, opts))
            .unwrap_or(true)
        {
            hits.push((kind, v));
        }
    }
    drop(data);
    if let Some(sb) = &p.sort_by {
        let path = AttrPath::parse(sb)
            .map_err(|e| ScimError::bad("invalidValue", format!("invalid sortBy '{sb}': {e}")))?;
        let mut keyed: Vec<(Option<Value>, bool, (ResourceKind, Value))> = hits
            .into_iter()
            .map(|(k, v)| {
                (
                    resource::sort_key(&v, k, &path),
                    resource::case_exact(k, &path),
                    (k, v),
                )
            })
            .collect();
        // Stable sort; resources without the attribute go last in ascending order (RFC 7644
        // §3.4.2.3 leaves it open), and the whole order is reversed for descending.
        keyed.sort_by(|a, b| cmp_sort(&a.0, &b.0, a.1));
        if p.descending {
            keyed.reverse();
        }
        hits = keyed.into_iter().map(|(_, _, h)| h).collect();
    }
    let total = if windowed {
        unfiltered_total
    } else {
        hits.len()
    };
    if total == 0 && p.filter.is_some() && app.quirks.has(Quirk::FilterMiss404) {
        return Err(ScimError::not_found("no resources match the filter"));
    }
    let skip = if windowed { 0 } else { p.start_index - 1 };
    let page: Vec<Value> = hits
        .into_iter()
        .skip(skip)
        .take(requested)
        .map(|(k, mut v)| {
            if k == ResourceKind::User && app.quirks.has(Quirk::ListOmitsAssignments) {
                if let Some(o) = v.as_object_mut() {
                    o.remove("roles");
                    o.remove("entitlements");
                }
            }
            let (inc, exc) = projection(k, app, p.attributes.as_deref(), p.excluded.as_deref());
            resource::project(v, k, &inc, &exc)
        })
        .collect();
    let items = if app.quirks.has(Quirk::ItemsPerPageIsCount) {
        requested
    } else {
        page.len()
    };
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_URN]));
    out.insert("totalResults".into(), counter(app, total));
    out.insert("startIndex".into(), counter(app, p.start_index));
    out.insert("itemsPerPage".into(), counter(app, items));
    if !(page.is_empty() && app.quirks.has(Quirk::OmitEmptyResources)) {
        out.insert("Resources".into(), Value::Array(page));
    }
    Ok(Reply::json(StatusCode::OK, Value::Object(out)))
}

fn cmp_sort(a: &Option<Value>, b: &Option<Value>, case_exact: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (None, None) => Equal,
        (None, Some(_)) => Greater,
        (Some(_), None) => Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::String(x), Value::String(y)) => {
                if case_exact {
                    x.cmp(y)
                } else {
                    x.to_lowercase().cmp(&y.to_lowercase())
                }
            }
            (Value::Number(x), Value::Number(y)) => {
                x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Equal)
            }
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => Equal,
        },
    }
}
