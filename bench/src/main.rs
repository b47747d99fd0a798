//! `firehose-bench`: runs each job's processes side by side on the same seeded
//! events and prints the tables `docs/performance.md` holds.
//!
//! For each batch, every process is started fresh and invoked once (its
//! answer checked against the contract and against the real function's), then
//! all are invoked in turn for `--rounds` rounds, the order turning each round,
//! so that the machine's drift falls on all alike. The echo's time in the same
//! round is the harness's own cost, taken off every other process's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use firehose_bench::agree::{difference, results};
use firehose_bench::batch::{self, Batch, Generator};
use firehose_bench::contender::{self, Contender, cpu_time, invoke};
use firehose_bench::job::{self, Agreement, Job};
use firehose_bench::logs;
use firehose_bench::report::{self, Measured, Target, cpu_ratio, median, ratio};
use firehose_bench::soak;
use firehose_local::{LocalFunction, Reply, check};

#[derive(Parser)]
#[command(
    name = "firehose-bench",
    about = "Measure the functions against a straightforward Rust handler and Python with Powertools"
)]
struct Cli {
    /// Warm invocations of each process on each batch.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Fresh starts of each process, for the start-up figure.
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// The batch generator's seed.
    #[arg(long, default_value_t = batch::SEED)]
    seed: u64,
    /// Only these buffer sizes (1MB, 3MB); both when not given.
    #[arg(long, value_delimiter = ',')]
    buffers: Vec<String>,
    /// Only these jobs (normalize, chain, access-log, syslog); all when not given.
    #[arg(long, value_delimiter = ',')]
    jobs: Vec<String>,
    /// A Python with bench/python/requirements.txt; else a venv is made in target/bench-venv.
    #[arg(long)]
    python: Option<PathBuf>,
    /// The straightforward Rust handler; else it is built alone into target/bench-plain.
    #[arg(long)]
    plain: Option<PathBuf>,
    /// Instead of measuring, write each batch's event to DIR (`json-1MB.json`, `syslog-3MB.json`, …),
    /// for profiling one function with `firehose-local invoke`.
    #[arg(long, value_name = "DIR")]
    write_events: Option<PathBuf>,
    /// Instead of measuring, the soak: serve this many small varied invocations to one process of
    /// each function, and report its memory and open file descriptors.
    #[arg(long, value_name = "INVOCATIONS")]
    soak: Option<usize>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("firehose-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let release = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .ok_or("cannot tell where firehose-bench is")?;
    if let Some(invocations) = cli.soak {
        return soak_all(&release, invocations, cli.seed);
    }
    let wanted = |name: &str| cli.jobs.is_empty() || cli.jobs.iter().any(|j| j == name);
    if let Some(unknown) = cli.jobs.iter().find(|j| !job::NAMES.contains(&j.as_str())) {
        return Err(format!(
            "--jobs: no job {unknown:?}; the jobs are {:?}",
            job::NAMES
        ));
    }
    let buffers: Vec<(&'static str, usize)> = batch::BUFFERS
        .into_iter()
        .filter(|(name, _)| cli.buffers.is_empty() || cli.buffers.iter().any(|b| b == name))
        .collect();
    if buffers.is_empty() {
        return Err(format!(
            "--buffers: none of {:?} is 1MB or 3MB",
            cli.buffers
        ));
    }
    let batches_of = |generate| {
        buffers
            .iter()
            .map(|&(name, bytes)| batch::batch_of(name, bytes, cli.seed, generate))
            .collect::<Vec<Batch>>()
    };
    if let Some(dir) = cli.write_events {
        let kinds: [(&str, Generator); 3] = [
            ("json", batch::record),
            ("access-log", logs::access_line),
            ("syslog", logs::syslog_line),
        ];
        for (kind, generate) in kinds {
            write_events(&dir, kind, &batches_of(generate))?;
        }
        return Ok(());
    }
    let target = release.parent().unwrap_or(&release);
    let mut jobs = Vec::new();
    // Each job's other processes need Python or Node.js: only what the jobs asked for is looked for.
    if wanted("normalize") || wanted("chain") {
        let python = contender::python(cli.python, target)?;
        if wanted("normalize") {
            let plain = contender::plain_handler(cli.plain, target)?;
            jobs.push(job::normalize(&release, &python, plain));
        }
        if wanted("chain") {
            jobs.push(job::chain(&release, &python));
        }
    }
    if wanted("access-log") || wanted("syslog") {
        let node = contender::node()?;
        if wanted("access-log") {
            jobs.push(job::access_log(&release, &node));
        }
        if wanted("syslog") {
            jobs.push(job::syslog(&release, &node));
        }
    }

    let mut targets = Vec::new();
    let mut tables = Vec::new();
    let mut starts = Vec::new();
    for job in &jobs {
        for batch in &batches_of(job.records) {
            let measured = measure(job, batch, cli.rounds)?;
            tables.push(report::batch_table(job.name, batch, &measured, 1));
            targets.extend(batch_targets(job, batch, &measured));
        }
        for (i, contender) in job.contenders.iter().enumerate().skip(1) {
            let samples = (0..cli.starts)
                .map(|_| start_up(contender))
                .collect::<Result<Vec<_>, _>>()?;
            if i == 1 {
                targets.extend(start_targets(job, &samples));
            }
            starts.push((contender.name, samples, contender.binary_bytes()));
        }
    }

    println!("firehose-bench: seed {}, {} rounds\n", cli.seed, cli.rounds);
    for table in tables {
        println!("{table}");
    }
    println!("{}", report::start_table(&starts));
    println!("{}", report::target_lines(&targets));
    Ok(())
}

/// The targets of `job` on one batch: its speed against each other process,
/// by wall and by CPU time, and its peak memory.
fn batch_targets(job: &Job, batch: &Batch, measured: &[Measured]) -> Vec<Target> {
    let (echo, ours) = (&measured[0], &measured[1]);
    let mut targets = Vec::new();
    for &(other, goal) in &job.goals {
        let other = &measured[other];
        if !other.answered {
            // Its note in the table says why: there is no time to compare.
            continue;
        }
        let what = |by| {
            format!(
                "{}: {} ≥ {goal}× {} by {by}",
                batch.name, ours.name, other.name
            )
        };
        targets.push(times(what("wall time"), ratio(other, ours), goal));
        targets.push(times(what("CPU time"), cpu_ratio(other, ours, echo), goal));
    }
    let limit = 3 * batch.event.len() as u64 + (4 << 20);
    let rss = ours.peak_rss.unwrap_or(u64::MAX);
    targets.push(Target {
        what: format!(
            "{}: {} peak RSS ≤ 3 × the event + 4 MiB",
            batch.name, ours.name
        ),
        measured: format!("{:.1} of {:.1} MiB", mib(rss), mib(limit)),
        met: rss <= limit,
    });
    targets
}

/// The start-up target of `job`'s function, and its size where it has one.
fn start_targets(job: &Job, samples: &[Duration]) -> Vec<Target> {
    let ours = &job.contenders[1];
    let start = median(samples);
    let mut targets = vec![Target {
        what: format!("{}: start to first poll ≤ 5 ms", ours.name),
        measured: format!("{:.2} ms", start.as_secs_f64() * 1e3),
        met: start <= Duration::from_millis(5),
    }];
    if let Some(limit) = job.max_binary_bytes {
        let size = ours.binary_bytes().unwrap_or(u64::MAX);
        targets.push(Target {
            what: format!("{}: binary ≤ {} MB stripped", ours.name, limit / 1_000_000),
            measured: format!("{:.2} MB", size as f64 / 1e6),
            met: size <= limit,
        });
    }
    targets
}

/// Each batch's event as a file of `dir`: `json-1MB.json`, `syslog-3MB.json`, ….
fn write_events(dir: &Path, kind: &str, batches: &[Batch]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--write-events {}: {e}", dir.display()))?;
    for batch in batches {
        let path = dir.join(format!("{kind}-{}.json", batch.name));
        std::fs::write(&path, &batch.event).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("{}: {} records", path.display(), batch.records);
    }
    Ok(())
}

/// The soak of every function, one after another (so that none slows another), as one table.
fn soak_all(release: &Path, invocations: usize, seed: u64) -> Result<(), String> {
    let warm_up = (invocations / 10).clamp(1, 1000);
    let mut soaked = Vec::new();
    for function in &soak::FUNCTIONS {
        let began = Instant::now();
        soaked.push(soak::soak(release, function, invocations, warm_up, seed)?);
        eprintln!("{}: {:.0?}", function.binary, began.elapsed());
    }
    println!(
        "firehose-bench --soak: seed {seed}, {invocations} invocations of 1 to 20 records each, warm after {warm_up}\n"
    );
    println!("{}", soak::table(&soaked));
    Ok(())
}

/// Every contender on `batch`: a fresh process each, invoked once and checked,
/// then `rounds` warm invocations in turn.
fn measure(job: &Job, batch: &Batch, rounds: usize) -> Result<Vec<Measured>, String> {
    let contenders = &job.contenders;
    let mut processes = Vec::new();
    let mut measured = Vec::new();
    let mut reference: Option<(&str, Vec<u8>)> = None;
    for (i, contender) in contenders.iter().enumerate() {
        let mut function = contender.start()?;
        let began = Instant::now();
        let (answered, note) = match function.invoke(&batch.event) {
            Ok(Reply::Response(answer)) => {
                let mut note = None;
                if i > 0 {
                    note = check_answer(job, contender.name, batch, &answer, reference.as_ref())?;
                    reference.get_or_insert((contender.name, answer));
                }
                (true, note)
            }
            // Ours and the harness must answer; another process may fail the batch as Lambda would fail it.
            Ok(Reply::Error { message, .. }) if i > 1 => {
                (false, Some(format!("fails this batch: {message}")))
            }
            other => {
                return Err(format!(
                    "{} did not answer the {} batch: {other:?}; its logs: {:?}",
                    contender.name,
                    batch.name,
                    function.take_logs()
                ));
            }
        };
        let first = began.elapsed();
        processes.push(function);
        measured.push(Measured {
            name: contender.name,
            first,
            warm: Vec::new(),
            net: Vec::new(),
            cpu: Duration::ZERO,
            peak_rss: None,
            answered,
            note,
        });
    }
    let cpu_before: Vec<Duration> = processes.iter().map(|f| cpu_time(f.pid())).collect();
    for round in 0..rounds {
        let mut wall = vec![Duration::ZERO; contenders.len()];
        for turn in 0..contenders.len() {
            let i = (round + turn) % contenders.len();
            if !measured[i].answered {
                continue;
            }
            let function = &mut processes[i];
            let began = Instant::now();
            invoke(contenders[i].name, function, &batch.event)?;
            wall[i] = began.elapsed();
            function.take_logs();
        }
        for (row, time) in measured.iter_mut().zip(&wall) {
            row.warm.push(*time);
            row.net.push(time.saturating_sub(wall[0]));
        }
    }
    for ((row, function), before) in measured.iter_mut().zip(&processes).zip(cpu_before) {
        let used = cpu_time(function.pid()).saturating_sub(before);
        row.cpu = used / u32::try_from(rounds.max(1)).unwrap_or(u32::MAX);
        row.peak_rss = function.peak_memory_bytes();
    }
    Ok(measured)
}

/// Firehose takes the answer (advice, such as `aws_lambda_events`' empty
/// `metadata` on every record, is not counted), and, for a job of the same
/// answers, it says what our function's (`reference`, by name) says. What
/// there is to say about it: numbers off in their last digits, or how many
/// records it reads beside ours.
fn check_answer(
    job: &Job,
    name: &str,
    batch: &Batch,
    answer: &[u8],
    reference: Option<&(&str, Vec<u8>)>,
) -> Result<Option<String>, String> {
    let report = check::judge(&batch.event, answer);
    if !report.accepted() {
        let first: Vec<String> = report.lines().into_iter().take(3).collect();
        return Err(format!(
            "Firehose would reject {name}'s answer to the {} batch: {first:?}",
            batch.name
        ));
    }
    let Some((ours, reference)) = reference else {
        return Ok(None);
    };
    let what = |why| format!("{name} beside {ours} on the {} batch: {why}", batch.name);
    match job.agreement {
        Agreement::SameAnswer => {
            let inexact =
                difference(reference, answer).map_err(|why| what(format!("another job: {why}")))?;
            Ok((inexact > 0).then(|| {
                format!(
                    "{inexact} numbers of its answer differ from the records' in their last digits."
                )
            }))
        }
        Agreement::ResultsReported => results(reference, answer).map(Some).map_err(what),
    }
}

/// A fresh process's time from being started to asking for work.
fn start_up(contender: &Contender) -> Result<Duration, String> {
    let function: LocalFunction = contender.start()?;
    function.start_up(Duration::from_secs(30)).ok_or_else(|| {
        format!(
            "{} did not ask for work within 30 s: {:?}",
            contender.name,
            function.logs()
        )
    })
}

fn times(what: String, ratio: f64, goal: f64) -> Target {
    Target {
        what,
        measured: format!("{ratio:.1}×"),
        met: ratio >= goal,
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}
