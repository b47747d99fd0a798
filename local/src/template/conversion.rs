//! `DataFormatConversionConfiguration`: the deserialiser, the serialiser and
//! the Glue table the schema comes from, found among the template's own
//! resources when it declares it.

use super::intrinsics::{EvalError, REGION, resource_type};
use super::yaml::{Node, Value};
use super::{Reader, fail, only};
use crate::convert::table::{Column, Table, column};
use crate::convert::{OpenX, ParquetCompression, ParquetSettings};

/// A stream's conversion as the template describes it.
#[derive(Debug)]
pub struct ConversionConfig {
    /// The line of `DataFormatConversionConfiguration`.
    pub line: usize,
    pub deserializer: OpenX,
    pub parquet: ParquetSettings,
    /// `SchemaConfiguration`'s `DatabaseName`.`TableName`.
    pub table_name: String,
    /// The table, when the template declares it (`--schema` replaces it).
    pub table: Option<Table>,
    /// The data objects' extension: `FileExtension`, else `.parquet`.
    pub extension: String,
    /// `SchemaConfiguration.Region`.
    pub region: String,
}

const MIN_BLOCK_BYTES: usize = 64 << 20;
const MIN_PAGE_BYTES: usize = 64 << 10;

impl Reader<'_> {
    pub(super) fn conversion(&self, config: &Node) -> Result<ConversionConfig, EvalError> {
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
        let parquet = serializer(section("OutputFormatConfiguration")?)?;
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
            parquet,
            table_name: format!("{database}.{name}"),
            table,
            extension: ".parquet".to_owned(),
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

fn deserializer(input: &Node) -> Result<OpenX, EvalError> {
    let Some(chosen) = input.get("Deserializer") else {
        return fail(
            input.line,
            "InputFormatConfiguration.Deserializer is missing",
        );
    };
    only(chosen, "Deserializer", &["OpenXJsonSerDe", "HiveJsonSerDe"])?;
    if let Some(hive) = chosen.get("HiveJsonSerDe") {
        return fail(
            hive.line,
            "HiveJsonSerDe is not supported by firehose-local yet (OpenXJsonSerDe is)",
        );
    }
    let Some(openx) = chosen.get("OpenXJsonSerDe") else {
        // An empty Deserializer means the default, OpenX.
        return Ok(OpenX::default());
    };
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

fn serializer(output: &Node) -> Result<ParquetSettings, EvalError> {
    let Some(chosen) = output.get("Serializer") else {
        return fail(
            output.line,
            "OutputFormatConfiguration.Serializer is missing",
        );
    };
    only(chosen, "Serializer", &["ParquetSerDe", "OrcSerDe"])?;
    if let Some(orc) = chosen.get("OrcSerDe") {
        return fail(
            orc.line,
            "OrcSerDe is not supported by firehose-local yet (ParquetSerDe is)",
        );
    }
    let Some(parquet) = chosen.get("ParquetSerDe") else {
        return fail(chosen.line, "Serializer needs ParquetSerDe");
    };
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
    let bytes = |key: &str, default: usize, min: usize| match parquet.get(key) {
        None => Ok(default),
        Some(node) => match node.scalar().and_then(|t| t.parse::<usize>().ok()) {
            Some(n) if n >= min => Ok(n),
            _ => fail(
                node.line,
                format!("{key} must be a whole number of at least {min}"),
            ),
        },
    };
    let choice = |key: &str| {
        parquet
            .get(key)
            .map(|n| (n.line, n.scalar().unwrap_or_default()))
    };
    let compression = match choice("Compression") {
        None => defaults.compression,
        Some((_, c)) if c == "SNAPPY" => ParquetCompression::Snappy,
        Some((_, c)) if c == "GZIP" => ParquetCompression::Gzip,
        Some((_, c)) if c == "UNCOMPRESSED" => ParquetCompression::Uncompressed,
        Some((line, c)) => {
            return fail(
                line,
                format!("ParquetSerDe.Compression {c}: expected SNAPPY, GZIP or UNCOMPRESSED"),
            );
        }
    };
    let writer_version_2 = match choice("WriterVersion") {
        None => false,
        Some((_, v)) if v == "V1" => false,
        Some((_, v)) if v == "V2" => true,
        Some((line, v)) => {
            return fail(
                line,
                format!("ParquetSerDe.WriterVersion {v}: expected V1 or V2"),
            );
        }
    };
    Ok(ParquetSettings {
        compression,
        block_size_bytes: bytes("BlockSizeBytes", defaults.block_size_bytes, MIN_BLOCK_BYTES)?,
        page_size_bytes: bytes("PageSizeBytes", defaults.page_size_bytes, MIN_PAGE_BYTES)?,
        dictionary: flag(parquet, "EnableDictionaryCompression", defaults.dictionary)?,
        writer_version_2,
    })
}
