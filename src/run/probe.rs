//! Trigger probing: when a list or filter query fails (4xx/5xx), is it one of its parameters?
//! A server that answers 500 only when `count` is present, or 400 only with Entra's
//! `?aadOptscim062020`, is fixed by knowing which parameter it chokes on. After the step (never
//! between the IdP's own requests), idpsim re-sends the same GET once without each parameter in
//! turn; a parameter whose removal turns the answer into 2xx is named in the findings about
//! that exchange. Probes are idpsim's diagnostics: GETs that change nothing, kept apart from the
//! IdP's exchanges (`StepResult::probes`), judged by no rule.

use crate::check::rules::Intent;
use crate::outcome::problems;
use crate::outcome::{StepResult, Trigger};
use crate::transport::exchange::Exchange;
use crate::transport::{BaseUrl, OutgoingRequest, Transport};

/// At most this many parameters are probed per failed query (a list query has 2–4).
const MAX_PARAMETERS: usize = 6;

/// The parameters of a request's effective query (its own, then the base URL's), and the
/// request that sends them without the one at `skip`.
fn parameters(req: &OutgoingRequest, base: &BaseUrl) -> (String, Vec<String>) {
    let (path, own) = match req.path.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (req.path.clone(), String::new()),
    };
    let mut params: Vec<String> = own
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if req.base_query {
        if let Some(q) = &base.query {
            params.extend(q.split('&').filter(|p| !p.is_empty()).map(str::to_string));
        }
    }
    (path, params)
}

fn name(param: &str) -> &str {
    param.split_once('=').map_or(param, |(k, _)| k)
}

/// Probes the failed list queries of a finished step and names their triggers in its findings.
pub async fn probe(transport: &Transport, sent: &[OutgoingRequest], result: &mut StepResult) {
    let mut probed: Vec<String> = Vec::new();
    for (i, req) in sent.iter().enumerate() {
        let Some(ex) = result.exchanges.get(i) else {
            break;
        };
        if !worth_probing(req, ex, result, i) || probed.contains(&ex.request.target) {
            continue;
        }
        probed.push(ex.request.target.clone());
        let (path, params) = parameters(req, transport.base());
        if params.len() < 2 || params.len() > MAX_PARAMETERS {
            // With one parameter, "without it" is another query altogether.
            continue;
        }
        let mut triggers = Vec::new();
        for skip in 0..params.len() {
            let rest: Vec<&str> = params
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != skip)
                .map(|(_, p)| p.as_str())
                .collect();
            let mut variant = req.clone().without_base_query();
            variant.path = format!("{path}?{}", rest.join("&"));
            let (exchange, _) = transport.send(&variant).await;
            let status = exchange.response.as_ref().map(|r| r.status);
            result.probes.push(exchange);
            if let Some(status) = status.filter(|s| (200..300).contains(s)) {
                triggers.push(Trigger {
                    parameter: name(&params[skip]).to_string(),
                    status,
                    probe: result.probes.len() - 1,
                });
            }
        }
        if triggers.is_empty() {
            continue;
        }
        let names: Vec<String> = triggers
            .iter()
            .map(|t| format!("`{}`", t.parameter))
            .collect();
        let status = triggers[0].status;
        let sentence = if names.len() == 1 {
            format!(
                " — it fails only with {}: without it the same query answers {status} (idpsim's probe)",
                names[0]
            )
        } else {
            format!(
                " — without any one of {} the same query answers {status} (idpsim's probes)",
                names.join(", ")
            )
        };
        for f in result
            .findings
            .iter_mut()
            .filter(|f| f.exchange == Some(i) && problems::counts(f))
        {
            f.message.push_str(&sentence);
            f.triggers.extend(triggers.iter().cloned());
        }
    }
}

/// A status a query's parameters can cause: not refused credentials (401, 403), a timeout
/// (408), throttling (429) or a server that is down (503) — re-sending would only repeat them,
/// and, for 429, add to the load the server is shedding.
fn parameter_dependent(status: u16) -> bool {
    (400..600).contains(&status) && !matches!(status, 401 | 403 | 408 | 429 | 503)
}

/// A GET list or filter query that failed (4xx/5xx) with a finding about it.
fn worth_probing(req: &OutgoingRequest, ex: &Exchange, result: &StepResult, i: usize) -> bool {
    req.method == "GET"
        && matches!(Intent::infer(&req.method, &req.path), Intent::List { .. })
        && ex
            .response
            .as_ref()
            .is_some_and(|r| parameter_dependent(r.status))
        && result
            .findings
            .iter()
            .any(|f| f.exchange == Some(i) && problems::counts(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_query_counts_as_a_parameter_unless_the_request_places_its_own() {
        let base = BaseUrl::parse("https://app.example.com/scim?aadOptscim062020").expect("url");
        let req = OutgoingRequest::new("GET", "/Users?filter=userName+eq+%22a%22&count=1");
        let (path, params) = parameters(&req, &base);
        assert_eq!(path, "/Users");
        assert_eq!(
            params,
            ["filter=userName+eq+%22a%22", "count=1", "aadOptscim062020"]
        );
        let own = req.without_base_query();
        assert_eq!(parameters(&own, &base).1.len(), 2);
        assert_eq!(name("count=1"), "count");
        assert_eq!(name("aadOptscim062020"), "aadOptscim062020");
    }
}
