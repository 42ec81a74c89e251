//! The `tidings` binary: parse the command line, set up logging, run, map errors to exit codes.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    limit_malloc_arenas();
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

/// Caps glibc's malloc at two arenas and serves blocks of 256 KiB and more (feed bodies) with
/// their own mappings, returned to the system when freed. By default every thread that parses a
/// feed gets an arena of its own (up to 8 per core) that keeps what it frees: a cold poll of
/// 10,000 feeds peaked at 240 MiB resident, 143 MiB with these two settings, for the same CPU
/// time (`cargo bench --bench scale`, issue 8). Runs first, before any thread exists.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
