//! The delivery stream a SAM/CloudFormation template describes, read as a
//! deployment would read it (parameters, conditions, intrinsic functions),
//! into what `firehose-local run` needs. A setting it cannot honour is an
//! error naming the template and line, never silently ignored.

mod conversion;
mod intrinsics;
mod yaml;

use base64::Engine;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use conversion::ConversionConfig;
pub use intrinsics::{ACCOUNT, REGION};
use intrinsics::{Context, EvalError, arn, resource_type};
use yaml::{Node, Value};

use crate::sink::prefix::{KeySource, Prefix};
pub use crate::sink::{Buffering, Compression, Destination};
use crate::stream::built_in::{BeforeLambda, SubRecordType};
use crate::stream::partition::Query;

/// The template could not be read as a delivery stream firehose-local can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct TemplateError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// A delivery stream, ready to run.
#[derive(Debug)]
pub struct DeliveryStream {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub source: Source,
    pub destination: Destination,
    /// `Decompression`, `CloudWatchLogProcessing`, `RecordDeAggregation`.
    pub before_lambda: BeforeLambda,
    pub lambda: Option<LambdaProcessor>,
    /// `AppendDelimiterToRecord`: a newline between records in each object.
    pub append_delimiter: bool,
    /// Dynamic partitioning, with the `MetadataExtraction` query if there is one.
    pub partitioning: Option<Partitioning>,
    /// Source record backup: every record as it arrived.
    pub backup: Option<Destination>,
    /// An enabled `DataFormatConversionConfiguration`.
    pub conversion: Option<ConversionConfig>,
}

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    DirectPut,
    /// A Kinesis data stream with this many shards (an on-demand stream starts with 4).
    Kinesis {
        stream_arn: String,
        shards: u32,
    },
}

/// A Kinesis data stream: one the template deploys (`AWS::Kinesis::Stream`),
/// or one a delivery stream reads that the template does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataStream {
    pub name: String,
    pub arn: String,
    pub shards: u32,
    /// `StreamMode` `ON_DEMAND` (else provisioned).
    pub on_demand: bool,
}

/// What `serve` runs of a template: every delivery stream and data stream.
#[derive(Debug)]
pub struct Deployment {
    pub delivery_streams: Vec<DeliveryStream>,
    pub data_streams: Vec<DataStream>,
}

/// Dynamic partitioning is on.
#[derive(Debug)]
pub struct Partitioning {
    /// The `MetadataExtractionQuery`, compiled.
    pub query: Option<Query>,
}

/// The processors of a stream, in the order Firehose runs them.
#[derive(Default)]
struct Processors {
    before_lambda: BeforeLambda,
    /// The line of the `RecordDeAggregation` processor.
    deaggregation: Option<usize>,
    lambda: Option<LambdaProcessor>,
    query: Option<(Query, usize)>,
    append_delimiter: bool,
}

/// The Lambda processor and the function it invokes.
#[derive(Debug, Clone)]
pub struct LambdaProcessor {
    /// The ARN error objects name (qualified with `:$LATEST` when the template's is not).
    pub arn: String,
    pub function: Function,
    pub buffering: Buffering,
    /// `NumberOfRetries`: attempts after the first for an invocation that fails.
    pub retries: u32,
}

/// A function of the template, built with SAM's `rust-cargolambda`.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`.
    pub binary: String,
    /// `CodeUri`, from the template's folder.
    pub code_uri: PathBuf,
    /// `Environment.Variables`, the `Globals` first.
    pub environment: Vec<(String, String)>,
    /// `Timeout`, at most the 5 minutes Firehose waits.
    pub timeout: Duration,
    pub memory_mb: u32,
}

/// Firehose waits at most 5 minutes for a Lambda.
pub const MAX_FUNCTION_TIMEOUT: Duration = Duration::from_secs(300);
const MIB: f64 = 1_048_576.0;
/// The S3 buffer dynamic partitioning and record format conversion need at least.
const LARGE_BUFFER_MIN_BYTES: u64 = 64 * 1_048_576;
/// `ExtendedS3DestinationConfiguration` as AWS's messages name it.
const EXTENDED_SHAPE: &str = "extendedS3DestinationConfiguration";
/// The longest `Prefix` or `ErrorOutputPrefix` the API takes (evaluated, at most 512 are used).
const MAX_PREFIX_LENGTH: usize = 1024;
/// AWS's pattern for `FileExtension`, as its message quotes it.
const FILE_EXTENSION_PATTERN: &str = r"^(|\.[0-9a-z!\-_.*'()]+)$";
const MAX_FILE_EXTENSION_LENGTH: usize = 128;

/// Reads the template at `path`: the delivery stream `stream` (a logical id or
/// stream name), or the only one there is.
pub fn load(
    path: &Path,
    stream: Option<&str>,
    parameters: &[(String, String)],
) -> Result<DeliveryStream, TemplateError> {
    read(path, parameters, |reader| reader.stream(stream))
}

/// Reads every delivery stream and data stream the template deploys (`serve` runs them all).
pub fn load_all(path: &Path, parameters: &[(String, String)]) -> Result<Deployment, TemplateError> {
    read(path, parameters, |reader| {
        let delivery_streams = reader.all()?;
        let mut data_streams = reader.data_streams()?;
        // A stream read from outside the template is still one producers write to.
        for stream in &delivery_streams {
            if let Source::Kinesis { stream_arn, shards } = &stream.source
                && !data_streams.iter().any(|d| &d.arn == stream_arn)
            {
                data_streams.push(DataStream {
                    name: stream_arn
                        .rsplit('/')
                        .next()
                        .unwrap_or(stream_arn)
                        .to_owned(),
                    arn: stream_arn.clone(),
                    shards: *shards,
                    on_demand: false,
                });
            }
        }
        Ok(Deployment {
            delivery_streams,
            data_streams,
        })
    })
}

/// Reads the template at `path` with `parameters`, and `what` of it.
fn read<T>(
    path: &Path,
    parameters: &[(String, String)],
    what: impl FnOnce(&Reader<'_>) -> Result<T, EvalError>,
) -> Result<T, TemplateError> {
    let error = |line: usize, message: String| TemplateError {
        path: path.to_owned(),
        line,
        message,
    };
    let source =
        std::fs::read_to_string(path).map_err(|e| error(0, format!("cannot read it: {e}")))?;
    let root = yaml::parse(&source).map_err(|(line, message)| error(line, message))?;
    let context = Context::new(&root, parameters).map_err(|e| error(e.line, e.message))?;
    let reader = Reader {
        context: &context,
        root: &root,
        folder: path.parent().unwrap_or(Path::new(".")).to_owned(),
    };
    what(&reader).map_err(|e| error(e.line, e.message))
}

struct Reader<'t> {
    context: &'t Context<'t>,
    root: &'t Node,
    folder: PathBuf,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError {
        line,
        message: message.into(),
    })
}

/// Keys firehose-local reads or knows to have no effect on what lands; any other is refused by name.
fn only(node: &Node, what: &str, known: &[&str]) -> Result<(), EvalError> {
    for (key, value) in node.entries() {
        if !known.contains(&key.as_str()) {
            return fail(
                value.line,
                format!("{what}.{key} is not supported by firehose-local"),
            );
        }
    }
    Ok(())
}

impl Reader<'_> {
    /// The delivery streams the template deploys: logical id, resource, name.
    fn declared(&self) -> Result<Vec<(&String, &Node, String)>, EvalError> {
        self.resources_of("AWS::KinesisFirehose::DeliveryStream")?
            .into_iter()
            .map(|(id, resource)| {
                let name = self.context.text(&key_node(id, resource.line))?;
                Ok((id, resource, name))
            })
            .collect()
    }

    /// The template's deployed resources of `kind`: logical id and resource.
    fn resources_of(&self, kind: &str) -> Result<Vec<(&String, &Node)>, EvalError> {
        let resources = self
            .root
            .get("Resources")
            .map(Node::entries)
            .unwrap_or_default();
        let mut found = Vec::new();
        for (id, resource) in resources {
            if resource_type(resource) == kind && self.context.deployed(resource)? {
                found.push((id, resource));
            }
        }
        Ok(found)
    }

    /// The Kinesis data streams the template deploys.
    fn data_streams(&self) -> Result<Vec<DataStream>, EvalError> {
        self.resources_of("AWS::Kinesis::Stream")?
            .into_iter()
            .map(|(id, resource)| self.data_stream(id, resource))
            .collect()
    }

    /// An `AWS::Kinesis::Stream`: an on-demand stream starts with 4 shards,
    /// a provisioned one has its `ShardCount` (1 when left out).
    fn data_stream(&self, id: &str, resource: &Node) -> Result<DataStream, EvalError> {
        let name = self.context.text(&key_node(id, resource.line))?;
        let properties = self.resolved(resource.get("Properties"), resource.line)?;
        let on_demand = properties
            .get("StreamModeDetails")
            .and_then(|m| m.get("StreamMode"))
            .and_then(Node::scalar)
            .is_some_and(|m| m == "ON_DEMAND");
        let shards = match properties.get("ShardCount") {
            _ if on_demand => 4,
            Some(count) => match count_of(count, "ShardCount")? {
                0 => return fail(count.line, "ShardCount 0: a stream has at least one shard"),
                n => n,
            },
            None => 1,
        };
        Ok(DataStream {
            arn: arn("AWS::Kinesis::Stream", &name),
            name,
            shards,
            on_demand,
        })
    }

    fn all(&self) -> Result<Vec<DeliveryStream>, EvalError> {
        let streams = self.declared()?;
        if streams.is_empty() {
            return fail(
                1,
                "the template has no AWS::KinesisFirehose::DeliveryStream",
            );
        }
        streams
            .into_iter()
            .map(|(id, resource, name)| self.delivery_stream(id, resource, name))
            .collect()
    }

    fn stream(&self, wanted: Option<&str>) -> Result<DeliveryStream, EvalError> {
        let streams = self.declared()?;
        let names = || {
            streams
                .iter()
                .map(|(id, _, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let chosen = match wanted {
            Some(wanted) => streams
                .iter()
                .find(|(id, _, name)| *id == wanted || name == wanted)
                .ok_or_else(|| EvalError {
                    line: self.root.get("Resources").map_or(1, |r| r.line),
                    message: format!(
                        "--stream {wanted}: no delivery stream of that name or id (there are: {})",
                        names()
                    ),
                })?,
            None => match streams.as_slice() {
                [one] => one,
                [] => {
                    return fail(
                        1,
                        "the template has no AWS::KinesisFirehose::DeliveryStream",
                    );
                }
                _ => {
                    return fail(
                        1,
                        format!(
                            "the template has several delivery streams ({}): pick one with --stream",
                            names()
                        ),
                    );
                }
            },
        };
        let (id, resource, name) = chosen;
        self.delivery_stream(id, resource, name.clone())
    }

    fn delivery_stream(
        &self,
        id: &str,
        resource: &Node,
        name: String,
    ) -> Result<DeliveryStream, EvalError> {
        let properties = self.resolved(resource.get("Properties"), resource.line)?;
        only(
            &properties,
            "DeliveryStream",
            &[
                "DeliveryStreamName",
                "DeliveryStreamType",
                "KinesisStreamSourceConfiguration",
                "ExtendedS3DestinationConfiguration",
                "S3DestinationConfiguration",
                "DeliveryStreamEncryptionConfigurationInput",
                "Tags",
            ],
        )?;
        let kind = properties
            .get("DeliveryStreamType")
            .and_then(Node::scalar)
            .unwrap_or("DirectPut".to_owned());
        let source = match kind.as_str() {
            "DirectPut" => Source::DirectPut,
            "KinesisStreamAsSource" => self.kinesis_source(&properties, resource.line)?,
            other => {
                return fail(
                    resource.line,
                    format!("DeliveryStreamType {other} is not supported by firehose-local"),
                );
            }
        };
        let (s3, shape) = match (
            properties.get("ExtendedS3DestinationConfiguration"),
            properties.get("S3DestinationConfiguration"),
        ) {
            (Some(s3), _) => (s3, EXTENDED_SHAPE),
            (None, Some(s3)) => (s3, "s3DestinationConfiguration"),
            (None, None) => {
                return fail(
                    resource.line,
                    "the stream has no S3 destination (ExtendedS3DestinationConfiguration)",
                );
            }
        };
        let mut known = vec![
            "BucketARN",
            "RoleARN",
            "Prefix",
            "ErrorOutputPrefix",
            "CompressionFormat",
            "BufferingHints",
            "EncryptionConfiguration",
            "CloudWatchLoggingOptions",
        ];
        if shape == EXTENDED_SHAPE {
            known.extend([
                "CustomTimeZone",
                "FileExtension",
                "ProcessingConfiguration",
                "DataFormatConversionConfiguration",
                "DynamicPartitioningConfiguration",
                "S3BackupMode",
                "S3BackupConfiguration",
            ]);
        }
        only(s3, "ExtendedS3DestinationConfiguration", &known)?;
        let mut destination = self.destination(s3, shape, None)?;
        // Before partitioning: conversion changes the default buffer size it checks.
        let conversion = match s3.get("DataFormatConversionConfiguration") {
            Some(config) if enabled(config) => {
                Some(self.conversion(config, s3, &mut destination)?)
            }
            _ => None,
        };
        let processors = match s3.get("ProcessingConfiguration") {
            Some(processing) if enabled(processing) => self.processors(processing)?,
            _ => Processors::default(),
        };
        let partitioning = partitioning(
            s3,
            &destination,
            processors.query,
            processors.lambda.is_some(),
        )?;
        if let (Some(line), None) = (processors.deaggregation, &partitioning) {
            return fail(
                line,
                "the RecordDeAggregation processor needs dynamic partitioning (DynamicPartitioningConfiguration)",
            );
        }
        let backup = match s3.get("S3BackupMode").and_then(Node::scalar).as_deref() {
            None | Some("Disabled") => None,
            Some("Enabled") => match s3.get("S3BackupConfiguration") {
                Some(backup) => Some(self.destination(
                    backup,
                    &format!("{shape}.s3BackupConfiguration"),
                    Some(&destination.time_zone),
                )?),
                None => {
                    return fail(
                        s3.line,
                        "S3BackupMode is Enabled but there is no S3BackupConfiguration",
                    );
                }
            },
            Some(other) => {
                return fail(
                    s3.line,
                    format!("S3BackupMode {other}: expected Enabled or Disabled"),
                );
            }
        };
        Ok(DeliveryStream {
            logical_id: id.to_owned(),
            arn: arn("AWS::KinesisFirehose::DeliveryStream", &name),
            name,
            source,
            destination,
            before_lambda: processors.before_lambda,
            lambda: processors.lambda,
            append_delimiter: processors.append_delimiter,
            partitioning,
            backup,
            conversion,
        })
    }

    fn kinesis_source(&self, properties: &Node, line: usize) -> Result<Source, EvalError> {
        let Some(config) = properties.get("KinesisStreamSourceConfiguration") else {
            return fail(
                line,
                "a KinesisStreamAsSource stream needs KinesisStreamSourceConfiguration",
            );
        };
        let stream_arn = required_text(config, "KinesisStreamARN")?;
        // The data stream, when the template declares it: its shards decide the events' shard ids.
        let declared = self
            .data_streams()?
            .into_iter()
            .find(|d| d.arn == stream_arn);
        let shards = declared.map_or(1, |d| d.shards);
        Ok(Source::Kinesis { stream_arn, shards })
    }

    /// The S3 destination `s3`, checked as AWS checks its API shape `shape`
    /// (named as AWS's messages name it) when the stream is created.
    fn destination(
        &self,
        s3: &Node,
        shape: &str,
        zone_of_main: Option<&jiff::tz::TimeZone>,
    ) -> Result<Destination, EvalError> {
        let bucket_arn = required_text(s3, "BucketARN")?;
        let Some(bucket) = bucket_arn.strip_prefix("arn:aws:s3:::") else {
            return fail(
                s3.line,
                format!("BucketARN {bucket_arn:?} is not an S3 bucket ARN"),
            );
        };
        let (prefix, error_prefix) = prefixes(s3, shape)?;
        let compression = match s3.get("CompressionFormat") {
            None => Compression::Uncompressed,
            Some(node) => {
                let name = node.scalar().unwrap_or_default();
                Compression::from_name(&name).ok_or_else(|| EvalError {
                    line: node.line,
                    message: format!(
                        "CompressionFormat {name:?}: {}",
                        validation(
                            shape,
                            "compressionFormat",
                            &format!(
                                "Member must satisfy enum value set: [{}]",
                                Compression::NAMES.join(", ")
                            )
                        )
                    ),
                })?
            }
        };
        let extension =
            file_extension(s3, shape)?.unwrap_or_else(|| compression.extension().to_owned());
        let time_zone = match (s3.get("CustomTimeZone"), zone_of_main) {
            (Some(node), _) => {
                let name = node.scalar().unwrap_or_default();
                jiff::tz::TimeZone::get(&name).map_err(|e| EvalError {
                    line: node.line,
                    message: format!("CustomTimeZone {name:?}: {e}"),
                })?
            }
            (None, Some(main)) => main.clone(),
            (None, None) => jiff::tz::TimeZone::UTC,
        };
        let hints = s3.get("BufferingHints");
        Ok(Destination {
            bucket: bucket.to_owned(),
            prefix,
            error_prefix,
            compression,
            extension,
            buffering: Buffering {
                size_bytes: megabytes(
                    hints.and_then(|h| h.get("SizeInMBs")),
                    5.0,
                    "BufferingHints.SizeInMBs",
                    (1.0, 128.0),
                )?,
                interval_ms: seconds(
                    hints.and_then(|h| h.get("IntervalInSeconds")),
                    300,
                    "BufferingHints.IntervalInSeconds",
                    900,
                )?,
            },
            time_zone,
        })
    }

    /// The processors, checked and put in the order Firehose runs them.
    fn processors(&self, processing: &Node) -> Result<Processors, EvalError> {
        let Some(Value::List(processors)) = processing.get("Processors").map(|p| &p.value) else {
            return fail(
                processing.line,
                "ProcessingConfiguration is enabled but has no Processors list",
            );
        };
        let mut found = Processors::default();
        let mut extraction_line = None;
        for processor in processors {
            let kind = processor
                .get("Type")
                .and_then(Node::scalar)
                .unwrap_or_default();
            let parameters: Vec<(String, &Node)> =
                match processor.get("Parameters").map(|p| &p.value) {
                    Some(Value::List(items)) => items
                        .iter()
                        .map(|p| {
                            (
                                p.get("ParameterName")
                                    .and_then(Node::scalar)
                                    .unwrap_or_default(),
                                p.get("ParameterValue").unwrap_or(p),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                };
            match kind.as_str() {
                "Lambda" if found.lambda.is_some() => {
                    return fail(processor.line, "a stream takes one Lambda processor");
                }
                "Lambda" => found.lambda = Some(self.lambda(processor, &parameters)?),
                "AppendDelimiterToRecord" => found.append_delimiter = true,
                "MetadataExtraction" => found.query = Some(metadata_query(processor, &parameters)?),
                "Decompression" => {
                    for (name, value) in &parameters {
                        match (name.as_str(), value.scalar().as_deref()) {
                            ("CompressionFormat", Some("GZIP")) => {}
                            _ => {
                                return fail(
                                    value.line,
                                    format!(
                                        "Decompression parameter {name}: Firehose takes CompressionFormat GZIP"
                                    ),
                                );
                            }
                        }
                    }
                    found.before_lambda.decompress = true;
                }
                "CloudWatchLogProcessing" => {
                    found.before_lambda.extract_messages =
                        message_extraction(processor, &parameters)?;
                    extraction_line = Some(processor.line);
                }
                "RecordDeAggregation" => {
                    found.before_lambda.deaggregate =
                        Some(sub_record_type(processor, &parameters)?);
                    found.deaggregation = Some(processor.line);
                }
                other => return fail(processor.line, format!("unknown processor Type {other:?}")),
            }
        }
        if let (Some(line), false) = (extraction_line, found.before_lambda.decompress) {
            return fail(
                line,
                "the CloudWatchLogProcessing processor needs the Decompression processor",
            );
        }
        Ok(found)
    }

    fn lambda(
        &self,
        processor: &Node,
        parameters: &[(String, &Node)],
    ) -> Result<LambdaProcessor, EvalError> {
        let mut arn_value = None;
        let (mut size, mut interval, mut retries) = (None, None, None);
        for (name, value) in parameters {
            match name.as_str() {
                "LambdaArn" => arn_value = value.scalar(),
                "BufferSizeInMBs" => size = Some(*value),
                "BufferIntervalInSeconds" => interval = Some(*value),
                "NumberOfRetries" => retries = Some(*value),
                "RoleArn" => {}
                other => {
                    return fail(
                        value.line,
                        format!(
                            "Lambda processor parameter {other} is not one of LambdaArn, BufferSizeInMBs, BufferIntervalInSeconds, NumberOfRetries, RoleArn"
                        ),
                    );
                }
            }
        }
        let Some(lambda_arn) = arn_value else {
            return fail(
                processor.line,
                "the Lambda processor has no LambdaArn parameter",
            );
        };
        let function = self.function(&lambda_arn, processor.line)?;
        let retries = match retries {
            Some(node) => {
                let n = count_of(node, "NumberOfRetries")?;
                if n > 300 {
                    return fail(node.line, "NumberOfRetries is at most 300");
                }
                n
            }
            None => 3,
        };
        // Unqualified function ARNs are reported with `:$LATEST` appended.
        let qualified = if lambda_arn.matches(':').count() >= 7 {
            lambda_arn
        } else {
            format!("{lambda_arn}:$LATEST")
        };
        Ok(LambdaProcessor {
            arn: qualified,
            function,
            buffering: Buffering {
                size_bytes: megabytes(size, 1.0, "BufferSizeInMBs", (0.2, 3.0))?,
                interval_ms: seconds(interval, 60, "BufferIntervalInSeconds", 900)?,
            },
            retries,
        })
    }

    /// The template's function that `lambda_arn` names.
    fn function(&self, lambda_arn: &str, line: usize) -> Result<Function, EvalError> {
        let unqualified: String = lambda_arn.split(':').take(7).collect::<Vec<_>>().join(":");
        let resources = self
            .root
            .get("Resources")
            .map(Node::entries)
            .unwrap_or_default();
        let found = resources.iter().find(|(id, r)| {
            let kind = resource_type(r);
            (kind == "AWS::Serverless::Function" || kind == "AWS::Lambda::Function")
                && self
                    .context
                    .text(&key_node(id, r.line))
                    .is_ok_and(|name| arn(kind, &name) == unqualified)
        });
        let Some((id, resource)) = found else {
            return fail(
                line,
                format!(
                    "LambdaArn {lambda_arn} is not a function of this template; firehose-local runs the template's own functions"
                ),
            );
        };
        if resource_type(resource) != "AWS::Serverless::Function" {
            return fail(
                resource.line,
                format!(
                    "{id}: firehose-local runs AWS::Serverless::Function resources built with rust-cargolambda"
                ),
            );
        }
        let metadata = self.resolved(resource.get("Metadata"), resource.line)?;
        let binary = metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(Node::scalar);
        let build_method = metadata.get("BuildMethod").and_then(Node::scalar);
        let (Some("rust-cargolambda"), Some(binary)) = (build_method.as_deref(), binary) else {
            return fail(
                resource.line,
                format!(
                    "{id}: firehose-local runs Rust functions: Metadata.BuildMethod rust-cargolambda and Metadata.BuildProperties.Binary"
                ),
            );
        };
        let properties = self.resolved(resource.get("Properties"), resource.line)?;
        let globals = match self.root.get("Globals").and_then(|g| g.get("Function")) {
            Some(globals) => self.resolved(Some(globals), globals.line)?,
            None => Node::new(resource.line, Value::Map(Vec::new())),
        };
        let setting = |key: &str| properties.get(key).or_else(|| globals.get(key));
        let mut environment: Vec<(String, String)> = Vec::new();
        for scope in [&globals, &properties] {
            for (key, value) in scope
                .get("Environment")
                .and_then(|e| e.get("Variables"))
                .map(Node::entries)
                .unwrap_or_default()
            {
                let Some(value) = value.scalar() else {
                    return fail(
                        value.line,
                        format!(
                            "Environment variable {key} is {}, not a string",
                            value.kind()
                        ),
                    );
                };
                environment.retain(|(k, _)| k != key);
                environment.push((key.clone(), value));
            }
        }
        let timeout = match setting("Timeout") {
            Some(node) => Duration::from_secs(u64::from(count_of(node, "Timeout")?)),
            None => Duration::from_secs(3),
        };
        let memory_mb = match setting("MemorySize") {
            Some(node) => count_of(node, "MemorySize")?,
            None => 128,
        };
        let code_uri = properties
            .get("CodeUri")
            .and_then(Node::scalar)
            .unwrap_or_else(|| ".".to_owned());
        Ok(Function {
            logical_id: id.clone(),
            binary,
            code_uri: self.folder.join(code_uri),
            environment,
            timeout: timeout.min(MAX_FUNCTION_TIMEOUT),
            memory_mb,
        })
    }

    fn resolved(&self, node: Option<&Node>, line: usize) -> Result<Node, EvalError> {
        match node {
            Some(node) => Ok(self
                .context
                .resolve(node)?
                .unwrap_or_else(|| Node::new(line, Value::Null))),
            None => Ok(Node::new(line, Value::Map(Vec::new()))),
        }
    }
}

/// `CloudWatchLogProcessing`'s `DataMessageExtraction`: whether it extracts the messages.
fn message_extraction(processor: &Node, parameters: &[(String, &Node)]) -> Result<bool, EvalError> {
    match parameters {
        [(name, value)] if name == "DataMessageExtraction" => {
            match value.scalar().map(|v| v.to_ascii_lowercase()).as_deref() {
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                _ => fail(value.line, "DataMessageExtraction: expected true or false"),
            }
        }
        _ => fail(
            processor.line,
            "the CloudWatchLogProcessing processor takes one parameter, DataMessageExtraction",
        ),
    }
}

/// `RecordDeAggregation`'s `SubRecordType`, with its `Delimiter` (base64) when DELIMITED.
fn sub_record_type(
    processor: &Node,
    parameters: &[(String, &Node)],
) -> Result<SubRecordType, EvalError> {
    let (mut kind, mut delimiter) = (None, None);
    for (name, value) in parameters {
        match name.as_str() {
            "SubRecordType" => kind = Some((value.scalar().unwrap_or_default(), value.line)),
            "Delimiter" => delimiter = Some((value.scalar().unwrap_or_default(), value.line)),
            other => {
                return fail(
                    value.line,
                    format!(
                        "RecordDeAggregation parameter {other} is not SubRecordType or Delimiter"
                    ),
                );
            }
        }
    }
    match (kind, delimiter) {
        (Some((kind, _)), None) if kind == "JSON" => Ok(SubRecordType::Json),
        (Some((kind, _)), Some((_, line))) if kind == "JSON" => fail(
            line,
            "RecordDeAggregation: a Delimiter is for SubRecordType DELIMITED",
        ),
        (Some((kind, line)), delimiter) if kind == "DELIMITED" => {
            let Some((text, line)) = delimiter.filter(|(text, _)| !text.is_empty()) else {
                return fail(
                    line,
                    "RecordDeAggregation: SubRecordType DELIMITED needs a Delimiter (base64)",
                );
            };
            match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
                Ok(bytes) if !bytes.is_empty() => Ok(SubRecordType::Delimited(bytes)),
                _ => fail(
                    line,
                    format!(
                        "RecordDeAggregation: Delimiter {text:?} is not base64 of a delimiter (#### is IyMjIw==)"
                    ),
                ),
            }
        }
        (Some((kind, line)), _) => fail(
            line,
            format!("RecordDeAggregation: SubRecordType {kind:?}: expected JSON or DELIMITED"),
        ),
        (None, _) => fail(
            processor.line,
            "the RecordDeAggregation processor has no SubRecordType",
        ),
    }
}

/// The `MetadataExtraction` processor's query, compiled.
fn metadata_query(
    processor: &Node,
    parameters: &[(String, &Node)],
) -> Result<(Query, usize), EvalError> {
    let mut code = None;
    for (name, value) in parameters {
        match name.as_str() {
            "MetadataExtractionQuery" => {
                code = Some((value.scalar().unwrap_or_default(), value.line))
            }
            "JsonParsingEngine" if value.scalar().as_deref() == Some("JQ-1.6") => {}
            "JsonParsingEngine" => {
                return fail(value.line, "JsonParsingEngine: Firehose takes JQ-1.6");
            }
            other => {
                return fail(
                    value.line,
                    format!(
                        "MetadataExtraction parameter {other} is not MetadataExtractionQuery or JsonParsingEngine"
                    ),
                );
            }
        }
    }
    let Some((code, line)) = code else {
        return fail(
            processor.line,
            "the MetadataExtraction processor has no MetadataExtractionQuery",
        );
    };
    Query::compile(&code)
        .map(|query| (query, line))
        .map_err(|e| EvalError {
            line,
            message: format!("MetadataExtractionQuery {code:?}: {e}"),
        })
}

/// Dynamic partitioning, checked as Firehose checks it when the stream is created.
fn partitioning(
    s3: &Node,
    destination: &Destination,
    query: Option<(Query, usize)>,
    has_lambda: bool,
) -> Result<Option<Partitioning>, EvalError> {
    let prefix_line = s3.get("Prefix").map_or(s3.line, |p| p.line);
    let dynamic = s3
        .get("DynamicPartitioningConfiguration")
        .filter(|d| enabled(d));
    let Some(dynamic) = dynamic else {
        if let Some((_, name)) = destination.prefix.keys().next() {
            return fail(
                prefix_line,
                format!(
                    "Prefix uses the partition key {name}, but dynamic partitioning is not enabled (DynamicPartitioningConfiguration)"
                ),
            );
        }
        if let Some((_, line)) = query {
            return fail(
                line,
                "the MetadataExtraction processor needs dynamic partitioning (DynamicPartitioningConfiguration)",
            );
        }
        return Ok(None);
    };
    let error_prefix = s3
        .get("ErrorOutputPrefix")
        .and_then(Node::scalar)
        .unwrap_or_default();
    if !error_prefix.contains("!{firehose:error-output-type}") {
        return fail(
            dynamic.line,
            "dynamic partitioning needs an ErrorOutputPrefix with !{firehose:error-output-type}",
        );
    }
    if destination.buffering.size_bytes < LARGE_BUFFER_MIN_BYTES {
        return fail(
            s3.get("BufferingHints").map_or(s3.line, |b| b.line),
            "dynamic partitioning needs BufferingHints.SizeInMBs of at least 64",
        );
    }
    for (source, name) in destination.prefix.keys() {
        match source {
            KeySource::Query if query.is_none() => {
                return fail(
                    prefix_line,
                    format!(
                        "Prefix uses partitionKeyFromQuery:{name}, but there is no MetadataExtraction processor"
                    ),
                );
            }
            KeySource::Lambda if !has_lambda => {
                return fail(
                    prefix_line,
                    format!(
                        "Prefix uses partitionKeyFromLambda:{name}, but there is no Lambda processor"
                    ),
                );
            }
            _ => {}
        }
    }
    Ok(Some(Partitioning {
        query: query.map(|(q, _)| q),
    }))
}

/// `Prefix` and `ErrorOutputPrefix`, checked as AWS checks them at creation.
fn prefixes(s3: &Node, shape: &str) -> Result<(Prefix, Prefix), EvalError> {
    // Each text with its line, if the template sets it.
    let text_of = |key: &str, member: &str| {
        let node = s3.get(key);
        let text = node.and_then(Node::scalar).unwrap_or_default();
        let line = node.map(|n| n.line);
        if text.chars().count() > MAX_PREFIX_LENGTH {
            let constraint =
                format!("Member must have length less than or equal to {MAX_PREFIX_LENGTH}");
            return fail(
                line.unwrap_or(s3.line),
                format!("{key}: {}", validation(shape, member, &constraint)),
            );
        }
        Ok((text, line))
    };
    let (prefix_text, prefix_line) = text_of("Prefix", "prefix")?;
    let (error_text, error_line) = text_of("ErrorOutputPrefix", "errorOutputPrefix")?;
    let prefix = Prefix::output(&prefix_text).map_err(|e| EvalError {
        line: prefix_line.unwrap_or(s3.line),
        message: format!("Prefix {prefix_text:?}: {e}"),
    })?;
    let error_prefix = Prefix::error(&error_text, &prefix_text).map_err(|e| EvalError {
        // An unset one is refused for what the Prefix holds.
        line: error_line.or(prefix_line).unwrap_or(s3.line),
        message: format!("ErrorOutputPrefix {error_text:?}: {e}"),
    })?;
    Ok((prefix, error_prefix))
}

/// AWS's message for a member of `shape` that breaks an API constraint.
fn validation(shape: &str, member: &str, constraint: &str) -> String {
    format!(
        "1 validation error detected: Value at '{shape}.{member}' failed to satisfy constraint: {constraint}"
    )
}

/// `FileExtension` as AWS checks it; `None` when unset or empty (AWS takes both as unset).
fn file_extension(s3: &Node, shape: &str) -> Result<Option<String>, EvalError> {
    let Some(node) = s3.get("FileExtension") else {
        return Ok(None);
    };
    let text = node.scalar().unwrap_or_default();
    let refuse = |constraint: String| {
        fail(
            node.line,
            format!(
                "FileExtension {text:?}: {}",
                validation(shape, "fileExtension", &constraint)
            ),
        )
    };
    if text.chars().count() > MAX_FILE_EXTENSION_LENGTH {
        return refuse(format!(
            "Member must have length less than or equal to {MAX_FILE_EXTENSION_LENGTH}"
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "!-_.*'()".contains(c);
    let matches = text.is_empty()
        || text
            .strip_prefix('.')
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(allowed));
    if !matches {
        return refuse(format!(
            "Member must satisfy regular expression pattern: {FILE_EXTENSION_PATTERN}"
        ));
    }
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// `{Ref: id}`: what a resource's name resolves to.
fn key_node(id: &str, line: usize) -> Node {
    Node::new(
        line,
        Value::Map(vec![(
            "Ref".to_owned(),
            Node::new(line, Value::Text(id.to_owned())),
        )]),
    )
}

fn enabled(config: &Node) -> bool {
    config
        .get("Enabled")
        .and_then(Node::scalar)
        .is_some_and(|e| e == "true")
}

fn required_text(node: &Node, key: &str) -> Result<String, EvalError> {
    node.get(key)
        .and_then(Node::scalar)
        .map_or_else(|| fail(node.line, format!("{key} is missing")), Ok)
}

fn count_of(node: &Node, what: &str) -> Result<u32, EvalError> {
    let text = node.scalar().unwrap_or_default();
    text.parse().map_or_else(
        |_| fail(node.line, format!("{what} {text:?} is not a whole number")),
        Ok,
    )
}

fn megabytes(
    node: Option<&Node>,
    default: f64,
    what: &str,
    (low, high): (f64, f64),
) -> Result<u64, EvalError> {
    let Some(node) = node else {
        return Ok((default * MIB) as u64);
    };
    let text = node.scalar().unwrap_or_default();
    match text.parse::<f64>() {
        Ok(mb) if (low..=high).contains(&mb) => Ok((mb * MIB) as u64),
        _ => fail(
            node.line,
            format!("{what} {text:?}: a number of MB from {low} to {high}"),
        ),
    }
}

fn seconds(node: Option<&Node>, default: i64, what: &str, most: i64) -> Result<i64, EvalError> {
    let Some(node) = node else {
        return Ok(default * 1000);
    };
    let text = node.scalar().unwrap_or_default();
    match text.parse::<i64>() {
        Ok(s) if (0..=most).contains(&s) => Ok(s * 1000),
        _ => fail(
            node.line,
            format!("{what} {text:?}: whole seconds from 0 to {most}"),
        ),
    }
}
