//! `firehose-local`: runs a function binary through an emulated Lambda Runtime
//! API and shows what Firehose would get back, record by record (`invoke`),
//! or runs a template's whole delivery stream and writes what would land in S3
//! (`run`), or serves the Firehose API for producers to write to (`serve`).

mod generate_command;
mod interrupt;
mod run_command;
mod serve_command;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use firehose_local::answer::Answer;
use firehose_local::convert::read_back;
use firehose_local::sink::compression;
use firehose_local::{LocalFunction, Reply, check, view};

#[derive(Parser)]
#[command(
    name = "firehose-local",
    version,
    about = "Run Firehose transform functions locally, no Docker needed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Invoke a function once with an event and check its answer against the Firehose contract.
    Invoke(Invoke),
    /// Run the delivery stream of a template over input records and write what would land in S3.
    Run(run_command::Run),
    /// Put the records of error objects (processing-failed/ ...) through the stream again and write what would land.
    Replay(run_command::Replay),
    /// Print Parquet and ORC objects' rows as JSON lines (what Athena will see), their schema on standard error; any other object's records, decompressed.
    Cat(Cat),
    /// Make records from a Kinesis Data Generator record template, seeded, at a rate or a count.
    Generate(generate_command::Generate),
    /// Serve the Firehose API for every delivery stream of a template, on the wall clock, for producers and SDKs.
    Serve(serve_command::Serve),
}

#[derive(clap::Args)]
struct Cat {
    /// Objects (Parquet, ORC, or records in any CompressionFormat), folders (every Parquet and ORC object under them, in name order), or `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

impl Cat {
    fn execute(&self) -> Result<ExitCode, String> {
        let mut objects = Vec::new();
        for path in &self.files {
            read_back::find(path, &mut objects)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        }
        let mut out = std::io::stdout().lock();
        for path in &objects {
            let bytes = if path == Path::new("-") {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                bytes
            } else {
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
            };
            if objects.len() > 1 {
                eprintln!("== {}", path.display());
            }
            let shown = match read_back::rows(&bytes) {
                Some(read) => {
                    let (schema, rows) = read.map_err(|e| format!("{}: {e}", path.display()))?;
                    for field in schema.fields() {
                        eprintln!("{} {}", field.name(), field.data_type());
                    }
                    rows
                }
                None => compression::decompress(bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
            };
            std::io::Write::write_all(&mut out, &shown)
                .and_then(|()| std::io::Write::flush(&mut out))
                .map_err(|e| format!("cannot write standard output: {e}"))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
struct Invoke {
    /// The function: `normalize` runs the `firehose-normalize` binary beside this one.
    #[arg(long, required_unless_present = "binary")]
    function: Option<String>,
    /// The event file (a Firehose data-transformation event as JSON), or `-` for standard input.
    #[arg(long)]
    event: PathBuf,
    /// A setting for the function, as KEY=VALUE; repeat for more.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    env: Vec<(String, String)>,
    /// The function binary, any Lambda custom runtime (`bootstrap`), instead of --function.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Write the raw response to this file.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Show each record's data in full instead of its first 400 characters.
    #[arg(long)]
    full: bool,
    /// The function's timeout in seconds: the deadline it is told, and how long to wait for its answer
    /// (Firehose waits at most 300; give your function's `Timeout` to see what Lambda would do).
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

fn key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{arg:?} is not KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Invoke(invoke) => run(&invoke),
        Command::Run(stream) => stream.execute(),
        Command::Replay(replay) => replay.execute(),
        Command::Cat(cat) => cat.execute(),
        Command::Generate(generate) => generate.execute(),
        Command::Serve(serve) => serve.execute(),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("firehose-local: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Invoke) -> Result<ExitCode, String> {
    let event = read_event(&args.event)?;
    let binary = match (&args.binary, &args.function) {
        (Some(binary), _) => binary.clone(),
        (None, Some(function)) => beside_me(&format!("firehose-{function}"))?,
        (None, None) => return Err("give --function NAME or --binary PATH".to_owned()),
    };
    let mut function = LocalFunction::start(&binary, &args.env).map_err(|e| e.to_string())?;
    function.timeout = Duration::from_secs(args.timeout);
    let reply = function.invoke(&event).map_err(|e| e.to_string());
    // Logs come through a pipe: give the summary line a moment to arrive.
    function.wait_for_log("invocation summary", Duration::from_millis(300));
    println!("== logs of {}", binary.display());
    for line in function.logs() {
        println!("{line}");
    }
    match reply? {
        Reply::Response(response) => Ok(show(&event, &response, args)),
        Reply::Error {
            error_type,
            message,
        } => {
            println!("== invocation error\n{error_type}: {message}");
            println!(
                "(Firehose retries the whole batch, then writes every record under processing-failed/)"
            );
            Ok(ExitCode::FAILURE)
        }
        Reply::InitError {
            error_type,
            message,
        } => {
            println!("== start-up failed\n{error_type}: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn show(event: &[u8], response: &[u8], args: &Invoke) -> ExitCode {
    const PRINT_LIMIT: usize = 16 * 1024;
    if let Some(path) = &args.output
        && let Err(e) = std::fs::write(path, response)
    {
        eprintln!("firehose-local: cannot write {}: {e}", path.display());
    }
    println!("== response ({} bytes)", response.len());
    if response.len() <= PRINT_LIMIT || args.full {
        println!("{}", String::from_utf8_lossy(response));
    } else {
        println!("(not shown: over {PRINT_LIMIT} bytes; use --full or --output FILE)");
    }
    if let Ok(answer) = Answer::parse(response) {
        println!("== records");
        print!("{}", view::render(&answer, (!args.full).then_some(400)));
    }
    let report = check::judge(event, response);
    println!("== contract");
    for line in report.lines() {
        println!("{line}");
    }
    if !report.accepted() {
        return ExitCode::FAILURE;
    }
    if report.advice.is_empty() {
        println!(
            "ok: every record answered once, in order, with a valid result and canonical base64"
        );
    } else {
        println!("accepted by Firehose, with the advice above");
    }
    ExitCode::SUCCESS
}

fn read_event(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut event = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut event)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(event);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The binary `name` in the directory of this executable (`target/release/`).
fn beside_me(name: &str) -> Result<PathBuf, String> {
    let me =
        std::env::current_exe().map_err(|e| format!("cannot locate firehose-local itself: {e}"))?;
    let binary = me.with_file_name(name);
    if binary.is_file() {
        return Ok(binary);
    }
    Err(format!(
        "{} not found; build it with `cargo build --release -p {name}`, or pass --binary PATH",
        binary.display()
    ))
}
