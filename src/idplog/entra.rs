//! Entra provisioning logs: reading (Graph JSON, portal JSON, portal CSV) and reconstruction.
//!
//! Fields used (Microsoft Graph `provisioningObjectSummary` and its types, v1.0 reference;
//! docs/IDP-LOGS.md has the table): `activityDateTime`, `changeId`, `cycleId`, `jobId`,
//! `provisioningAction` (`create`, `update`, `delete`, `stagedDelete`, `disable`, `other`),
//! `provisioningStatusInfo.status` and `.errorInformation.{errorCode, reason}`,
//! `sourceIdentity` / `targetIdentity` `{id, displayName, identityType}`,
//! `modifiedProperties[] {displayName, oldValue, newValue}` (the *target* attribute names),
//! `provisioningSteps[] {name, provisioningStepType, status, description, details}`,
//! `targetSystem {displayName, details}`. The portal's JSON download is an array of the same
//! objects (Microsoft Learn's PowerShell examples read `.jobId`, `.action`, `.changeId`, so
//! `action` is accepted for `provisioningAction`, and keys match in any case).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{bad, bad_at, codes, csv, json, literal, Built, Failure, LogKind, Origin};
use crate::error::{Error, Result};
use crate::record::emit::Y;

#[derive(Clone, Debug, PartialEq)]
pub struct Prop {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub name: String,
    pub kind: String,
    pub status: String,
    pub description: String,
}

/// One provisioning event, as the log holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub origin: Origin,
    pub time: Option<i64>,
    pub time_text: String,
    pub change_id: Option<String>,
    pub cycle_id: Option<String>,
    pub job_id: Option<String>,
    /// Lower case: create, update, delete, stageddelete, disable, other.
    pub action: String,
    /// Lower case: success, failure, skipped, warning (empty when not logged).
    pub status: String,
    pub error_code: Option<String>,
    pub reason: Option<String>,
    /// Lower case: user, group, or what else the log names.
    pub identity_type: String,
    pub source_id: Option<String>,
    pub source_name: Option<String>,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub target_system: Option<String>,
    pub properties: Vec<Prop>,
    pub steps: Vec<StepRecord>,
    /// `aadOptscim062020` (or its 2020 name) appears in the event: the Tenant URL's flag.
    pub flag: bool,
}

impl Event {
    pub fn failed(&self) -> bool {
        self.status == "failure"
    }
    fn who(&self) -> String {
        let name = self
            .source_name
            .clone()
            .or_else(|| self.target_name.clone())
            .or_else(|| self.source_id.clone())
            .unwrap_or_else(|| "?".into());
        format!("{} '{}'", self.identity_type, super::clean_text(&name))
    }
    /// "2026-11-30T09:00:00Z create user 'Ann Ito' → success (change 1b2c…)".
    pub fn headline(&self) -> String {
        let change = self
            .change_id
            .as_deref()
            .map(|c| format!(", change {}", short(c)))
            .unwrap_or_default();
        let status = if self.status.is_empty() {
            String::new()
        } else {
            format!(" → {}", self.status)
        };
        format!(
            "{}: {} {}{status} ({}{change})",
            self.time_text,
            self.action,
            self.who(),
            self.origin
        )
    }
}

/// Entra's default mappings flow `objectId` into `externalId` (TUT's attribute tables); a log
/// that names the source attribute `objectId` means that target.
fn target_name(name: String) -> String {
    if name.eq_ignore_ascii_case("objectId") {
        "externalId".into()
    } else {
        name
    }
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

// ----- reading -----

/// Case-insensitive member lookup over alternative names.
fn get<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    let m = v.as_object()?;
    names.iter().find_map(|n| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v)
    })
}

/// A scalar as text; JSON null and empty strings are "no value".
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn mentions_flag(v: &Value) -> bool {
    let s = v.to_string().to_ascii_lowercase();
    s.contains("aadoptscim062020") || s.contains("azureadscimpatch062020")
}

fn event_from_json(v: &Value, origin: Origin) -> Result<Event> {
    if !v.is_object() {
        return Err(bad(&origin, "a provisioning event must be a JSON object"));
    }
    let action = text(get(v, &["provisioningAction", "action"]))
        .ok_or_else(|| {
            bad(
                &origin,
                "no `provisioningAction` (or `action`): is this an Entra provisioning log?",
            )
        })?
        .to_ascii_lowercase();
    let source = get(v, &["sourceIdentity"]);
    let target = get(v, &["targetIdentity"]);
    let identity_type = source
        .and_then(|s| text(get(s, &["identityType"])))
        .or_else(|| target.and_then(|t| text(get(t, &["identityType"]))))
        .ok_or_else(|| {
            bad(
                &origin,
                "no `sourceIdentity.identityType`: idpsim cannot tell a user from a group",
            )
        })?
        .to_ascii_lowercase();
    let status_info = get(v, &["provisioningStatusInfo", "statusInfo"]);
    let status = status_info
        .and_then(|s| text(get(s, &["status"])))
        .or_else(|| text(get(v, &["status"])))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let error = status_info.and_then(|s| get(s, &["errorInformation"]));
    let error_code = error
        .and_then(|e| text(get(e, &["errorCode"])))
        .or_else(|| text(get(v, &["errorCode"])));
    let reason = error
        .and_then(|e| text(get(e, &["reason"])))
        .or_else(|| text(get(v, &["reason", "errorReason", "statusReason"])));
    let mut properties = Vec::new();
    if let Some(list) = get(v, &["modifiedProperties"]) {
        let items = list
            .as_array()
            .ok_or_else(|| bad(&origin, "`modifiedProperties` must be a list"))?;
        for (i, p) in items.iter().enumerate() {
            let name = text(get(p, &["displayName", "name"])).ok_or_else(|| {
                bad(
                    &origin,
                    format!("modifiedProperties[{i}] has no `displayName`"),
                )
            })?;
            properties.push(Prop {
                name: target_name(name),
                old: text(get(p, &["oldValue"])),
                new: text(get(p, &["newValue"])),
            });
        }
    }
    let mut steps = Vec::new();
    if let Some(list) = get(v, &["provisioningSteps"]).and_then(Value::as_array) {
        for s in list {
            steps.push(StepRecord {
                name: text(get(s, &["name"])).unwrap_or_default(),
                kind: text(get(s, &["provisioningStepType", "type"]))
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                status: text(get(s, &["status"]))
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                description: text(get(s, &["description"])).unwrap_or_default(),
            });
        }
    }
    let time_text = text(get(v, &["activityDateTime", "date", "activityDate"])).unwrap_or_default();
    let flag = get(v, &["targetSystem"]).is_some_and(mentions_flag)
        || get(v, &["provisioningSteps"]).is_some_and(mentions_flag);
    Ok(Event {
        time: super::parse_time(&time_text),
        time_text,
        change_id: text(get(v, &["changeId"])),
        cycle_id: text(get(v, &["cycleId"])),
        job_id: text(get(v, &["jobId"])),
        action,
        status,
        error_code,
        reason,
        identity_type,
        source_id: source.and_then(|s| text(get(s, &["id"]))),
        source_name: source.and_then(|s| text(get(s, &["displayName"]))),
        target_id: target.and_then(|t| text(get(t, &["id"]))),
        target_name: target.and_then(|t| text(get(t, &["displayName"]))),
        target_system: get(v, &["targetSystem"]).and_then(|t| text(get(t, &["displayName"]))),
        properties,
        steps,
        flag,
        origin,
    })
}

/// What reading produced: the events in file order and what the files say is missing.
pub struct Read {
    pub events: Vec<Event>,
    pub gaps: Vec<String>,
}

pub fn read(inputs: &[PathBuf], kind: LogKind) -> Result<Read> {
    match kind {
        LogKind::EntraCsv => read_csv(inputs),
        _ => {
            let mut out = Read {
                events: Vec::new(),
                gaps: Vec::new(),
            };
            for p in inputs {
                let mut r = read_json(p)?;
                out.events.append(&mut r.events);
                out.gaps.append(&mut r.gaps);
            }
            Ok(out)
        }
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))
}

pub fn read_json(path: &Path) -> Result<Read> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    let doc: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        let hint = if e.is_eof() {
            " (the file ends early: is the download truncated?)"
        } else {
            ""
        };
        bad_at(
            &file,
            e.line(),
            e.column(),
            format!("not valid JSON: {e}{hint}"),
        )
    })?;
    // serde_json positions count from the text without the byte-order mark.
    let text = text.trim_start_matches('\u{feff}');
    let start = json::start(text);
    let mut gaps = Vec::new();
    let (records, offsets): (Vec<Value>, Vec<usize>) = match &doc {
        Value::Array(items) => (items.clone(), json::array_elements(text, start)),
        Value::Object(m) if m.contains_key("value") => {
            let items = m
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| {
                    let (l, c) = json::line_col(text, json::member(text, start, "value").unwrap_or(start));
                    bad_at(&file, l, c, "`value` must be the list of provisioning events")
                })?;
            if let Some(next) = m.get("@odata.nextLink").and_then(Value::as_str) {
                gaps.push(format!(
                    "{file} is one page of a longer Graph listing (`@odata.nextLink` is set): the events on the next pages are not in it; fetch them (GET the nextLink) and import all pages together (next page: {})",
                    super::clean_text(next.split('?').next().unwrap_or(""))
                ));
            }
            let offsets = json::member(text, start, "value")
                .map(|at| json::array_elements(text, at))
                .unwrap_or_default();
            (items, offsets)
        }
        Value::Object(_) => (vec![doc.clone()], vec![start]),
        _ => {
            return Err(bad_at(
                &file,
                1,
                1,
                "expected a provisioning event, a list of them, or a Graph collection {\"value\": [...]}",
            ))
        }
    };
    let mut events = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let (line, col) = json::line_col(text, offsets.get(i).copied().unwrap_or(start));
        let origin = Origin {
            file: file.clone(),
            line,
            col,
            record: i + 1,
        };
        events.push(event_from_json(r, origin)?);
    }
    Ok(Read { events, gaps })
}

// ----- CSV -----

/// Column names accepted for each field (normalised by `csv::norm`). Microsoft Learn names the
/// three files and the change-ID join, not the columns, so both Graph's property names and the
/// portal's column captions are accepted.
const C_CHANGE: &[&str] = &["changeid"];
const C_ACTION: &[&str] = &["action", "provisioningaction"];
const C_DATE: &[&str] = &[
    "date",
    "activitydatetime",
    "datetime",
    "activitydate",
    "dateutc",
];
const C_STATUS: &[&str] = &[
    "status",
    "provisioningstatus",
    "provisioningstatusinfostatus",
];
const C_CYCLE: &[&str] = &["cycleid"];
const C_JOB: &[&str] = &["jobid"];
const C_TYPE: &[&str] = &[
    "sourceidentitytype",
    "identitytype",
    "sourceidentityidentitytype",
    "targetidentitytype",
    "targetidentityidentitytype",
];
const C_SOURCE_ID: &[&str] = &["sourceidentityid", "sourceid"];
const C_SOURCE_NAME: &[&str] = &[
    "sourceidentitydisplayname",
    "sourcedisplayname",
    "sourceidentityname",
    "identity",
    "sourceidentity",
];
const C_TARGET_ID: &[&str] = &["targetidentityid", "targetid"];
const C_TARGET_NAME: &[&str] = &[
    "targetidentitydisplayname",
    "targetdisplayname",
    "targetidentityname",
    "targetidentity",
];
const C_TARGET_SYSTEM: &[&str] = &[
    "targetsystem",
    "targetsystemdisplayname",
    "targetsystemname",
];
const C_CODE: &[&str] = &[
    "errorcode",
    "provisioningstatusinfoerrorinformationerrorcode",
    "statuserrorcode",
];
const C_REASON: &[&str] = &[
    "errorreason",
    "reason",
    "statusreason",
    "failurereason",
    "provisioningstatusinfoerrorinformationreason",
];
const C_STEP_NAME: &[&str] = &["name", "stepname", "step"];
const C_STEP_TYPE: &[&str] = &["provisioningsteptype", "steptype", "type"];
const C_DESCRIPTION: &[&str] = &["description", "details"];
const C_PROP_NAME: &[&str] = &[
    "displayname",
    "name",
    "propertyname",
    "property",
    "attribute",
    "attributename",
];
const C_OLD: &[&str] = &["oldvalue", "old"];
const C_NEW: &[&str] = &["newvalue", "new"];

struct CsvFile {
    path: PathBuf,
    table: csv::Table,
}

fn load_csv(path: &Path) -> Result<CsvFile> {
    let text = read_text(path)?;
    let table = csv::parse(&text).map_err(|(l, c, m)| {
        bad_at(
            &path.display().to_string(),
            l,
            c,
            format!("not valid CSV: {m}"),
        )
    })?;
    Ok(CsvFile {
        path: path.to_path_buf(),
        table,
    })
}

/// `ProvisioningLogs_ModifiedProperties.csv` → `ProvisioningLogs.csv` and back.
fn siblings(path: &Path) -> Vec<PathBuf> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = stem
        .trim_end_matches("_ProvisioningSteps")
        .trim_end_matches("_ModifiedProperties")
        .to_string();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    [
        base.clone(),
        format!("{base}_ProvisioningSteps"),
        format!("{base}_ModifiedProperties"),
    ]
    .into_iter()
    .map(|s| dir.join(format!("{s}.csv")))
    .filter(|p| p.exists())
    .collect()
}

fn read_csv(inputs: &[PathBuf]) -> Result<Read> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for p in inputs {
        for s in std::iter::once(p.clone()).chain(siblings(p)) {
            if !paths.contains(&s) {
                paths.push(s);
            }
        }
    }
    let mut main = None;
    let mut step_files = Vec::new();
    let mut prop_files = Vec::new();
    for p in &paths {
        let f = load_csv(p)?;
        let t = &f.table;
        let file = p.display().to_string();
        if t.column(C_CHANGE).is_none() {
            return Err(bad_at(&file, 1, 1, format!(
                "no change ID column (found: {}); the Entra download's three files are joined by it",
                t.header.join(", ")
            )));
        }
        if t.column(C_ACTION).is_some() {
            if main.is_some() {
                return Err(bad_at(
                    &file,
                    1,
                    1,
                    "a second ProvisioningLogs file: import one download at a time",
                ));
            }
            main = Some(f);
        } else if t.column(C_OLD).is_some() || t.column(C_NEW).is_some() {
            prop_files.push(f);
        } else {
            step_files.push(f);
        }
    }
    let main = main.ok_or_else(|| {
        Error::Usage(format!(
            "{}: this is not the ProvisioningLogs file of an Entra CSV download (it has no Action column); pass ProvisioningLogs.csv, with ProvisioningLogs_ProvisioningSteps.csv and ProvisioningLogs_ModifiedProperties.csv beside it",
            inputs.first().map(|p| p.display().to_string()).unwrap_or_default()
        ))
    })?;
    let file = main.path.display().to_string();
    let t = &main.table;
    let col = |names: &[&str]| t.column(names);
    let need = |names: &[&str], what: &str| {
        t.column(names).ok_or_else(|| {
            bad_at(
                &file,
                1,
                1,
                format!("no {what} column (found: {})", t.header.join(", ")),
            )
        })
    };
    let (c_change, c_action, c_type) = (
        need(C_CHANGE, "change ID")?,
        need(C_ACTION, "Action")?,
        need(C_TYPE, "identity type")?,
    );
    let field = |r: &csv::Record, c: Option<usize>| {
        c.and_then(|c| r.fields.get(c))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("null"))
    };
    let mut events = Vec::new();
    for (i, r) in t.records.iter().enumerate() {
        let origin = Origin {
            file: file.clone(),
            line: r.line,
            col: 1,
            record: i + 1,
        };
        let action = field(r, Some(c_action))
            .ok_or_else(|| bad(&origin, "the Action field is empty"))?
            .to_ascii_lowercase()
            .replace(' ', "");
        let identity_type = field(r, Some(c_type))
            .ok_or_else(|| bad(&origin, "the identity type field is empty"))?
            .to_ascii_lowercase();
        let time_text = field(r, col(C_DATE)).unwrap_or_default();
        let target_system = field(r, col(C_TARGET_SYSTEM));
        events.push(Event {
            time: super::parse_time(&time_text),
            time_text,
            change_id: field(r, Some(c_change)),
            cycle_id: field(r, col(C_CYCLE)),
            job_id: field(r, col(C_JOB)),
            action,
            status: field(r, col(C_STATUS))
                .unwrap_or_default()
                .to_ascii_lowercase(),
            error_code: field(r, col(C_CODE)),
            reason: field(r, col(C_REASON)),
            identity_type,
            source_id: field(r, col(C_SOURCE_ID)),
            source_name: field(r, col(C_SOURCE_NAME)),
            target_id: field(r, col(C_TARGET_ID)),
            target_name: field(r, col(C_TARGET_NAME)),
            flag: r.fields.iter().any(|f| {
                let l = f.to_ascii_lowercase();
                l.contains("aadoptscim062020") || l.contains("azureadscimpatch062020")
            }),
            target_system,
            properties: Vec::new(),
            steps: Vec::new(),
            origin,
        });
    }
    let mut gaps = Vec::new();
    if prop_files.is_empty() {
        gaps.push(format!("{file}: no ProvisioningLogs_ModifiedProperties file beside it, so no attribute values: users and groups cannot be reconstructed without them"));
    }
    if step_files.is_empty() {
        gaps.push(format!("{file}: no ProvisioningLogs_ProvisioningSteps file beside it (the steps only add detail to comments)"));
    }
    for f in &prop_files {
        let pf = f.path.display().to_string();
        let t = &f.table;
        let c_change = t.column(C_CHANGE).unwrap_or(0);
        let c_name = t.column(C_PROP_NAME).ok_or_else(|| {
            bad_at(
                &pf,
                1,
                1,
                format!("no property name column (found: {})", t.header.join(", ")),
            )
        })?;
        let (c_old, c_new) = (t.column(C_OLD), t.column(C_NEW));
        for (i, r) in t.records.iter().enumerate() {
            let origin = Origin {
                file: pf.clone(),
                line: r.line,
                col: 1,
                record: i + 1,
            };
            let change = field(r, Some(c_change))
                .ok_or_else(|| bad(&origin, "the change ID field is empty"))?;
            let name =
                field(r, Some(c_name)).ok_or_else(|| bad(&origin, "the property name is empty"))?;
            let ev = events
                .iter_mut()
                .find(|e| e.change_id.as_deref() == Some(change.as_str()))
                .ok_or_else(|| bad(&origin, format!("change ID {change} is not in {file}")))?;
            ev.properties.push(Prop {
                name: target_name(name),
                old: field(r, c_old),
                new: field(r, c_new),
            });
        }
    }
    for f in &step_files {
        let sf = f.path.display().to_string();
        let t = &f.table;
        let c_change = t.column(C_CHANGE).unwrap_or(0);
        for (i, r) in t.records.iter().enumerate() {
            let origin = Origin {
                file: sf.clone(),
                line: r.line,
                col: 1,
                record: i + 1,
            };
            let change = field(r, Some(c_change))
                .ok_or_else(|| bad(&origin, "the change ID field is empty"))?;
            let ev = events
                .iter_mut()
                .find(|e| e.change_id.as_deref() == Some(change.as_str()))
                .ok_or_else(|| bad(&origin, format!("change ID {change} is not in {file}")))?;
            let description = field(r, t.column(C_DESCRIPTION)).unwrap_or_default();
            if description
                .to_ascii_lowercase()
                .contains("aadoptscim062020")
            {
                ev.flag = true;
            }
            ev.steps.push(StepRecord {
                name: field(r, t.column(C_STEP_NAME)).unwrap_or_default(),
                kind: field(r, t.column(C_STEP_TYPE))
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                status: field(r, t.column(C_STATUS))
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                description,
            });
        }
    }
    Ok(Read { events, gaps })
}

// ----- reconstruction -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

#[derive(Clone, Debug)]
struct Obj {
    key: String,
    kind: Kind,
    source_id: Option<String>,
    target_id: Option<String>,
    name: Option<String>,
    /// Target attribute → value, as Entra last flowed it.
    attrs: Vec<(String, Option<String>)>,
    /// The values at the start: each attribute's first logged old value (new value on create).
    initial: Vec<(String, String)>,
    members: Vec<String>,
    initial_members: Vec<String>,
    provisioned: bool,
    active: bool,
    deleted: bool,
    usable: bool,
}

impl Obj {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }
    fn set(&mut self, name: &str, v: Option<String>) {
        match self
            .attrs
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(e) => e.1 = v,
            None => self.attrs.push((name.to_string(), v)),
        }
    }
}

/// The source attribute idpsim gives a target attribute: `name.givenName` → `name_givenName`,
/// `emails[type eq "work"].value` → `emails_work_value`, `urn:…:User:department` → `department`.
pub fn source_name(target: &str) -> String {
    let t = if target.starts_with("urn:") {
        target.rsplit(':').next().unwrap_or(target)
    } else {
        target
    };
    let mut out = String::new();
    for c in t.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out
        .replace("_type_eq_", "_")
        .trim_end_matches('_')
        .to_string();
    if out.is_empty() {
        "attribute".into()
    } else {
        out
    }
}

/// Booleans in the log ("True", "False").
fn as_bool(s: Option<&str>) -> Option<bool> {
    match s?.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn is_member_prop(name: &str) -> bool {
    name.eq_ignore_ascii_case("members")
}

fn is_manager_prop(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(":manager") || name.eq_ignore_ascii_case("manager")
}

/// A members value: a JSON list (of ids, or of `{value|id|displayName}`) or a list separated
/// by commas or semicolons. Microsoft does not document the value format; idpsim reads these.
fn member_tokens(v: Option<&str>) -> Vec<String> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(v) {
        return items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(_) => text(get(i, &["value", "id", "displayName"])),
                _ => None,
            })
            .collect();
    }
    v.split([',', ';'])
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The SCIM JSON an attribute path stands for, for the state file: `name.givenName` →
/// `{name: {givenName}}`, `emails[type eq "work"].value` → `{emails: [{type: work, value}]}`,
/// `urn:…:User:department` → `{"urn:…:User": {department}}`. `None` for what cannot be
/// written as a subset to compare (references such as the manager: ids differ per server).
fn scim_value(path: &str, value: &str) -> Option<(String, Value)> {
    if is_manager_prop(path) || is_member_prop(path) {
        return None;
    }
    if let Some(rest) = path.strip_prefix("urn:") {
        let (schema, attr) = rest.rsplit_once(':')?;
        let (k, v) = scim_value(attr, value)?;
        let mut inner = Map::new();
        inner.insert(k, v);
        return Some((format!("urn:{schema}"), Value::Object(inner)));
    }
    let re = regex::Regex::new(r#"^(\w+)\[type eq "([^"]+)"\]\.(\w+)$"#).ok()?;
    if let Some(c) = re.captures(path) {
        let mut item = Map::new();
        item.insert("type".into(), Value::String(c[2].to_string()));
        item.insert(c[3].to_string(), Value::String(value.to_string()));
        return Some((c[1].to_string(), Value::Array(vec![Value::Object(item)])));
    }
    if path.contains('[') {
        return None;
    }
    match path.split_once('.') {
        Some((head, tail)) => {
            let (k, v) = scim_value(tail, value)?;
            let mut inner = Map::new();
            inner.insert(k, v);
            Some((head.to_string(), Value::Object(inner)))
        }
        None => Some((path.to_string(), Value::String(value.to_string()))),
    }
}

fn merge(into: &mut Map<String, Value>, key: String, value: Value) {
    match (into.get_mut(&key), value) {
        (Some(Value::Object(a)), Value::Object(b)) => {
            for (k, v) in b {
                merge(a, k, v);
            }
        }
        (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
        (_, v) => {
            into.insert(key, v);
        }
    }
}

const SOURCE: &str = "Microsoft Graph v1.0: provisioningObjectSummary, provisioningStep, modifiedProperty, provisionedIdentity, provisioningStatusInfo (https://learn.microsoft.com/graph/api/resources/provisioningobjectsummary); Microsoft Learn: How to analyze the provisioning logs (https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs); docs/IDP-LOGS.md";

/// The scenario and state for a set of Entra events.
pub fn build(read: &Read) -> Built {
    let mut b = Built {
        idp: Some(crate::scenario::Idp::Entra),
        source: SOURCE.into(),
        ..Default::default()
    };
    for g in &read.gaps {
        b.gap(g.clone());
    }
    // The recorded order is the order things happened: the portal and Graph list newest first.
    let mut events: Vec<&Event> = read.events.iter().collect();
    events.sort_by_key(|e| e.time.unwrap_or(i64::MAX));
    if read.events.iter().any(|e| e.time.is_none()) {
        b.gap("some events have no readable activityDateTime: they are replayed after the dated ones, in file order");
    }
    b.events = events.len();

    // Pass 1: the objects, and their values before the first logged change.
    let mut objs: Vec<Obj> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for e in &events {
        let Some(kind) = kind_of(e) else { continue };
        if inbound(e) {
            continue;
        }
        let idx = find_or_add(&mut objs, &mut taken, e, kind);
        let o = &mut objs[idx];
        for p in &e.properties {
            if secret_or_members(&p.name)
                || o.initial
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case(&p.name))
            {
                continue;
            }
            let start = if e.action == "create" {
                p.new.clone()
            } else {
                p.old.clone()
            };
            if let Some(v) = start {
                o.initial.push((p.name.clone(), v));
            } else if e.action != "create" {
                // Added by this change: no value before it. Recorded as known-empty so a later
                // change's old value is not taken for the start.
                o.initial.push((p.name.clone(), String::new()));
            }
        }
    }
    for o in objs.iter_mut() {
        o.initial.retain(|(_, v)| !v.is_empty());
        o.attrs = o
            .initial
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let naming = if o.kind == Kind::User {
            "userName"
        } else {
            "displayName"
        };
        o.usable = o.attr(naming).is_some();
        if o.name.is_none() {
            o.name = o.attr(naming).map(str::to_string);
        }
    }
    // Members named at a group's creation are its first members.
    for e in &events {
        if kind_of(e) != Some(Kind::Group) || e.action != "create" || inbound(e) {
            continue;
        }
        let members = e
            .properties
            .iter()
            .find(|p| is_member_prop(&p.name))
            .map(|p| member_tokens(p.new.as_deref()))
            .unwrap_or_default();
        let keys = resolve(&objs, &members, &mut b, e);
        if let Some(i) = index_of(&objs, e) {
            objs[i].initial_members = keys.clone();
            objs[i].members = keys;
        }
    }

    // Pass 2: the steps, in order.
    let mut flag = false;
    let mut preexisting = false;
    for e in &events {
        flag |= e.flag;
        let Some(kind) = kind_of(e) else {
            b.note(vec![
                e.headline(),
                format!(
                    "not replayed: identity type `{}` is neither a user nor a group",
                    e.identity_type
                ),
            ]);
            b.gap(format!(
                "{}: a `{}` object (only users and groups are provisioned over SCIM)",
                e.origin, e.identity_type
            ));
            continue;
        };
        if inbound(e) {
            b.note(vec![
                e.headline(),
                "not replayed: provisioning *into* Entra (inbound), not to the app".into(),
            ]);
            b.gap(format!(
                "{}: inbound provisioning into {} is not SCIM traffic to the app",
                e.origin,
                e.target_system.clone().unwrap_or_default()
            ));
            continue;
        }
        let Some(i) = index_of(&objs, e) else {
            continue;
        };
        if e.status == "skipped" || e.action == "other" {
            let code = e
                .error_code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            b.note(vec![
                e.headline(),
                format!("  nothing sent: Entra skipped this object{code}"),
            ]);
            continue;
        }
        if !objs[i].usable {
            let need = if kind == Kind::User {
                "userName"
            } else {
                "displayName"
            };
            b.note(vec![e.headline(), format!("not replayed: the log never gives this object's {need}, which Entra matches on")]);
            b.gap(format!(
                "{}: {} has no {need} anywhere in the log: its events are not replayed",
                e.origin,
                e.who()
            ));
            continue;
        }
        let mut comments = vec![e.headline()];
        for p in &e.properties {
            if super::secret_name(&p.name) {
                comments.push(format!(
                    "  {}: [redacted] (a secret-like attribute is not replayed)",
                    p.name
                ));
                b.gap(format!(
                    "{}: the secret-like attribute `{}` is dropped",
                    e.origin, p.name
                ));
            }
        }
        let failure = e.failed().then(|| {
            let code = e
                .error_code
                .clone()
                .unwrap_or_else(|| "(no error code)".into());
            let ex = codes::entra(&code, e.reason.as_deref());
            comments.push(format!(
                "  logged failure: {code}{}",
                e.reason
                    .as_deref()
                    .map(|r| format!(": {}", super::clean_text(r)))
                    .unwrap_or_default()
            ));
            comments.extend(ex.comment());
            ex
        });
        if e.action == "stageddelete" {
            comments.push("  nothing sent: Entra staged this delete (accidental-deletions prevention) until an admin allows it".into());
            b.note(comments);
            b.gap(format!("{}: a staged delete (StagedDelete) sends nothing until allowed; the replay sends nothing either", e.origin));
            continue;
        }
        let key = objs[i].key.clone();
        let mut numbers = Vec::new();
        if !objs[i].provisioned && e.action != "create" {
            comments.push(format!("  {key} existed before the log begins: assigned first, with the values it had before this change"));
            numbers.push(b.step(
                std::mem::take(&mut comments),
                Y::map().with("assign", Y::Str(key.clone())),
            ));
            objs[i].provisioned = true;
            preexisting = true;
        }
        match e.action.as_str() {
            "create" => {
                numbers.push(b.step(
                    std::mem::take(&mut comments),
                    Y::map().with("assign", Y::Str(key.clone())),
                ));
                objs[i].provisioned = true;
                objs[i].active = true;
            }
            "update" | "disable" => {
                let mut set = Vec::new();
                let mut active: Option<bool> = None;
                let mut adds = Vec::new();
                let mut removes = Vec::new();
                for p in &e.properties {
                    if super::secret_name(&p.name) {
                        continue;
                    }
                    if p.name.eq_ignore_ascii_case("active") {
                        active = as_bool(p.new.as_deref());
                        continue;
                    }
                    if is_member_prop(&p.name) {
                        let old = resolve(&objs, &member_tokens(p.old.as_deref()), &mut b, e);
                        let new = resolve(&objs, &member_tokens(p.new.as_deref()), &mut b, e);
                        adds.extend(new.iter().filter(|k| !old.contains(k)).cloned());
                        removes.extend(old.iter().filter(|k| !new.contains(k)).cloned());
                        continue;
                    }
                    let mut value = p.new.clone();
                    if is_manager_prop(&p.name) {
                        let resolved = resolve(&objs, &member_tokens(p.new.as_deref()), &mut b, e);
                        if p.new.is_some() && resolved.is_empty() {
                            continue;
                        }
                        value = resolved.first().cloned();
                    }
                    if objs[i].attr(&p.name).map(str::to_string) != value {
                        set.push((
                            source_name(&p.name),
                            value
                                .as_deref()
                                .map(literal)
                                .unwrap_or(Y::Plain("null".into())),
                        ));
                        objs[i].set(&p.name, value);
                    }
                }
                if e.action == "disable" {
                    active = Some(false);
                }
                if !set.is_empty() {
                    numbers.push(
                        b.step(
                            std::mem::take(&mut comments),
                            Y::map()
                                .with("update", Y::Str(key.clone()))
                                .with("set", Y::Map(set)),
                        ),
                    );
                }
                for (list, action) in [(adds, "add_member"), (removes, "remove_member")] {
                    if list.is_empty() {
                        continue;
                    }
                    for m in &list {
                        if action == "add_member" {
                            if !objs[i].members.contains(m) {
                                objs[i].members.push(m.clone());
                            }
                        } else {
                            objs[i].members.retain(|x| x != m);
                        }
                    }
                    let arg = Y::map().with("group", Y::Str(key.clone())).with(
                        "users",
                        Y::Seq(list.iter().map(|k| Y::Str(k.clone())).collect()),
                    );
                    numbers.push(b.step(std::mem::take(&mut comments), Y::map().with(action, arg)));
                }
                match active {
                    Some(false) if kind == Kind::User => {
                        numbers.push(b.step(
                            std::mem::take(&mut comments),
                            Y::map().with("soft_delete", Y::Str(key.clone())),
                        ));
                        objs[i].active = false;
                    }
                    Some(true) if kind == Kind::User && !objs[i].active => {
                        numbers.push(b.step(
                            std::mem::take(&mut comments),
                            Y::map().with("restore", Y::Str(key.clone())),
                        ));
                        objs[i].active = true;
                    }
                    _ => {}
                }
                if numbers.is_empty() {
                    comments.push(
                        "  nothing to replay: no logged property differs from what Entra last sent"
                            .into(),
                    );
                    b.note(comments);
                }
            }
            "delete" => {
                numbers.push(b.step(
                    std::mem::take(&mut comments),
                    Y::map().with("hard_delete", Y::Str(key.clone())),
                ));
                objs[i].deleted = true;
            }
            other => {
                comments.push(format!(
                    "  not replayed: idpsim knows no provisioning action `{other}`"
                ));
                b.note(comments);
                b.gap(format!(
                    "{}: unknown provisioningAction `{other}`",
                    e.origin
                ));
            }
        }
        if let Some(explanation) = failure {
            b.failures.push(Failure {
                origin: e.origin.clone(),
                step: numbers.last().copied(),
                what: e.headline(),
                explanation,
            });
        }
    }

    if flag {
        b.profile = Some("aadOptscim062020".into());
    } else {
        b.gap("the Entra mode: the log shows no Tenant URL with ?aadOptscim062020, so the scenario pins no profile and the replay follows --target (add ?aadOptscim062020 to it if the customer's Tenant URL has it)");
    }
    b.gap("the requests' bytes: Entra logs actions and property values, not HTTP; the profile regenerates them in the forms Entra documents (Microsoft Learn, \"Tutorial: Develop and plan provisioning for a SCIM endpoint\", section \"Understand the Microsoft Entra SCIM implementation\": https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups; scenarios/entra/README.md)");
    if preexisting {
        b.gap("values before the log begins: each property's first logged old value is taken as its starting value; properties the log never mentions are not sent");
    }
    directory(&mut b, &objs);
    b.description = format!(
        "Entra provisioning log: {} event(s) for {} user(s) and {} group(s){}.",
        b.events,
        objs.iter().filter(|o| o.kind == Kind::User).count(),
        objs.iter().filter(|o| o.kind == Kind::Group).count(),
        span(&events)
    );
    b
}

fn span(events: &[&Event]) -> String {
    let times: Vec<&str> = events
        .iter()
        .filter(|e| e.time.is_some())
        .map(|e| e.time_text.as_str())
        .collect();
    match (times.first(), times.last()) {
        (Some(a), Some(z)) => format!(", {a} to {z}"),
        _ => String::new(),
    }
}

fn secret_or_members(name: &str) -> bool {
    super::secret_name(name) || is_member_prop(name)
}

fn kind_of(e: &Event) -> Option<Kind> {
    match e.identity_type.as_str() {
        "user" => Some(Kind::User),
        "group" => Some(Kind::Group),
        _ => None,
    }
}

/// Events whose target is Entra itself (HR-driven inbound provisioning, as in Graph's first
/// example) are not traffic to a SCIM app.
fn inbound(e: &Event) -> bool {
    e.target_system.as_deref().is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t == "azure active directory" || t == "microsoft entra id" || t == "entra id"
    })
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

fn index_of(objs: &[Obj], e: &Event) -> Option<usize> {
    let kind = kind_of(e)?;
    objs.iter().position(|o| {
        o.kind == kind
            && (same(&o.source_id, &e.source_id)
                || (e.source_id.is_none() && same(&o.target_id, &e.target_id))
                || (e.source_id.is_none()
                    && e.target_id.is_none()
                    && same(&o.name, &e.source_name)))
    })
}

fn find_or_add(objs: &mut Vec<Obj>, taken: &mut Vec<String>, e: &Event, kind: Kind) -> usize {
    if let Some(i) = index_of(objs, e) {
        if objs[i].target_id.is_none() {
            objs[i].target_id = e.target_id.clone();
        }
        return i;
    }
    let naming = if kind == Kind::User {
        "userName"
    } else {
        "displayName"
    };
    let logged = e
        .properties
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(naming))
        .and_then(|p| p.new.clone().or_else(|| p.old.clone()));
    let label = logged
        .clone()
        .or_else(|| e.source_name.clone())
        .unwrap_or_default();
    let fallback = if kind == Kind::User { "user" } else { "group" };
    let key = super::key_from(&label, fallback, taken);
    taken.push(key.clone());
    objs.push(Obj {
        key,
        kind,
        source_id: e.source_id.clone(),
        target_id: e.target_id.clone(),
        name: e.source_name.clone(),
        attrs: Vec::new(),
        initial: Vec::new(),
        members: Vec::new(),
        initial_members: Vec::new(),
        provisioned: false,
        active: true,
        deleted: false,
        usable: false,
    });
    objs.len() - 1
}

/// Member (or manager) references → directory keys; what names nobody is listed.
fn resolve(objs: &[Obj], tokens: &[String], b: &mut Built, e: &Event) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens {
        let hit = objs.iter().find(|o| {
            [&o.source_id, &o.target_id, &o.name]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(t)))
                || o.attr("userName")
                    .is_some_and(|u| u.eq_ignore_ascii_case(t))
        });
        match hit {
            Some(o) => {
                if !out.contains(&o.key) {
                    out.push(o.key.clone())
                }
            }
            None => b.gap(format!(
                "{}: the reference `{}` names no user in the log, so it is left out",
                e.origin,
                super::clean_text(t)
            )),
        }
    }
    out
}

/// The directory, the mappings and the believed state, from the objects.
fn directory(b: &mut Built, objs: &[Obj]) {
    let mut user_targets: Vec<String> = Vec::new();
    let mut group_targets: Vec<String> = vec!["displayName".into()];
    for o in objs.iter().filter(|o| o.usable) {
        let list = if o.kind == Kind::User {
            &mut user_targets
        } else {
            &mut group_targets
        };
        for k in o
            .initial
            .iter()
            .map(|(k, _)| k)
            .chain(o.attrs.iter().map(|(k, _)| k))
        {
            if !k.eq_ignore_ascii_case("active") && !list.iter().any(|x| x.eq_ignore_ascii_case(k))
            {
                list.push(k.clone());
            }
        }
    }
    if !user_targets.iter().any(|t| t == "userName") {
        user_targets.insert(0, "userName".into());
    }
    let mapping = |targets: &[String]| -> Y {
        Y::Map(
            targets
                .iter()
                .map(|t| {
                    let src = source_name(t);
                    let v = if is_manager_prop(t) || is_member_prop(t) {
                        Y::Str(src)
                    } else {
                        Y::Str(format!("[{src}]"))
                    };
                    (t.clone(), v)
                })
                .collect(),
        )
    };
    let mut user_map = mapping(&user_targets);
    if let Y::Map(m) = &mut user_map {
        m.insert(
            1.min(m.len()),
            (
                "active".into(),
                Y::Str(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#.into()),
            ),
        );
    }
    let mut group_map = mapping(&group_targets);
    if let Y::Map(m) = &mut group_map {
        m.push(("members".into(), Y::Str("members".into())));
    }
    b.mappings = Some(Y::map().with("user", user_map).with("group", group_map));
    for o in objs.iter().filter(|o| o.usable) {
        let mut dir: Vec<(String, Y)> = o
            .initial
            .iter()
            .filter(|(k, _)| !is_manager_prop(k) && !k.eq_ignore_ascii_case("active"))
            .map(|(k, v)| (source_name(k), literal(v)))
            .collect();
        if let Some((_, v)) = o.initial.iter().find(|(k, _)| is_manager_prop(k)) {
            if let Some(m) = objs.iter().find(|x| {
                x.source_id.as_deref() == Some(v.as_str())
                    || x.target_id.as_deref() == Some(v.as_str())
            }) {
                dir.push((source_name("manager"), Y::Str(m.key.clone())));
            }
        }
        let mut state = Map::new();
        match o.kind {
            Kind::User => {
                let user_name = o.attr("userName").unwrap_or_default().to_string();
                state.insert("userName".into(), Value::String(user_name));
                if o.deleted {
                    state.insert("exists".into(), Value::Bool(false));
                } else {
                    state.insert("active".into(), Value::Bool(o.active));
                    for (k, v) in &o.attrs {
                        if k.eq_ignore_ascii_case("userName") || k.eq_ignore_ascii_case("active") {
                            continue;
                        }
                        if let Some((sk, sv)) = v.as_deref().and_then(|v| scim_value(k, v)) {
                            merge(&mut state, sk, sv);
                        }
                    }
                }
                b.users.push((o.key.clone(), Y::Map(dir)));
                b.state_users.push((o.key.clone(), Value::Object(state)));
            }
            Kind::Group => {
                dir.retain(|(k, _)| k != "members");
                dir.push((
                    "members".into(),
                    Y::Seq(
                        o.initial_members
                            .iter()
                            .map(|m| Y::Str(m.clone()))
                            .collect(),
                    ),
                ));
                state.insert(
                    "displayName".into(),
                    Value::String(o.attr("displayName").unwrap_or_default().to_string()),
                );
                if o.deleted {
                    state.insert("exists".into(), Value::Bool(false));
                } else {
                    // Members that were deleted are gone from the group too.
                    let members: Vec<Value> = o
                        .members
                        .iter()
                        .filter(|m| !objs.iter().any(|x| &x.key == *m && x.deleted))
                        .map(|m| Value::String(m.clone()))
                        .collect();
                    state.insert("members".into(), Value::Array(members));
                }
                b.groups.push((o.key.clone(), Y::Map(dir)));
                b.state_groups.push((o.key.clone(), Value::Object(state)));
            }
        }
    }
}
