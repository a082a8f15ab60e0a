//! `cedargate-conformance`: the command line over [`cedargate_conformance::run`].
//!
//! Exit codes: 0 when every case that ran passed (skips and expected
//! failures aside), 1 when a case failed (or an expected failure passed),
//! 2 on a harness error (bad arguments, unreadable files, endpoint
//! unreachable at start).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cedargate_conformance::{
    Config, Error, ErrorTable, ExpectedFailures, Fixtures, Format, case_names, output, run,
    selected,
};
use clap::Parser;

/// Checks an S3 gateway deployment against an error table.
#[derive(Debug, Parser)]
#[command(name = "cedargate-conformance", version, about)]
struct Cli {
    /// The S3 endpoint, e.g. http://127.0.0.1:9000.
    #[arg(long, required_unless_present = "list")]
    endpoint: Option<String>,
    /// The fixtures file (TOML) describing what the deployment provides.
    #[arg(long, required_unless_present = "list")]
    fixtures: Option<PathBuf>,
    /// The error table: `documented`, `aws`, or a table file path.
    #[arg(long, default_value = "documented")]
    table: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Runs only cases whose name or row matches this regular expression.
    #[arg(long)]
    filter: Option<String>,
    /// Leaves out cases whose name or row matches this regular expression.
    #[arg(long)]
    exclude: Option<String>,
    /// Lists the cases (name, row, fixtures needed) and exits.
    #[arg(long)]
    list: bool,
    /// Cases the target is known to fail, each with a reason (TOML).
    #[arg(long)]
    expected_failures: Option<PathBuf>,
    /// Prometheus text endpoint; counters are checked when given.
    #[arg(long)]
    metrics_url: Option<String>,
    /// Timeout of each request, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout_seconds: u64,
    /// Extra PEM certificates to trust for https endpoints.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("cedargate-conformance: {e}");
            ExitCode::from(2)
        }
    }
}

fn execute(cli: &Cli) -> Result<u8, Error> {
    let filter = cli.filter.as_deref().map(regex::Regex::new).transpose()?;
    let exclude = cli.exclude.as_deref().map(regex::Regex::new).transpose()?;
    let table = ErrorTable::load(&cli.table)?;
    if cli.list {
        let mut out = String::new();
        for case in selected(filter.as_ref(), exclude.as_ref()) {
            let needs = if case.needs.is_empty() {
                "-".to_owned()
            } else {
                case.needs.join(", ")
            };
            let has_row = if table.has_row(case.row) {
                ""
            } else {
                " (row not in table)"
            };
            out.push_str(&format!(
                "{}\t{}{has_row}\t{needs}\t{}\n",
                case.name, case.row, case.about
            ));
        }
        emit(&out);
        return Ok(0);
    }
    let endpoint = cli
        .endpoint
        .clone()
        .ok_or_else(|| Error::Usage("--endpoint is required".into()))?;
    let fixtures_path = cli
        .fixtures
        .as_ref()
        .ok_or_else(|| Error::Usage("--fixtures is required".into()))?;
    let fixtures = Fixtures::from_file(fixtures_path)?;
    let mut config = Config::new(endpoint, fixtures, table);
    config.filter = filter;
    config.exclude = exclude;
    config.metrics_url.clone_from(&cli.metrics_url);
    config.timeout = Duration::from_secs(cli.timeout_seconds.max(1));
    if let Some(path) = &cli.expected_failures {
        config.expected_failures = ExpectedFailures::from_file(path, &case_names())?;
    }
    if let Some(path) = &cli.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            Error::Usage(format!("cannot read --ca-file `{}`: {e}", path.display()))
        })?;
        let tls =
            cedargate_conformance::http::default_tls_config(Some(&pem)).map_err(Error::Endpoint)?;
        config.tls = Some(tls);
    }
    let report = run(&config)?;
    emit(&output::render(&report, cli.format));
    Ok(report.exit_code())
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
