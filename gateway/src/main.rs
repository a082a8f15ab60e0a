//! The `cedargate` command: `cedargate serve [--config FILE]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cedargate::auth::{Credential, CredentialStore};
use cedargate::config::Config;
use cedargate::sockets::BoundListeners;
use clap::{Parser, Subcommand};

/// Every request allocates (Cedar's entities and evaluation above all);
/// mimalloc's per-thread free lists serve that churn at a fraction of the
/// system allocator's cost and do not hand pages back and forth with the
/// kernel between requests.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// cedargate: an S3 authorization gateway.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the gateway. With no config file it runs the embedded default:
    /// filesystem backend under ./data, buckets `demo` and `scratch`, S3 on
    /// 127.0.0.1:9000, admin on 127.0.0.1:9001, and a development credential
    /// from CEDARGATE_ACCESS_KEY / CEDARGATE_SECRET_KEY (generated and
    /// printed when unset) that may do everything. A config file gets
    /// neither: only its credentials file and policy directory count.
    /// A listener that cannot bind ends the command with an error.
    Serve {
        /// The TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Overrides `server.listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Overrides `server.admin_listen`.
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        /// Overrides `server.grace_period_seconds`.
        #[arg(long)]
        grace_period_seconds: Option<u64>,
        /// Log format: `text` or `json`.
        #[arg(long, default_value = "text")]
        log_format: String,
    },
    /// Tools for the people who write policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// STS tools for operators.
    #[command(subcommand)]
    Sts(StsCommand),
}

#[derive(Debug, Subcommand)]
enum StsCommand {
    /// Mints a session for a configured role without a web identity token,
    /// sealed with the config's first seal key, and prints its credentials
    /// as JSON (`AccessKeyId`, `SecretAccessKey`, `SessionToken`,
    /// `Expiration`). For test fixtures and break-glass access: whoever
    /// holds the seal keys can mint any session.
    MintSession {
        /// The configuration file (its `[sts]` table).
        #[arg(long)]
        config: PathBuf,
        /// The role's ARN, as configured.
        #[arg(long)]
        role_arn: String,
        /// The session's subject (`sub`).
        #[arg(long)]
        subject: String,
        /// The session's issuer (default: the role's first).
        #[arg(long)]
        issuer: Option<String>,
        /// A claim as `name=value` (repeatable).
        #[arg(long = "claim")]
        claims: Vec<String>,
        /// Lifetime in seconds, at most the role's `max_session_seconds`
        /// (a longer one is refused; default 3600 or that maximum if
        /// lower); negative mints an already expired session.
        #[arg(long, allow_negative_numbers = true)]
        seconds: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Parses and strictly validates every `.cedar` file of a directory.
    Validate {
        /// The policy directory.
        dir: PathBuf,
    },
    /// Runs a table of requests and expected decisions (a `tests.toml`);
    /// exits non-zero on any mismatch.
    Test {
        /// The tests file.
        file: PathBuf,
        /// The policy directory (default: the one the file names).
        #[arg(long)]
        policies: Option<PathBuf>,
    },
    /// Decides one request and says which policies decided it and why.
    Explain {
        /// The policy directory.
        #[arg(long)]
        policies: PathBuf,
        /// The principal name of a static credential.
        #[arg(long, conflicts_with = "anonymous")]
        principal: Option<String>,
        /// A group of the principal (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Ask as an unsigned request.
        #[arg(long)]
        anonymous: bool,
        /// The S3 operation, e.g. `GetObject`.
        #[arg(long)]
        action: String,
        /// The bucket.
        #[arg(long)]
        bucket: Option<String>,
        /// The key.
        #[arg(long)]
        key: Option<String>,
        /// A context fact as `name=value` (repeatable), e.g. `source_ip=10.1.2.3`.
        #[arg(long = "context")]
        context: Vec<String>,
        /// A request header as `name: value` (repeatable), e.g.
        /// `x-amz-tagging: a=b`: headers that imply further actions are
        /// decided as the gateway decides them.
        #[arg(long = "header")]
        headers: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cedargate: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Policy(command) => policy(command),
        Command::Sts(StsCommand::MintSession {
            config,
            role_arn,
            subject,
            issuer,
            claims,
            seconds,
        }) => mint_session(&config, &role_arn, &subject, issuer, &claims, seconds),
        Command::Serve {
            config,
            listen,
            admin_listen,
            grace_period_seconds,
            log_format,
        } => {
            init_logging(&log_format)?;
            let mut loaded = match &config {
                Some(path) => Config::from_file(path)?,
                None => Config::embedded_default(),
            };
            if let Some(listen) = listen {
                loaded.server.listen = listen;
            }
            if let Some(admin_listen) = admin_listen {
                loaded.server.admin_listen = admin_listen;
            }
            if let Some(grace) = grace_period_seconds {
                loaded.server.grace_period_seconds = grace;
            }
            let loaded = loaded.validate()?;
            cedargate::open_files::check(&loaded);
            cedargate::config::warn_about_readable_secret_files(&loaded, config.as_deref());
            // Bound first: an address in use ends the start before anything
            // else is set up or says "listening".
            let listeners = BoundListeners::bind(&loaded)?;
            let mut loaded = loaded;
            listeners.record_in(&mut loaded);
            let credentials = load_credentials(&loaded)?;
            let gateway = cedargate::server::build_gateway(loaded, credentials)?;
            cedargate::server::run(gateway, &listeners, config.as_deref())
        }
    }
}

fn policy(command: PolicyCommand) -> anyhow::Result<()> {
    use cedargate_policies::cli;
    match command {
        PolicyCommand::Validate { dir } => {
            let summary = cli::validate_dir(&dir)?;
            println!("{summary}");
            Ok(())
        }
        PolicyCommand::Test { file, policies } => {
            let report = cli::run_test_file(policies.as_deref(), &file);
            println!("{report}");
            if report.failed() > 0 {
                anyhow::bail!(
                    "{} of {} cases failed",
                    report.failed(),
                    report.failed() + report.passed()
                );
            }
            Ok(())
        }
        PolicyCommand::Explain {
            policies,
            principal,
            groups,
            anonymous,
            action,
            bucket,
            key,
            context,
            headers,
        } => {
            let mut request = cli::ExplainRequest {
                principal,
                groups,
                anonymous,
                action,
                bucket,
                key,
                ..Default::default()
            };
            for fact in &context {
                let (name, value) = fact
                    .split_once('=')
                    .with_context(|| format!("`{fact}` is not of the form name=value"))?;
                request
                    .context
                    .set(name, value)
                    .map_err(anyhow::Error::msg)?;
            }
            for header in &headers {
                let (name, value) = header
                    .split_once(':')
                    .with_context(|| format!("`{header}` is not of the form `name: value`"))?;
                request
                    .headers
                    .insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
            let explanation = cli::explain(&policies, &request)?;
            println!("{explanation}");
            Ok(())
        }
    }
}

fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,pingora=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // Every field and message of a text line is written with its
        // control characters escaped: no value a client chose (a key, a
        // token's subject, an error naming either) can start a forged line.
        "text" => builder.fmt_fields(escaped_fields()).init(),
        "json" => builder.json().flatten_event(true).init(),
        other => anyhow::bail!("unknown log format `{other}` (use `text` or `json`)"),
    }
    Ok(())
}

/// The text log's field formatter: `name=value` pairs separated by spaces,
/// the message bare, each with its control characters escaped.
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = format!("{value:?}");
        let text = cedargate::telemetry::controls_escaped(&text);
        if field.name() == "message" {
            write!(writer, "{text}")
        } else {
            write!(writer, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// The configured credentials. The embedded default with none at all gets
/// a generated development credential, printed once; a config file never
/// does: with no enabled credential it starts refusing every signed
/// request, with a warning.
fn load_credentials(config: &Config) -> anyhow::Result<CredentialStore> {
    let mut credentials = cedargate::server::configured_credentials(config)?;
    if credentials.is_empty() && config.embedded_default {
        let (access_key, secret_key) = generate_dev_credential();
        println!(
            "cedargate development credential (set CEDARGATE_ACCESS_KEY / CEDARGATE_SECRET_KEY to choose one):"
        );
        println!("  AWS_ACCESS_KEY_ID={access_key}");
        println!("  AWS_SECRET_ACCESS_KEY={secret_key}");
        credentials.push(Credential::new(access_key, secret_key, "dev"));
    }
    let store = CredentialStore::from_credentials(credentials)?;
    cedargate::server::warn_if_no_usable_credential(&store);
    Ok(store)
}

fn generate_dev_credential() -> (String, String) {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    let mut rng = rand::rng();
    let access: String = (&mut rng)
        .sample_iter(Alphanumeric)
        .take(16)
        .map(|c| char::from(c).to_ascii_uppercase())
        .collect();
    let secret: String = rng
        .sample_iter(Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    (format!("CG{access}"), secret)
}

/// `cedargate sts mint-session`.
fn mint_session(
    config: &std::path::Path,
    role_arn: &str,
    subject: &str,
    issuer: Option<String>,
    claims: &[String],
    seconds: Option<i64>,
) -> anyhow::Result<()> {
    use cedargate::sts::{SessionSealer, StsSession, session};
    let config = Config::from_file(config)?;
    anyhow::ensure!(
        !config.sts.seal_keys.is_empty(),
        "the config has no `sts.seal_keys`: a minted session would open nowhere"
    );
    let role = config
        .sts
        .roles
        .iter()
        .find(|role| role.arn == role_arn)
        .with_context(|| format!("role `{role_arn}` is not configured"))?;
    let max = i64::try_from(role.max_session_seconds).unwrap_or(i64::MAX);
    let seconds = seconds.unwrap_or(max.min(3600));
    // As AssumeRoleWithWebIdentity refuses a DurationSeconds above the
    // role's maximum, so does this command.
    anyhow::ensure!(
        seconds <= max,
        "--seconds {seconds} exceeds the role's max_session_seconds ({}); ask for at most that",
        role.max_session_seconds
    );
    let sealer = SessionSealer::from_config(&config.sts.seal_keys)?.bound_to(&config.sts);
    let mut claim_map = std::collections::BTreeMap::new();
    for claim in claims {
        let (name, value) = claim
            .split_once('=')
            .with_context(|| format!("`{claim}` is not `name=value`"))?;
        claim_map.insert(name.to_owned(), value.to_owned());
    }
    claim_map.insert("sub".to_owned(), subject.to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let expires = now.saturating_add_signed(seconds);
    let minted = StsSession {
        access_key: session::new_access_key(),
        secret_key: session::new_secret_key(),
        role_arn: role.arn.clone(),
        session_name: "minted".to_owned(),
        issuer: match issuer {
            Some(issuer) => {
                let trusted = role
                    .issuers
                    .iter()
                    .filter_map(|name| config.sts.issuers.get(name))
                    .any(|known| known.issuer == issuer);
                anyhow::ensure!(
                    trusted,
                    "issuer `{issuer}` is not one the role trusts: its session would be refused"
                );
                issuer
            }
            None => config
                .sts
                .issuers
                .get(&role.issuers[0])
                .map(|first| first.issuer.clone())
                .context("the role's first issuer is not configured")?,
        },
        subject: subject.to_owned(),
        audience: role.audiences[0].clone(),
        claims: claim_map,
        expires,
    };
    anyhow::ensure!(
        sealer.is_live(&minted),
        "the role does not grant a session to subject `{subject}` with these claims (its `subjects` and `claims`): the session would be refused"
    );
    let token = sealer.seal(&minted).context("cannot seal the session")?;
    let output = serde_json::json!({
        "AccessKeyId": minted.access_key,
        "SecretAccessKey": minted.secret_key,
        "SessionToken": token,
        "Expiration": cedargate_s3::xml::timestamp(minted.expires_at()),
    });
    println!("{output}");
    Ok(())
}
