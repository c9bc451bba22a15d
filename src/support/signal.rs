//! SIGINT (Ctrl-C) and SIGTERM, handled alike by every long-running command.
//!
//! The first signal asks the command to wind down (stop new work, clean up, write reports); a
//! second one exits at once. The exit code says which signal stopped idpsim: 128 + its number,
//! as shells report it (130 for SIGINT, 143 for SIGTERM), so a CI job can tell a person's Ctrl-C
//! from a runner's cancellation.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM: what `kill`, CI runners, container runtimes and systemd send.
    Terminate,
}

impl Signal {
    /// The signal's POSIX number (SIGINT 2, SIGTERM 15); `error::exit` turns it into the
    /// exit code shells report (128 + the number).
    pub const fn number(self) -> i32 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    /// 128 + the signal's number, as shells report a process the signal stopped.
    pub const fn exit_code(self) -> i32 {
        128 + self.number()
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// How a person would describe what they did, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "interrupted (SIGINT)",
            Signal::Terminate => "terminated (SIGTERM)",
        }
    }
}

/// The process's SIGINT and SIGTERM listeners. Creating it replaces the default disposition
/// (die at once) for both signals, so create it only where the command handles them.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the next SIGINT or SIGTERM. Pending forever if the listeners are gone (which
    /// only happens when the runtime shuts down).
    pub async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = self.interrupt.recv() => Signal::Interrupt,
                Some(()) = self.terminate.recv() => Signal::Terminate,
                else => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            // Windows has no SIGTERM; Ctrl-C is the one signal a console program receives.
            match tokio::signal::ctrl_c().await {
                Ok(()) => Signal::Interrupt,
                Err(_) => std::future::pending().await,
            }
        }
    }
}

/// Listens for signals on a background task: the first one calls `first` (which starts the
/// wind-down), a second one ends the process at once with that signal's exit code.
///
/// Fails (exit 2, see `error`) only when the listeners cannot be installed, before anything was
/// sent.
pub fn on_first_signal(first: impl FnOnce(Signal) + Send + 'static) -> Result<(), ListenError> {
    let mut signals = Signals::listen().map_err(ListenError)?;
    tokio::spawn(async move {
        let signal = signals.recv().await;
        first(signal);
        let again = signals.recv().await;
        // What the cut short leaves (cleanup, exchanges in flight) is said by each command's
        // message on the first signal.
        eprintln!("\nidpsim: {} again: quitting at once", again.describe());
        std::process::exit(again.exit_code());
    });
    Ok(())
}

/// The SIGINT/SIGTERM listeners could not be installed.
#[derive(Debug)]
pub struct ListenError(pub std::io::Error);

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot listen for SIGINT/SIGTERM: {}", self.0)
    }
}
