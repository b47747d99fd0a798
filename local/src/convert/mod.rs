//! Record format conversion, as Firehose does it after the Lambda: each
//! record's JSON read by the deserialiser into rows of the Glue table's
//! columns, the rows of an object written as Parquet. A record that cannot
//! be read becomes a `format-conversion-failed` error object, on its own.

pub mod hive;
pub mod hive_json;
pub mod json;
pub mod openx;
pub mod parquet_file;
pub mod rows;
pub mod table;

use arrow_schema::SchemaRef;

pub use hive_json::HiveJson;
pub use openx::OpenX;
pub use parquet_file::{ParquetCompression, ParquetSettings};
pub use rows::{Deserializer, Fields, Rows};
pub use table::Table;

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

/// A stream's conversion: the table, how records are read, how rows are written.
#[derive(Debug)]
pub struct Conversion {
    pub table: Table,
    pub schema: SchemaRef,
    pub deserializer: Deserializer,
    pub parquet: ParquetSettings,
    /// The columns as `deserializer` matches keys to them.
    fields: Fields,
}

impl Conversion {
    pub fn new(table: Table, deserializer: Deserializer, parquet: ParquetSettings) -> Self {
        Conversion {
            schema: table.schema(),
            fields: deserializer.fields(&table.columns),
            table,
            deserializer,
            parquet,
        }
    }

    /// The rows of one record, or why the converter refuses it.
    pub fn rows(&self, record: &[u8]) -> Result<Rows, Refused> {
        self.deserializer.rows(record, &self.fields)
    }

    /// An object's rows as a Parquet file.
    pub fn object(&self, rows: &[u8]) -> Result<Vec<u8>, String> {
        parquet_file::write(&self.schema, rows, &self.parquet)
    }
}
