//! `DataFormatConversionConfiguration`: the deserialiser, the serialiser and
//! the Glue table the schema comes from, found among the template's own
//! resources when it declares it.

use super::intrinsics::{EvalError, REGION, resource_type};
use super::yaml::{Node, Value};
use super::{Compression, Destination, LARGE_BUFFER_MIN_BYTES, Reader, fail, only};
use crate::convert::hive_json::TimestampFormat;
use crate::convert::table::{Column, Table, column};
use crate::convert::{
    Deserializer, HiveJson, OpenX, OrcSettings, ParquetCompression, ParquetSettings, Serializer,
};
use firehose_orc::{Compression as OrcCompression, FormatVersion};

/// A stream's conversion as the template describes it.
#[derive(Debug)]
pub struct ConversionConfig {
    /// The line of `DataFormatConversionConfiguration`.
    pub line: usize,
    pub deserializer: Deserializer,
    pub serializer: Serializer,
    /// `SchemaConfiguration`'s `DatabaseName`.`TableName`.
    pub table_name: String,
    /// The table, when the template declares it (`--schema` replaces it).
    pub table: Option<Table>,
    /// The data objects' extension: `FileExtension`, else `.parquet` or `.orc`.
    pub extension: String,
    /// `SchemaConfiguration.Region`.
    pub region: String,
}

/// A converting stream's S3 buffer when `BufferingHints.SizeInMBs` is not given.
const DEFAULT_BUFFER_BYTES: u64 = 128 * 1_048_576;
const MIN_BLOCK_BYTES: usize = 64 << 20;
const MIN_PAGE_BYTES: usize = 64 << 10;

impl Reader<'_> {
    /// The conversion `config` describes, and what it asks of `destination`
    /// (the `s3` destination's settings): no compression (the Parquet codec
    /// compresses) and a buffer of at least 64 MiB, 128 MiB by default.
    pub(super) fn conversion(
        &self,
        config: &Node,
        s3: &Node,
        destination: &mut Destination,
    ) -> Result<ConversionConfig, EvalError> {
        if destination.compression != Compression::Uncompressed {
            let line = s3.get("CompressionFormat").map_or(s3.line, |n| n.line);
            return fail(
                line,
                "a stream that converts records needs CompressionFormat UNCOMPRESSED (the serialiser's Compression compresses)",
            );
        }
        match s3.get("BufferingHints").and_then(|h| h.get("SizeInMBs")) {
            None => destination.buffering.size_bytes = DEFAULT_BUFFER_BYTES,
            Some(size) if destination.buffering.size_bytes < LARGE_BUFFER_MIN_BYTES => {
                return fail(
                    size.line,
                    "a stream that converts records needs BufferingHints.SizeInMBs of at least 64",
                );
            }
            Some(_) => {}
        }
        let extension = super::file_extension(s3, super::EXTENDED_SHAPE)?;
        only(
            config,
            "DataFormatConversionConfiguration",
            &[
                "Enabled",
                "InputFormatConfiguration",
                "OutputFormatConfiguration",
                "SchemaConfiguration",
            ],
        )?;
        let section = |key: &str| {
            config.get(key).map_or_else(
                || {
                    fail(
                        config.line,
                        format!("DataFormatConversionConfiguration.{key} is missing"),
                    )
                },
                Ok,
            )
        };
        let deserializer = deserializer(section("InputFormatConfiguration")?)?;
        let serializer = serializer(section("OutputFormatConfiguration")?)?;
        // Error objects keep the destination's extension; data objects get the format's unless it is set.
        let extension = extension.unwrap_or_else(|| serializer.extension().to_owned());
        let schema = section("SchemaConfiguration")?;
        only(
            schema,
            "SchemaConfiguration",
            &[
                "CatalogId",
                "DatabaseName",
                "TableName",
                "Region",
                "RoleARN",
                "VersionId",
            ],
        )?;
        let text = |key: &str| schema.get(key).and_then(Node::scalar);
        let (Some(database), Some(name)) = (text("DatabaseName"), text("TableName")) else {
            return fail(
                schema.line,
                "SchemaConfiguration needs DatabaseName and TableName",
            );
        };
        let region = text("Region").unwrap_or_else(|| REGION.to_owned());
        let version = text("VersionId").unwrap_or_else(|| "LATEST".to_owned());
        let table = self.glue_table(&database, &name, &region, &version)?;
        Ok(ConversionConfig {
            line: config.line,
            deserializer,
            serializer,
            table_name: format!("{database}.{name}"),
            table,
            extension,
            region,
        })
    }

    /// The `AWS::Glue::Table` named `database`.`name`, if the template has it.
    fn glue_table(
        &self,
        database: &str,
        name: &str,
        region: &str,
        version: &str,
    ) -> Result<Option<Table>, EvalError> {
        let resources = self
            .root
            .get("Resources")
            .map(Node::entries)
            .unwrap_or_default();
        for (_, resource) in resources {
            if resource_type(resource) != "AWS::Glue::Table" || !self.context.deployed(resource)? {
                continue;
            }
            let properties = self.resolved(resource.get("Properties"), resource.line)?;
            let input = properties.get("TableInput");
            let text = |node: Option<&Node>| node.and_then(Node::scalar).unwrap_or_default();
            if text(input.and_then(|i| i.get("Name"))) != name
                || text(properties.get("DatabaseName")) != database
            {
                continue;
            }
            let columns = columns(
                input
                    .and_then(|i| i.get("StorageDescriptor"))
                    .and_then(|s| s.get("Columns")),
            )?;
            let partition_keys = columns_or_none(input.and_then(|i| i.get("PartitionKeys")))?;
            let table = Table::new(
                text(properties.get("CatalogId")),
                database.to_owned(),
                name.to_owned(),
                region.to_owned(),
                version.to_owned(),
                columns,
                partition_keys,
            );
            return table
                .map(Some)
                .or_else(|message| fail(resource.line, message));
        }
        Ok(None)
    }
}

fn columns_or_none(node: Option<&Node>) -> Result<Vec<Column>, EvalError> {
    match node {
        Some(node) => columns(Some(node)),
        None => Ok(Vec::new()),
    }
}

/// A Glue `Columns` list: `{ Name, Type }` each.
fn columns(node: Option<&Node>) -> Result<Vec<Column>, EvalError> {
    let Some(Node {
        value: Value::List(items),
        ..
    }) = node
    else {
        let line = node.map_or(1, |n| n.line);
        return fail(
            line,
            "the Glue table needs StorageDescriptor.Columns, a list",
        );
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Node::scalar);
            match (text("Name"), text("Type")) {
                (Some(name), Some(ty)) => {
                    column(&name, &ty).or_else(|message| fail(item.line, message))
                }
                _ => fail(item.line, "a Glue column needs Name and Type"),
            }
        })
        .collect()
}

fn flag(node: &Node, key: &str, default: bool) -> Result<bool, EvalError> {
    match node.get(key) {
        None => Ok(default),
        Some(value) => match value.scalar().as_deref() {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => fail(value.line, format!("{key} must be true or false")),
        },
    }
}

/// The SerDe that `section.key` chooses, by name, among `supported` (none
/// when it names none). `what` names `section`.
fn chosen<'n>(
    (what, section): (&str, &'n Node),
    key: &str,
    supported: &[&'static str],
) -> Result<Option<(&'static str, &'n Node)>, EvalError> {
    let Some(choice) = section.get(key) else {
        return fail(section.line, format!("{what}.{key} is missing"));
    };
    only(choice, key, supported)?;
    let found = supported
        .iter()
        .find_map(|&name| choice.get(name).map(|node| (name, node)));
    if found.is_some() && choice.entries().len() > 1 {
        return fail(choice.line, format!("{key} names more than one SerDe"));
    }
    Ok(found)
}

fn deserializer(input: &Node) -> Result<Deserializer, EvalError> {
    let chosen = chosen(
        ("InputFormatConfiguration", input),
        "Deserializer",
        &["OpenXJsonSerDe", "HiveJsonSerDe"],
    )?;
    match chosen {
        // An empty Deserializer means the default, OpenX.
        None => Ok(Deserializer::default()),
        Some(("HiveJsonSerDe", hive)) => hive_json(hive).map(Deserializer::HiveJson),
        Some((_, openx)) => open_x(openx).map(Deserializer::OpenX),
    }
}

fn hive_json(hive: &Node) -> Result<HiveJson, EvalError> {
    only(hive, "HiveJsonSerDe", &["TimestampFormats"])?;
    let Some(formats) = hive.get("TimestampFormats") else {
        return Ok(HiveJson::default());
    };
    let Value::List(items) = &formats.value else {
        return fail(formats.line, "TimestampFormats must be a list of patterns");
    };
    let timestamp_formats = items
        .iter()
        .map(|item| {
            let pattern = item.scalar().unwrap_or_default();
            TimestampFormat::parse(&pattern).or_else(|message| fail(item.line, message))
        })
        .collect::<Result<_, _>>()?;
    Ok(HiveJson { timestamp_formats })
}

fn open_x(openx: &Node) -> Result<OpenX, EvalError> {
    only(
        openx,
        "OpenXJsonSerDe",
        &[
            "CaseInsensitive",
            "ConvertDotsInJsonKeysToUnderscores",
            "ColumnToJsonKeyMappings",
        ],
    )?;
    let mut mappings = Vec::new();
    for (column, key) in openx
        .get("ColumnToJsonKeyMappings")
        .map(Node::entries)
        .unwrap_or_default()
    {
        let Some(key_text) = key.scalar() else {
            return fail(
                key.line,
                format!("ColumnToJsonKeyMappings.{column} must be a JSON key"),
            );
        };
        if !(1..=1024).contains(&column.len()) || !(1..=1024).contains(&key_text.len()) {
            return fail(
                key.line,
                "ColumnToJsonKeyMappings keys and values are 1 to 1024 characters",
            );
        }
        mappings.push((column.to_ascii_lowercase(), key_text));
    }
    Ok(OpenX {
        case_insensitive: flag(openx, "CaseInsensitive", true)?,
        dots_to_underscores: flag(openx, "ConvertDotsInJsonKeysToUnderscores", false)?,
        mappings,
    })
}

fn serializer(output: &Node) -> Result<Serializer, EvalError> {
    match chosen(
        ("OutputFormatConfiguration", output),
        "Serializer",
        &["ParquetSerDe", "OrcSerDe"],
    )? {
        Some(("OrcSerDe", orc)) => orc_serde(orc).map(Serializer::Orc),
        Some((_, parquet)) => parquet_serde(parquet).map(Serializer::Parquet),
        None => fail(output.line, "Serializer needs ParquetSerDe or OrcSerDe"),
    }
}

/// A whole number setting of at least `min`, else `default`.
fn whole_number(node: &Node, key: &str, default: usize, min: usize) -> Result<usize, EvalError> {
    match node.get(key) {
        None => Ok(default),
        Some(value) => match value.scalar().and_then(|t| t.parse::<usize>().ok()) {
            Some(n) if n >= min => Ok(n),
            _ => fail(
                value.line,
                format!("{key} must be a whole number of at least {min}"),
            ),
        },
    }
}

/// A setting with a few named values (`setting` is its full name, for
/// messages): the value its text names, else `default` when it is not given.
fn one_of<T: Copy>(
    node: &Node,
    setting: &str,
    default: T,
    options: &[(&str, T)],
) -> Result<T, EvalError> {
    let key = setting.rsplit('.').next().unwrap_or(setting);
    let Some(value) = node.get(key) else {
        return Ok(default);
    };
    let text = value.scalar().unwrap_or_default();
    if let Some((_, chosen)) = options.iter().find(|(name, _)| *name == text) {
        return Ok(*chosen);
    }
    let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
    let (last, rest) = names.split_last().unwrap_or((&"", &[]));
    fail(
        value.line,
        format!("{setting} {text}: expected {} or {last}", rest.join(", ")),
    )
}

/// A proportion setting (0 to 1), if given.
fn proportion(node: &Node, key: &str) -> Result<Option<f64>, EvalError> {
    let Some(value) = node.get(key) else {
        return Ok(None);
    };
    match value.scalar().and_then(|t| t.parse::<f64>().ok()) {
        Some(p) if (0.0..=1.0).contains(&p) => Ok(Some(p)),
        _ => fail(value.line, format!("{key} must be a number from 0 to 1")),
    }
}

const MIN_ORC_BLOCK_BYTES: usize = 64 << 20;
const MIN_STRIPE_BYTES: usize = 8 << 20;
const MIN_ROW_INDEX_STRIDE: usize = 1000;

/// `OrcSerDe`: what shapes the file is followed; what shapes only its layout
/// on HDFS (padding, blocks) and bloom filters is checked as AWS
/// checks it and noted, so that a template that works on AWS works here.
fn orc_serde(orc: &Node) -> Result<OrcSettings, EvalError> {
    only(
        orc,
        "OrcSerDe",
        &[
            "BlockSizeBytes",
            "BloomFilterColumns",
            "BloomFilterFalsePositiveProbability",
            "Compression",
            "DictionaryKeyThreshold",
            "EnablePadding",
            "FormatVersion",
            "PaddingTolerance",
            "RowIndexStride",
            "StripeSizeBytes",
        ],
    )?;
    let defaults = OrcSettings::default();
    let compression = one_of(
        orc,
        "OrcSerDe.Compression",
        defaults.compression,
        &[
            ("SNAPPY", OrcCompression::Snappy),
            ("ZLIB", OrcCompression::Zlib),
            ("NONE", OrcCompression::None),
        ],
    )?;
    let format_version = one_of(
        orc,
        "OrcSerDe.FormatVersion",
        defaults.format_version,
        &[
            ("V0_12", FormatVersion::V0_12),
            ("V0_11", FormatVersion::V0_11),
        ],
    )?;
    let mut notes = Vec::new();
    if orc.get("BlockSizeBytes").is_some() {
        whole_number(orc, "BlockSizeBytes", 0, MIN_ORC_BLOCK_BYTES)?;
        notes.push("BlockSizeBytes is the HDFS block size stripes are padded to: S3 objects have no blocks".to_owned());
    }
    let padding = flag(orc, "EnablePadding", false)?;
    let tolerance = proportion(orc, "PaddingTolerance")?;
    if padding || tolerance.is_some() {
        notes.push("EnablePadding and PaddingTolerance pad stripes to HDFS blocks: stripes are written unpadded, which readers read alike".to_owned());
    }
    let bloom_columns = match orc.get("BloomFilterColumns") {
        None => Vec::new(),
        Some(list) => match &list.value {
            Value::List(items) => items
                .iter()
                .map(|i| i.scalar().unwrap_or_default())
                .collect(),
            _ => {
                return fail(
                    list.line,
                    "BloomFilterColumns must be a list of column names",
                );
            }
        },
    };
    let bloom_probability = proportion(orc, "BloomFilterFalsePositiveProbability")?;
    if !bloom_columns.is_empty() || bloom_probability.is_some() {
        notes.push(format!(
            "BloomFilterColumns ({}): no bloom filters are written; readers then read every row group of those columns, finding the same rows",
            bloom_columns.join(", ")
        ));
    }
    Ok(OrcSettings {
        compression,
        stripe_size_bytes: whole_number(
            orc,
            "StripeSizeBytes",
            defaults.stripe_size_bytes,
            MIN_STRIPE_BYTES,
        )?,
        row_index_stride: whole_number(
            orc,
            "RowIndexStride",
            defaults.row_index_stride,
            MIN_ROW_INDEX_STRIDE,
        )?,
        format_version,
        dictionary_key_threshold: proportion(orc, "DictionaryKeyThreshold")?
            .unwrap_or(defaults.dictionary_key_threshold),
        notes,
    })
}

fn parquet_serde(parquet: &Node) -> Result<ParquetSettings, EvalError> {
    only(
        parquet,
        "ParquetSerDe",
        &[
            "BlockSizeBytes",
            "Compression",
            "EnableDictionaryCompression",
            "MaxPaddingBytes",
            "PageSizeBytes",
            "WriterVersion",
        ],
    )?;
    let defaults = ParquetSettings::default();
    let bytes = |key: &str, default: usize, min: usize| whole_number(parquet, key, default, min);
    let compression = one_of(
        parquet,
        "ParquetSerDe.Compression",
        defaults.compression,
        &[
            ("SNAPPY", ParquetCompression::Snappy),
            ("GZIP", ParquetCompression::Gzip),
            ("UNCOMPRESSED", ParquetCompression::Uncompressed),
        ],
    )?;
    let writer_version_2 = one_of(
        parquet,
        "ParquetSerDe.WriterVersion",
        false,
        &[("V1", false), ("V2", true)],
    )?;
    Ok(ParquetSettings {
        compression,
        block_size_bytes: bytes("BlockSizeBytes", defaults.block_size_bytes, MIN_BLOCK_BYTES)?,
        page_size_bytes: bytes("PageSizeBytes", defaults.page_size_bytes, MIN_PAGE_BYTES)?,
        dictionary: flag(parquet, "EnableDictionaryCompression", defaults.dictionary)?,
        writer_version_2,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{DeliveryStream, TemplateError, load};
    use super::*;

    const PARQUET: &str = "{ ParquetSerDe: {} }";

    /// A converting stream with `s3` (indented under the destination) and the given SerDes.
    fn stream(
        s3: &str,
        deserializer: &str,
        serializer: &str,
    ) -> Result<DeliveryStream, TemplateError> {
        let template = format!(
            r#"Resources:
  Table:
    Type: AWS::Glue::Table
    Properties:
      DatabaseName: db
      TableInput:
        Name: t
        StorageDescriptor:
          Columns:
            - {{ Name: id, Type: int }}
  Stream:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      ExtendedS3DestinationConfiguration:
        BucketARN: arn:aws:s3:::b
{s3}
        DataFormatConversionConfiguration:
          Enabled: true
          InputFormatConfiguration:
            Deserializer: {deserializer}
          OutputFormatConfiguration:
            Serializer: {serializer}
          SchemaConfiguration: {{ DatabaseName: db, TableName: t, RoleARN: arn:aws:iam::1:role/r }}
"#
        );
        let path = std::env::temp_dir().join(format!(
            "firehose-local-conversion-{}-{:x}.yaml",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::write(&path, template).unwrap();
        let loaded = load(&path, None, &[]);
        std::fs::remove_file(&path).unwrap();
        loaded
    }

    fn refusal(s3: &str, deserializer: &str) -> String {
        stream(s3, deserializer, PARQUET).unwrap_err().to_string()
    }

    #[test]
    fn partitioning_a_converting_stream_takes_its_128_mib_default_buffer() {
        let partitioned = r#"        Prefix: "p/!{partitionKeyFromQuery:id}/"
        ErrorOutputPrefix: "e/!{firehose:error-output-type}/"
        DynamicPartitioningConfiguration: { Enabled: true }
        ProcessingConfiguration:
          Enabled: true
          Processors:
            - Type: MetadataExtraction
              Parameters:
                - { ParameterName: MetadataExtractionQuery, ParameterValue: "{id: .id}" }
                - { ParameterName: JsonParsingEngine, ParameterValue: JQ-1.6 }"#;
        let stream = stream(partitioned, "{}", PARQUET).unwrap();
        assert_eq!(stream.destination.buffering.size_bytes, 128 << 20);
        assert!(stream.partitioning.is_some());
        assert_eq!(
            stream.conversion.unwrap().deserializer,
            Deserializer::default()
        );
    }

    #[test]
    fn a_converting_stream_needs_a_large_uncompressed_buffer() {
        let small = "        BufferingHints: { SizeInMBs: 5 }";
        assert!(refusal(small, "{}").contains("SizeInMBs of at least 64"));
        let gzip = "        CompressionFormat: GZIP";
        assert!(refusal(gzip, "{}").contains("CompressionFormat UNCOMPRESSED"));
    }

    #[test]
    fn hive_json_serde_takes_its_timestamp_formats() {
        let hive = r#"{ HiveJsonSerDe: { TimestampFormats: ["yyyy-MM-dd'T'HH:mm:ssZ", millis] } }"#;
        let Deserializer::HiveJson(hive) = stream("", hive, PARQUET)
            .unwrap()
            .conversion
            .unwrap()
            .deserializer
        else {
            panic!("not the Hive JSON SerDe");
        };
        assert_eq!(hive.timestamp_formats.len(), 2);
        assert_eq!(hive.timestamp_formats[1], TimestampFormat::Millis);
        assert_eq!(
            hive.timestamp_micros("1486480381000"),
            Some(1_486_480_381_000_000)
        );
    }

    #[test]
    fn a_serde_firehose_local_cannot_follow_is_refused_naming_the_setting() {
        let bad_pattern = r#"{ HiveJsonSerDe: { TimestampFormats: ["yyyy-ww"] } }"#;
        assert!(refusal("", bad_pattern).contains(r#"TimestampFormats "yyyy-ww": "ww""#));
        let not_a_list = r#"{ HiveJsonSerDe: { TimestampFormats: millis } }"#;
        assert!(refusal("", not_a_list).contains("TimestampFormats must be a list"));
        let both = r#"{ HiveJsonSerDe: {}, OpenXJsonSerDe: {} }"#;
        assert!(refusal("", both).contains("Deserializer names more than one SerDe"));
    }

    /// The stream's serialiser, or what refused it.
    fn serializer_of(serializer: &str) -> Result<Serializer, String> {
        stream("", "{}", serializer)
            .map_err(|e| e.to_string())
            .and_then(|s| s.conversion.map(|c| c.serializer).ok_or_else(String::new))
    }

    #[test]
    fn orc_serde_takes_firehose_defaults_and_every_setting() {
        assert_eq!(
            serializer_of("{ OrcSerDe: {} }"),
            Ok(Serializer::Orc(OrcSettings::default()))
        );
        let all = "{ OrcSerDe: { Compression: ZLIB, StripeSizeBytes: 8388608, RowIndexStride: 1000, \
                   FormatVersion: V0_11, BlockSizeBytes: 67108864, EnablePadding: true, PaddingTolerance: 0.2, \
                   BloomFilterColumns: [id, name], BloomFilterFalsePositiveProbability: 0.01, \
                   DictionaryKeyThreshold: 0.5 } }";
        let Ok(Serializer::Orc(settings)) = serializer_of(all) else {
            panic!("{:?}", serializer_of(all));
        };
        assert_eq!(
            (
                settings.compression,
                settings.stripe_size_bytes,
                settings.row_index_stride
            ),
            (OrcCompression::Zlib, 8 << 20, 1000)
        );
        assert_eq!(settings.format_version, FormatVersion::V0_11);
        assert_eq!(settings.dictionary_key_threshold, 0.5);
        assert_eq!(settings.notes.len(), 3, "{:?}", settings.notes);
        assert!(settings.notes[2].contains("BloomFilterColumns (id, name)"));
    }

    #[test]
    fn a_bad_orc_setting_is_named() {
        for (serde, message) in [
            (
                "{ OrcSerDe: { Compression: LZ4 } }",
                "OrcSerDe.Compression LZ4: expected SNAPPY, ZLIB or NONE",
            ),
            (
                "{ OrcSerDe: { FormatVersion: V2 } }",
                "OrcSerDe.FormatVersion V2: expected V0_12 or V0_11",
            ),
            (
                "{ OrcSerDe: { StripeSizeBytes: 1000 } }",
                "StripeSizeBytes must be a whole number of at least 8388608",
            ),
            (
                "{ OrcSerDe: { RowIndexStride: 999 } }",
                "RowIndexStride must be a whole number of at least 1000",
            ),
            (
                "{ OrcSerDe: { BlockSizeBytes: 1 } }",
                "BlockSizeBytes must be a whole number of at least 67108864",
            ),
            (
                "{ OrcSerDe: { PaddingTolerance: 2 } }",
                "PaddingTolerance must be a number from 0 to 1",
            ),
            (
                "{ OrcSerDe: { BloomFilterColumns: id } }",
                "BloomFilterColumns must be a list of column names",
            ),
            ("{ OrcSerDe: { Padding: true } }", "Padding"),
            (
                "{ OrcSerDe: {}, ParquetSerDe: {} }",
                "Serializer names more than one SerDe",
            ),
        ] {
            let refused = serializer_of(serde).unwrap_err();
            assert!(refused.contains(message), "{serde}: {refused}");
        }
    }
}
