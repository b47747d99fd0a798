//! `firehose-local run` and `replay` (part of the binary): the delivery
//! stream of a template run over input files, or over the records of error
//! objects, writing what would land in S3.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use firehose_local::build;
use firehose_local::convert::{Conversion, Table};
use firehose_local::sink::Compression;
use firehose_local::sink::delivery::Delivery;
use firehose_local::sink::local_path;
use firehose_local::sink::objects::Objects;
use firehose_local::sink::store::{self, LocalFolder, Object, Store};
use firehose_local::stream::invoke::Invoker;
use firehose_local::stream::producer::{Attempt, InputError, InputFormat, Producer};
use firehose_local::stream::replay;
use firehose_local::stream::summary::Summary;
use firehose_local::stream::{self, Options};
use firehose_local::template::{self, ACCOUNT, ConversionConfig, DeliveryStream, REGION};

#[derive(clap::Args)]
#[group(id = "producer", required = true, multiple = false, args = ["input", "from_kinesis"])]
pub struct Run {
    /// A file of records (see --input-format), or `-` for standard input; repeat for more, read in turn.
    #[arg(long)]
    input: Vec<PathBuf>,
    /// Read every record a Kinesis data stream holds now, shard by shard, instead of --input.
    #[arg(long, value_name = "STREAM")]
    from_kinesis: Option<String>,
    /// The Kinesis API to read from (e.g. http://127.0.0.1:5000 for moto or LocalStack); AWS's otherwise.
    #[arg(long, value_name = "URL", requires = "from_kinesis")]
    endpoint_url: Option<String>,
    /// `lines`: each line is a record. `json`: each line is {"data": "..."} or {"base64": "..."},
    /// with optional "partitionKey" and "arrival" (epoch ms or RFC 3339).
    #[arg(long, value_enum, default_value_t = InputFormat::Lines)]
    input_format: InputFormat,
    #[command(flatten)]
    stream: StreamArgs,
}

#[derive(clap::Args)]
#[group(id = "replayed", required = true, multiple = false, args = ["errors", "undelivered_objects"])]
pub struct Replay {
    /// Error objects (as `processing-failed/` holds them, in any CompressionFormat): files, folders of them, or
    /// `s3://BUCKET/PREFIX` (read through the S3 API of --s3-endpoint, else AWS's); repeat for more.
    #[arg(long)]
    errors: Vec<PathBuf>,
    /// Deliver the objects a run kept in its undelivered folder (DIR, laid out as <bucket>/<key>) to
    /// --out or the S3 API, as they are; each is removed from DIR once delivered.
    #[arg(
        long = "undelivered",
        value_name = "DIR",
        conflicts_with = "undelivered_folder"
    )]
    undelivered_objects: Option<PathBuf>,
    #[command(flatten)]
    stream: StreamArgs,
}

/// What `run` and `replay` share: the stream, and how to run it.
#[derive(clap::Args)]
pub struct StreamArgs {
    /// The delivery stream (logical id or name) when the template has several.
    #[arg(long)]
    stream: Option<String>,
    /// When the first record arrives (RFC 3339, e.g. 2026-12-01T10:00:00Z); if not given, the first record's own `arrival` (--input-format json), else now.
    #[arg(long)]
    start_time: Option<jiff::Timestamp>,
    /// Milliseconds between one record's arrival and the next's.
    #[arg(long, default_value_t = 0)]
    arrival_spacing_ms: i64,
    /// Exit with 1 when any record went to an error object or was refused.
    #[arg(long)]
    fail_on_errors: bool,
    #[command(flatten)]
    pub setup: Setup,
}

/// What `run`, `replay` and `serve` share: the template, the function, and where objects go.
#[derive(clap::Args)]
pub struct Setup {
    /// The SAM/CloudFormation template with the delivery stream.
    #[arg(long, default_value = "template.yaml")]
    pub template: PathBuf,
    /// A template parameter, as KEY=VALUE; repeat for more. Others take their Default.
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = crate::key_value)]
    pub parameters: Vec<(String, String)>,
    /// The folder objects land in, as <bucket>/<key>.
    #[arg(long, default_value = "local-s3")]
    out: PathBuf,
    /// Write the objects to AWS's S3 instead of --out, with credentials and region from the environment.
    #[arg(long, conflicts_with = "out")]
    s3: bool,
    /// Write the objects to the S3 API at URL instead of --out (e.g. http://127.0.0.1:5000 for moto), path-style.
    #[arg(long, value_name = "URL", conflicts_with = "out")]
    s3_endpoint: Option<String>,
    /// How long to keep trying an object the folder or the S3 API fails to take (wall-clock seconds,
    /// with backoff), before it goes to the undelivered folder.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    retry_for: u64,
    /// Active partitions the stream may have, as AWS's limit form raises it (500 to 5,000): a record for
    /// a new partition past them goes to the error prefix (activePartitionExceeded).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=5000))]
    active_partitions: u16,
    /// The most MiB held in the S3 buffers together: past it the largest buffer is written early, so
    /// memory stays bounded with many partitions.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    buffer_memory_mib: u64,
    /// Where objects go that the folder or the S3 API did not take within --retry-for, as
    /// <bucket>/<key>; `replay --undelivered DIR` delivers them later. Default: --out's name + `-undelivered`.
    #[arg(long = "undelivered-folder", value_name = "DIR")]
    undelivered_folder: Option<PathBuf>,
    /// Seeds the random parts (ids, partition keys, object UUIDs, random-string); with --start-time a run repeats byte for byte.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the summary as JSON (the trace, if asked for, goes to standard error).
    #[arg(long)]
    pub json: bool,
    /// Say for every record where it ended: object and line, error object and code, dropped or refused; the function runs at DEBUG to tell which step dropped or failed a record.
    #[arg(long)]
    pub trace: bool,
    /// Do not convert: write the JSON the record format converter would read, to look at the transform alone.
    #[arg(long)]
    no_convert: bool,
    /// The Glue table to convert records through, as `aws glue get-table` prints it, for a table the template does not declare (it replaces one it does).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// The function binary, instead of the one beside firehose-local (or built from CodeUri).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// A setting for the function on top of the template's Environment, as KEY=VALUE; repeat for more.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = crate::key_value)]
    env: Vec<(String, String)>,
}

/// Exit statuses besides 0 and 1 (records failed with --fail-on-errors, or unaccounted for).
pub const EXIT_STOPPED: u8 = 2;
const EXIT_UNDELIVERED: u8 = 3;
const EXIT_LOST: u8 = 4;
/// 128 + SIGINT, as a shell reports a process Ctrl-C ended; here every record read landed first.
const EXIT_INTERRUPTED: u8 = 130;

/// The exit status `docs/local/when-things-go-wrong.md`'s table lists for a finished stream, the worst first.
pub fn exit_status(summary: &Summary, fail_on_errors: bool) -> u8 {
    let errors = summary.failed + summary.refused > 0;
    if summary.lost > 0 {
        EXIT_LOST
    } else if summary.not_stored().next().is_some() {
        EXIT_UNDELIVERED
    } else if summary.interrupted {
        EXIT_INTERRUPTED
    } else if summary.stopped.is_some() {
        EXIT_STOPPED
    } else if !summary.accounted_for() || (fail_on_errors && errors) {
        1
    } else {
        0
    }
}

type Inputs<'a> = Box<dyn Iterator<Item = Result<Attempt, InputError>> + 'a>;

impl Run {
    pub fn execute(&self) -> Result<ExitCode, String> {
        self.stream.execute(self.inputs()?)
    }

    /// Every input in turn, each read as it is needed.
    fn inputs(&self) -> Result<Inputs<'static>, String> {
        if let Some(stream) = &self.from_kinesis {
            return kinesis_inputs(stream, self.endpoint_url.as_deref());
        }
        let mut readers: Vec<(Box<dyn BufRead>, String)> = Vec::new();
        for path in &self.input {
            if path.as_os_str() == "-" {
                readers.push((
                    Box::new(BufReader::new(std::io::stdin())),
                    "stdin".to_owned(),
                ));
            } else {
                let file =
                    File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                readers.push((
                    Box::new(BufReader::with_capacity(1 << 20, file)),
                    path.display().to_string(),
                ));
            }
        }
        let format = self.input_format;
        Ok(Box::new(readers.into_iter().flat_map(
            move |(reader, name)| Producer::new(reader, format, &name),
        )))
    }
}

impl Replay {
    pub fn execute(&self) -> Result<ExitCode, String> {
        if let Some(folder) = &self.undelivered_objects {
            return self.stream.setup.deliver_undelivered(folder);
        }
        let mut objects = Vec::new();
        for path in &self.errors {
            match path.to_str().and_then(|p| p.strip_prefix("s3://")) {
                Some(location) => objects.extend(s3_error_objects(
                    location,
                    self.stream.setup.s3_endpoint.as_deref(),
                )?),
                None => objects.extend(replay::files(std::slice::from_ref(path))?),
            }
        }
        self.stream.execute(Box::new(replay::all_records(objects)))
    }
}

impl StreamArgs {
    fn execute(&self, inputs: Inputs<'_>) -> Result<ExitCode, String> {
        let setup = &self.setup;
        let stream = template::load(&setup.template, self.stream.as_deref(), &setup.parameters)
            .map_err(|e| e.to_string())?;
        let seed = setup.seed();
        let objects = setup.objects(&stream, seed, false)?;
        let invoker = setup.invoker(&stream)?;
        // Milliseconds, as arrival times are.
        let start = self.start_time.unwrap_or_else(jiff::Timestamp::now);
        let start = jiff::Timestamp::from_millisecond(start.as_millisecond()).unwrap_or(start);
        let options = Options {
            start_ms: start.as_millisecond(),
            first_arrival_starts: self.start_time.is_none(),
            spacing_ms: self.arrival_spacing_ms.max(0),
            seed,
            trace: setup.trace,
            active_partitions: setup.active_partitions(),
            interrupted: crate::interrupt::watch(
                "reading no more input, finishing the batches in flight and writing every buffer",
            )?,
        };
        let json = setup.json;
        let progress = progress_bar();
        let mut trace = |line: String| {
            progress.suspend(|| {
                if json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            })
        };
        let counted = inputs.inspect(|attempt| {
            if let Ok(Attempt::Put(put)) = attempt {
                progress.inc(put.data.len() as u64);
            }
        });
        let summary = stream::run(
            &stream,
            invoker,
            objects,
            counted,
            &options,
            Some(&mut trace),
        )
        .map_err(|e| e.to_string());
        progress.finish_and_clear();
        let summary = summary?;
        let start = jiff::Timestamp::from_millisecond(summary.started_ms).unwrap_or(start);
        let mut out = std::io::stdout().lock();
        let printed = if setup.json {
            let mut value = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
            value["seed"] = seed.into();
            value["start_time"] = start.to_string().into();
            value["out"] = setup.where_objects_land().into();
            writeln!(out, "{value}")
        } else {
            write!(out, "{}", summary.render()).and_then(|()| {
                writeln!(
                    out,
                    "objects are {}; repeat this run with --seed {seed} --start-time {start}",
                    setup.where_objects_land()
                )
            })
        };
        printed.map_err(|e| format!("cannot write the summary: {e}"))?;
        for object in summary.not_stored() {
            // Loudly, and on standard error too, where a script's log keeps it.
            eprintln!(
                "firehose-local: s3://{}/{} is not in the store: {}",
                object.bucket,
                object.key,
                serde_json::to_string(&object.landed).unwrap_or_default()
            );
        }
        Ok(ExitCode::from(exit_status(&summary, self.fail_on_errors)))
    }
}

impl Setup {
    /// --seed, else a random one.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| fastrand::u64(..))
    }

    pub fn active_partitions(&self) -> usize {
        usize::from(self.active_partitions)
    }

    /// The S3 buffers of `stream`, converting as it does (unless --no-convert),
    /// writing to the store; their random parts from `seed`. `synced`: a
    /// local folder's objects are synced to disk before they count as landed.
    pub fn objects(
        &self,
        stream: &DeliveryStream,
        seed: u64,
        synced: bool,
    ) -> Result<Objects, String> {
        let conversion = match (&stream.conversion, self.no_convert) {
            (Some(config), false) => Some(self.conversion(config)?),
            _ => None,
        };
        // Before the function, which may be built first: a bad destination fails at once.
        let store = self.store(synced)?;
        let objects = Objects::new(
            &stream.name,
            stream.destination.clone(),
            stream.backup.clone(),
            stream.append_delimiter,
            self.delivery(store, synced),
            fastrand::Rng::with_seed(seed ^ 0x9e37_79b9_7f4a_7c15),
        )
        .holding_at_most(self.buffer_memory_mib << 20);
        Ok(match conversion {
            Some((conversion, extension)) => objects.converting(Arc::new(conversion), extension),
            None => objects,
        })
    }

    /// The stream's conversion, through `--schema`'s table or the template's,
    /// with its data objects' extension.
    fn conversion(&self, config: &ConversionConfig) -> Result<(Conversion, String), String> {
        let table = match &self.schema {
            Some(path) => {
                let json = std::fs::read(path)
                    .map_err(|e| format!("--schema {}: cannot read it: {e}", path.display()))?;
                Table::from_get_table(&json, &config.region)
                    .map_err(|e| format!("--schema {}: {e}", path.display()))?
            }
            None => config.table.clone().ok_or_else(|| {
                format!(
                    "{}:{}: the stream converts records through the Glue table {}, which the template does not declare: \
                     give it with --schema FILE (the JSON of `aws glue get-table`), or --no-convert to write the JSON the converter would read",
                    self.template.display(),
                    config.line,
                    config.table_name
                )
            })?,
        };
        let conversion = Conversion::new(
            table,
            config.deserializer.clone(),
            config.serializer.clone(),
        );
        Ok((conversion, config.extension.clone()))
    }

    /// The store, tried for --retry-for, with the undelivered folder behind it.
    fn delivery(&self, store: Box<dyn Store>, synced: bool) -> Delivery {
        let undelivered = self.undelivered_folder();
        Delivery::new(
            store,
            if synced {
                LocalFolder::synced(&undelivered)
            } else {
                LocalFolder::new(&undelivered)
            },
            std::time::Duration::from_secs(self.retry_for),
        )
    }

    /// --undelivered-folder, else beside --out.
    fn undelivered_folder(&self) -> PathBuf {
        self.undelivered_folder.clone().unwrap_or_else(|| {
            let mut name = self.out.clone().into_os_string();
            name.push("-undelivered");
            PathBuf::from(name)
        })
    }

    /// `replay --undelivered DIR`: every object under `folder` to the store as it is, each
    /// removed from `folder` once the store has it.
    fn deliver_undelivered(&self, folder: &std::path::Path) -> Result<ExitCode, String> {
        let mut files = Vec::new();
        store::files_under(folder, &mut files)
            .map_err(|e| format!("--undelivered {}: {e}", folder.display()))?;
        let mut delivery = Delivery::new(
            self.store(false)?,
            LocalFolder::new(folder),
            std::time::Duration::from_secs(self.retry_for),
        );
        let mut left = 0;
        for file in &files {
            let relative = file.strip_prefix(folder).unwrap_or(file);
            let Some((bucket, key)) = local_path::key_of(relative)
                .and_then(|k| k.split_once('/').map(|(b, k)| (b.to_owned(), k.to_owned())))
            else {
                eprintln!(
                    "firehose-local: {}: not an object of an undelivered folder (<bucket>/<key>); left there",
                    file.display()
                );
                left += 1;
                continue;
            };
            let delivered = std::fs::read(file)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    delivery
                        .put_retried(&Object {
                            bucket: &bucket,
                            key: &key,
                            bytes: &bytes,
                            content_encoding: Compression::of_object(&bytes).content_encoding(),
                        })
                        .map_err(|e| e.to_string())
                });
            match delivered {
                Ok(()) => {
                    println!("delivered s3://{bucket}/{key}");
                    let _ = std::fs::remove_file(file);
                }
                Err(why) => {
                    eprintln!(
                        "firehose-local: s3://{bucket}/{key}: still undelivered ({why}); left at {}",
                        file.display()
                    );
                    left += 1;
                }
            }
        }
        println!(
            "{} of {} objects delivered {}",
            files.len() - left,
            files.len(),
            self.where_objects_land()
        );
        Ok(ExitCode::from(if left > 0 { EXIT_UNDELIVERED } else { 0 }))
    }

    /// Where objects go: the S3 API (whose answer means the object is kept),
    /// or --out, synced to disk if `synced`.
    fn store(&self, synced: bool) -> Result<Box<dyn Store>, String> {
        if self.s3 || self.s3_endpoint.is_some() {
            s3_store(self.s3_endpoint.as_deref())
        } else if synced {
            Ok(Box::new(LocalFolder::synced(&self.out)))
        } else {
            Ok(Box::new(LocalFolder::new(&self.out)))
        }
    }

    /// Where objects are, as the summary says it.
    pub fn where_objects_land(&self) -> String {
        match (&self.s3_endpoint, self.s3) {
            (Some(endpoint), _) => format!("in the S3 API at {endpoint}"),
            (None, true) => "in S3".to_owned(),
            (None, false) => format!("under {}/", self.out.display()),
        }
    }

    /// The function of the Lambda processor, found or built; its environment as Lambda would give it.
    pub fn invoker(&self, stream: &DeliveryStream) -> Result<Option<Invoker>, String> {
        let Some(lambda) = &stream.lambda else {
            return Ok(None);
        };
        let function = &lambda.function;
        let binary = match &self.binary {
            Some(binary) if binary.is_file() => binary.clone(),
            Some(binary) => return Err(format!("--binary {}: no such file", binary.display())),
            None => match build::beside_me(&function.binary) {
                Some(binary) => binary,
                None => build::cargo_build(&function.binary, &function.code_uri, &mut |m| {
                    eprintln!("firehose-local: {m}")
                })?,
            },
        };
        let name = format!("{}-{}", "local", function.logical_id);
        let mut environment = vec![
            ("AWS_LAMBDA_FUNCTION_NAME".to_owned(), name),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
                function.memory_mb.to_string(),
            ),
            ("AWS_REGION".to_owned(), REGION.to_owned()),
            ("AWS_ACCOUNT_ID".to_owned(), ACCOUNT.to_owned()),
        ];
        environment.extend(function.environment.iter().cloned());
        environment.extend(self.env.iter().cloned());
        let invoker = Invoker::new(binary, environment, function.timeout);
        // The trace names the step that dropped or failed a record, which only the function's logs tell.
        Ok(Some(if self.trace {
            invoker.keeping_logs()
        } else {
            invoker
        }))
    }
}

/// Bytes read so far, on standard error when it is a terminal.
fn progress_bar() -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes} of records read ({bytes_per_sec}), {elapsed}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

#[cfg(feature = "kinesis")]
fn kinesis_inputs(stream: &str, endpoint: Option<&str>) -> Result<Inputs<'static>, String> {
    let reader = firehose_local::stream::kinesis::KinesisReader::open(stream, endpoint)?;
    Ok(Box::new(reader))
}

#[cfg(not(feature = "kinesis"))]
fn kinesis_inputs(_stream: &str, _endpoint: Option<&str>) -> Result<Inputs<'static>, String> {
    Err(
        "--from-kinesis: this firehose-local is built without it; build it with \
         `cargo build --release -p firehose-local --features kinesis`"
            .to_owned(),
    )
}

#[cfg(feature = "s3")]
fn s3_store(endpoint: Option<&str>) -> Result<Box<dyn Store>, String> {
    Ok(Box::new(firehose_local::sink::s3::S3Api::connect(
        endpoint,
    )?))
}

#[cfg(feature = "s3")]
fn s3_error_objects(
    location: &str,
    endpoint: Option<&str>,
) -> Result<Vec<replay::ErrorObject>, String> {
    replay::s3_objects(location, endpoint)
}

#[cfg(not(feature = "s3"))]
fn s3_store(_endpoint: Option<&str>) -> Result<Box<dyn Store>, String> {
    Err(WITHOUT_S3.replace("{}", "--s3 and --s3-endpoint"))
}

#[cfg(not(feature = "s3"))]
fn s3_error_objects(
    _location: &str,
    _endpoint: Option<&str>,
) -> Result<Vec<replay::ErrorObject>, String> {
    Err(WITHOUT_S3.replace("{}", "--errors s3://..."))
}

#[cfg(not(feature = "s3"))]
const WITHOUT_S3: &str = "{}: this firehose-local is built without the S3 API; build it with \
                          `cargo build --release -p firehose-local --features s3`";
