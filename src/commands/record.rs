//! `idpsim record`: a reverse proxy that writes the traffic through it as a replayable scenario.

use crate::cli::RecordArgs;
use crate::error::Result;
use crate::record::proxy;
use crate::verdict::Verdict;

pub async fn record(args: RecordArgs) -> Result<Verdict> {
    proxy::run(proxy::ProxyConfig {
        listen: args.listen,
        upstream: args.upstream,
        output: args.output,
        name: args.name,
        timeout: crate::cli::values::parse_duration(&args.timeout)?,
    })
    .await
}
