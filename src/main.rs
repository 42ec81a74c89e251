//! The `tidings` binary: parse the command line, set up logging, run, map errors to exit codes.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = tidings::cli::Cli::parse();
    init_logging(&cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tidings: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(tidings::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tidings: {}", tidings::daemon::describe_error(&e));
            1
        }
    };
    std::process::exit(code);
}

/// Logs go to stderr; `RUST_LOG` filters (default `info`); no colours unless stderr is a
/// terminal; no timestamps under systemd, whose journal adds its own.
fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let under_journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !under_journal);
    if format == "json" {
        builder.json().init();
    } else if under_journal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
