//! `idpsim completions SHELL` and `idpsim man`: generated from the clap definition in `cli`.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::verdict::Verdict;

/// `idpsim completions SHELL`: the completion script, generated from this very definition.
pub fn completions(shell: clap_complete::Shell) -> Result<Verdict> {
    let mut cmd = Cli::command();
    // Generated into memory, then written pipe-safe: `idpsim completions bash | head` is fine.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "idpsim", &mut script);
    crate::support::out::stdout(&String::from_utf8_lossy(&script));
    Ok(Verdict::Passed)
}

/// `idpsim man`: the man page (roff), generated from this very definition, with a section per
/// subcommand so `man idpsim` documents `run`'s flags too.
pub fn man() -> Result<Verdict> {
    use std::io::Write as _;
    let cmd = Cli::command();
    let mut out = Vec::new();
    let render = |out: &mut Vec<u8>| -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        man.render_options_section(out)?;
        man.render_subcommands_section(out)?;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("idpsim {}", sub.get_name());
            writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
            let sub_man = clap_mangen::Man::new(sub.clone().bin_name(name));
            sub_man.render_synopsis_section(out)?;
            sub_man.render_options_section(out)?;
        }
        man.render_version_section(out)?;
        Ok(())
    };
    render(&mut out).map_err(|e| Error::io("stdout", e))?;
    crate::support::out::stdout(&String::from_utf8_lossy(&out));
    Ok(Verdict::Passed)
}
