//! Record format conversion, as Firehose does it after the Lambda: each
//! record's JSON read by the deserialiser into rows of the Glue table's
//! columns, the rows of an object written as Parquet or ORC. A record that
//! cannot be read becomes a `format-conversion-failed` error object, on its own.

pub mod arrow_rows;
pub mod hive;
pub mod hive_json;
pub mod json;
pub mod openx;
pub mod orc_file;
pub mod parquet_file;
pub mod read_back;
pub mod rows;
pub mod table;

use arrow_schema::SchemaRef;

pub use hive_json::HiveJson;
pub use openx::OpenX;
pub use orc_file::OrcSettings;
pub use parquet_file::{ParquetCompression, ParquetSettings};
pub use rows::{Deserializer, Fields, Rows};
pub use table::{Table, TableSummary};

/// The codes of `format-conversion-failed` objects, as observed.
pub mod codes {
    /// The record is not JSON objects.
    pub const PARSE_ERROR: &str = "DataFormatConversion.ParseError";
    /// A value does not fit its column's type.
    pub const MALFORMED_DATA: &str = "DataFormatConversion.MalformedData";
}

/// Why the converter refused a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub message: String,
}

/// How an object's rows are written: `OutputFormatConfiguration.Serializer`.
#[derive(Debug, Clone, PartialEq)]
pub enum Serializer {
    Parquet(ParquetSettings),
    Orc(OrcSettings),
}

impl Serializer {
    /// Data objects' extension unless `FileExtension` says otherwise.
    pub fn extension(&self) -> &'static str {
        match self {
            Serializer::Parquet(_) => ".parquet",
            Serializer::Orc(_) => ".orc",
        }
    }

    /// The format's name, as the summary says it.
    pub fn format(&self) -> &'static str {
        match self {
            Serializer::Parquet(_) => "Parquet",
            Serializer::Orc(_) => "ORC",
        }
    }
}

/// A stream's conversion: the table, how records are read, how rows are written.
#[derive(Debug)]
pub struct Conversion {
    pub table: Table,
    pub schema: SchemaRef,
    pub deserializer: Deserializer,
    pub serializer: Serializer,
    /// The columns as `deserializer` matches keys to them.
    fields: Fields,
}

impl Conversion {
    pub fn new(table: Table, deserializer: Deserializer, serializer: Serializer) -> Self {
        Conversion {
            schema: table.schema(),
            fields: deserializer.fields(&table.columns),
            table,
            deserializer,
            serializer,
        }
    }

    /// The rows of one record, or why the converter refuses it.
    pub fn rows(&self, record: &[u8]) -> Result<Rows, Refused> {
        self.deserializer.rows(record, &self.fields)
    }

    /// An object's rows as a Parquet or ORC file.
    pub fn object(&self, rows: &[u8]) -> Result<Vec<u8>, String> {
        match &self.serializer {
            Serializer::Parquet(settings) => parquet_file::write(&self.schema, rows, settings),
            Serializer::Orc(settings) => orc_file::write(&self.table, &self.schema, rows, settings),
        }
    }

    /// The table, the format and what the serialiser does not follow, as the summary shows them.
    pub fn describe(&self) -> TableSummary {
        let notes = match &self.serializer {
            Serializer::Orc(settings) => settings.notes.clone(),
            Serializer::Parquet(_) => Vec::new(),
        };
        self.table.describe(self.serializer.format(), notes)
    }
}
