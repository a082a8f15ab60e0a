//! `cedargate-loadgen`: the load generator of `bench/run.sh`.
//!
//! `run` issues real S3 requests (SigV4 header auth, or none with
//! `--unsigned` for a plain HTTP server serving the same paths) at a given
//! concurrency for a bounded time or request count and prints one JSON
//! object: count, errors, req/s, p50/p99 latency in ms, MB/s. `presign`
//! prints a presigned GET URL (for wrk). Loopback endpoints only.

mod run;
mod sign;
mod stats;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use sha2::{Digest, Sha256};

use run::{Budget, Expect, Op, Workload};
use sign::{BodyHash, Signer, encode_path};

/// Load generator for S3 endpoints.
#[derive(Debug, Parser)]
#[command(name = "cedargate-loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one case and prints its figures as JSON (a flag given twice:
    /// the last one counts).
    #[command(args_override_self = true)]
    Run(RunArgs),
    /// Prints a presigned GET URL for `/bucket/key`.
    #[command(args_override_self = true)]
    Presign(PresignArgs),
}

/// Where requests go and who signs them.
#[derive(Debug, Args)]
struct Target {
    /// The endpoint, `http://127.0.0.1:PORT` (loopback only).
    #[arg(long)]
    endpoint: String,
    /// Access key id (default: `$CG_ACCESS_KEY`).
    #[arg(long, default_value = "")]
    access_key: String,
    /// Secret access key (default: `$CG_SECRET_KEY`).
    #[arg(long, default_value = "")]
    secret_key: String,
    /// Signing region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Bucket.
    #[arg(long)]
    bucket: String,
    /// Object key (the key prefix with `--keys`).
    #[arg(long, default_value = "")]
    key: String,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// The operation.
    #[arg(long, value_enum)]
    op: Op,
    /// Body size of PUTs, in bytes.
    #[arg(long, default_value_t = 0)]
    size: usize,
    /// Cycle over this many keys `{key}{n}` (0: the one key `--key`).
    #[arg(long, default_value_t = 0)]
    keys: u64,
    /// Prefix for `--op list`.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Sign the PUT body's SHA-256 (computed once) instead of UNSIGNED-PAYLOAD.
    #[arg(long)]
    signed_payload: bool,
    /// Send no signature at all (a plain HTTP server on the same paths).
    #[arg(long)]
    unsigned: bool,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Seconds to issue requests for (at most 600).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// At most this many requests (0: as many as the duration allows).
    #[arg(long, default_value_t = 0)]
    requests: u64,
    /// The status each answer must have (default: 4xx for bad-signature,
    /// 403 for denied, 200 otherwise; `2xx` accepts a WebDAV PUT's 201/204).
    #[arg(long)]
    expect: Option<String>,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Runtime worker threads (1: a single-threaded runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
}

#[derive(Debug, Args)]
struct PresignArgs {
    #[command(flatten)]
    target: Target,
    /// Seconds the URL stays valid.
    #[arg(long, default_value_t = 3600)]
    expires: u64,
}

/// The longest run accepted, in seconds.
const MAX_DURATION: f64 = 600.0;

/// `host:port` of a loopback `http://` endpoint.
fn loopback_authority(endpoint: &str) -> Result<String, String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint `{endpoint}` is not http://"))?
        .trim_end_matches('/');
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback || authority.contains('/') {
        return Err(format!("endpoint `{endpoint}` is not a loopback host:port"));
    }
    Ok(authority.to_owned())
}

fn signer(target: &Target) -> Result<Signer, String> {
    let or_env = |value: &str, name: &str| match value {
        "" => std::env::var(name).unwrap_or_default(),
        value => value.to_owned(),
    };
    let access_key = or_env(&target.access_key, "CG_ACCESS_KEY");
    let secret_key = or_env(&target.secret_key, "CG_SECRET_KEY");
    if access_key.is_empty() || secret_key.is_empty() {
        return Err("signed requests need --access-key and --secret-key".to_owned());
    }
    Ok(Signer::new(&access_key, &secret_key, &target.region))
}

fn run_case(args: RunArgs) -> Result<(), String> {
    let authority = loopback_authority(&args.target.endpoint)?;
    if !(args.duration > 0.0 && args.duration <= MAX_DURATION) {
        return Err(format!("--duration must be in (0, {MAX_DURATION}] seconds"));
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        return Err("--concurrency must be in 1..=1024".to_owned());
    }
    let body = Bytes::from((0..args.size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let body_hash = if args.signed_payload {
        BodyHash::Sha256(hex::encode(Sha256::digest(&body)))
    } else {
        BodyHash::Unsigned
    };
    let signer = if args.unsigned {
        None
    } else {
        Some(signer(&args.target)?)
    };
    let expect = match &args.expect {
        Some(text) => Expect::parse(text)?,
        None => match args.op {
            // 401 in cedargate's documented error profile, 403 in AWS's.
            Op::BadSignature => Expect::Class(4),
            Op::Denied => Expect::Status(403),
            _ => Expect::Status(200),
        },
    };
    let workload = Arc::new(Workload {
        authority,
        op: args.op,
        bucket: args.target.bucket.clone(),
        key: args.target.key.clone(),
        keys: args.keys,
        prefix: args.prefix.clone(),
        body,
        body_hash,
        signer,
        expect,
        timeout: Duration::from_secs(args.timeout),
    });
    let budget = Budget {
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(args.duration),
        requests: args.requests,
    };
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("runtime: {e}"))?;
    let summary = runtime.block_on(run::run(workload, budget));
    let output = serde_json::json!({
        "label": args.label,
        "op": args.op,
        "size": args.size,
        "concurrency": args.concurrency,
        "signed": !args.unsigned,
        "summary": summary,
    });
    println!("{output}");
    Ok(())
}

fn presign(args: PresignArgs) -> Result<(), String> {
    let authority = loopback_authority(&args.target.endpoint)?;
    let path = format!(
        "/{}/{}",
        encode_path(&args.target.bucket),
        encode_path(&args.target.key)
    );
    let query = signer(&args.target)?.presign(
        &authority,
        &path,
        Duration::from_secs(args.expires),
        SystemTime::now(),
    )?;
    println!("http://{authority}{path}?{query}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run_case(args),
        Command::Presign(args) => presign(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cedargate-loadgen: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        assert_eq!(
            loopback_authority("http://127.0.0.1:8080/").unwrap(),
            "127.0.0.1:8080"
        );
        assert!(loopback_authority("http://localhost:1").is_ok());
        assert!(loopback_authority("http://10.0.0.1:80").is_err());
        assert!(loopback_authority("https://127.0.0.1:443").is_err());
        assert!(loopback_authority("http://127.0.0.1:80/path").is_err());
    }
}
