//! `idpsim load`: an IdP's initial and incremental provisioning cycle at scale, then an audit
//! that every user and membership is on the server exactly once (the engine is `load`).

use crate::cli::target::WithoutTarget;
use crate::cli::LoadArgs;
use crate::error::Result;
use crate::load::LoadPlan;
use crate::support::styles::Styles;
use crate::verdict::Verdict;

/// Exit 0 for a clean audit, 1 for audit or operation failures, the signal's code when one
/// stopped it.
pub async fn load(args: LoadArgs, styles: Styles) -> Result<Verdict> {
    let plan = LoadPlan::new(
        args.idp,
        args.profile.clone(),
        (args.users, args.groups, args.members),
        args.overlap,
        args.seed,
        args.concurrency,
        args.rate,
        args.time_scale,
    )?;
    let target = args.target.parse()?;
    let connection = target
        .connect(WithoutTarget::StartBuiltin {
            notice_on_stderr: false,
        })
        .await?;
    let transport = connection.transport;
    transport
        .preflight()
        .await
        .map_err(|e| crate::transport::without_secrets(e, &transport))?;
    let builtin = connection.builtin;
    let (report, stopped_by) =
        crate::load::run(plan, transport, connection.url, builtin.is_some()).await?;
    if let Some(path) = &args.report_json {
        crate::report::write_json(path, &report)?;
    }
    crate::support::out::stdout(&report.human(&styles));
    if let Some(srv) = builtin {
        srv.shutdown().await;
    }
    Ok(match stopped_by {
        Some(signal) => Verdict::Stopped(signal),
        None => Verdict::passed_if(report.passed()),
    })
}
