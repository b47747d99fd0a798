//! Parquet objects: the converter's rows decoded into Arrow batches
//! ([`super::arrow_rows`]) and written by Arrow's Parquet writer, with the
//! template's `ParquetSerDe` settings; and read back as JSON lines.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use super::arrow_rows::decode;

/// `ParquetSerDe`'s settings, with Firehose's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetSettings {
    /// `Compression`: `SNAPPY` (default), `GZIP` or `UNCOMPRESSED`.
    pub compression: ParquetCompression,
    /// `BlockSizeBytes`: the row group size (default 256 MiB, at least 64 MiB).
    pub block_size_bytes: usize,
    /// `PageSizeBytes` (default 1 MiB, at least 64 KiB).
    pub page_size_bytes: usize,
    /// `EnableDictionaryCompression` (default false).
    pub dictionary: bool,
    /// `WriterVersion`: `V1` (default) or `V2`.
    pub writer_version_2: bool,
}

/// A Parquet codec `ParquetSerDe` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    Snappy,
    Gzip,
    Uncompressed,
}

impl Default for ParquetSettings {
    fn default() -> Self {
        ParquetSettings {
            compression: ParquetCompression::Snappy,
            block_size_bytes: 256 << 20,
            page_size_bytes: 1 << 20,
            dictionary: false,
            writer_version_2: false,
        }
    }
}

impl ParquetSettings {
    fn properties(&self) -> WriterProperties {
        let compression = match self.compression {
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
        };
        let version = if self.writer_version_2 {
            WriterVersion::PARQUET_2_0
        } else {
            WriterVersion::PARQUET_1_0
        };
        WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_bytes(Some(self.block_size_bytes))
            .set_data_page_size_limit(self.page_size_bytes)
            .set_dictionary_enabled(self.dictionary)
            .set_writer_version(version)
            .set_created_by("firehose-local (Firehose record format conversion)".to_owned())
            .build()
    }
}

/// Rows (one JSON object a line, as [`super::Deserializer::rows`] makes them) as a Parquet file.
pub fn write(
    schema: &SchemaRef,
    rows: &[u8],
    settings: &ParquetSettings,
) -> Result<Vec<u8>, String> {
    let why = |e: &dyn std::fmt::Display| format!("writing Parquet: {e}");
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(settings.properties()))
        .map_err(|e| why(&e))?;
    decode(schema, rows, |batch| {
        writer.write(&batch).map_err(|e| why(&e))
    })?;
    writer.close().map_err(|e| why(&e))?;
    Ok(out)
}

/// A Parquet file's rows as JSON lines, and its schema, as a reader sees them.
pub fn read_back(bytes: &[u8]) -> Result<(SchemaRef, Vec<u8>), String> {
    let why =
        |e: &dyn std::fmt::Display| format!("not a Parquet file firehose-local can read: {e}");
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| why(&e))?
        .build()
        .map_err(|e| why(&e))?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .map(|batch| batch.and_then(with_text_keys))
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| why(&e))?;
    let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    writer.write_batches(&refs).map_err(|e| why(&e))?;
    writer.finish().map_err(|e| why(&e))?;
    Ok((schema, writer.into_inner()))
}

/// The batch with the keys of every map as text: Arrow's JSON writer writes
/// only those, and Hive's maps may have keys of any primitive type
/// (`map<int,string>`), which JSON holds as text anyway.
fn with_text_keys(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let ty = text_keys(field.data_type());
        columns.push(match &ty == column.data_type() {
            true => column.clone(),
            false => arrow_cast::cast(column, &ty)?,
        });
        fields.push(field.as_ref().clone().with_data_type(ty));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// `ty` with the keys of every map in it, at any depth, as `Utf8`.
fn text_keys(ty: &DataType) -> DataType {
    let retyped = |field: &Field, ty: DataType| Arc::new(field.clone().with_data_type(ty));
    match ty {
        DataType::Map(entries, sorted) => {
            let DataType::Struct(pair) = entries.data_type() else {
                return ty.clone();
            };
            let pair = pair
                .iter()
                .enumerate()
                .map(|(i, f)| match i {
                    0 => retyped(f, DataType::Utf8),
                    _ => retyped(f, text_keys(f.data_type())),
                })
                .collect();
            DataType::Map(retyped(entries, DataType::Struct(pair)), *sorted)
        }
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| retyped(f, text_keys(f.data_type())))
                .collect(),
        ),
        DataType::List(item) => DataType::List(retyped(item, text_keys(item.data_type()))),
        other => other.clone(),
    }
}

/// Adds `path` to `found` if it is a file (or `-`); if a folder, every Parquet
/// object under it, in name order (other objects, such as error objects, are
/// passed over), and an error if there is none.
pub fn find(path: &std::path::Path, found: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        found.push(path.to_owned());
        return Ok(());
    }
    let mut files = Vec::new();
    crate::sink::store::files_under(path, &mut files)?;
    let before = found.len();
    for file in files {
        if is_parquet(&file)? {
            found.push(file);
        }
    }
    if found.len() == before {
        return Err(std::io::Error::other("no Parquet object under it"));
    }
    Ok(())
}

/// A Parquet file begins with `PAR1`.
fn is_parquet(path: &std::path::Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    Ok(std::io::Read::read_exact(&mut file, &mut magic).is_ok() && &magic == b"PAR1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::Deserializer;
    use crate::convert::table::{Table, column};

    fn table(spec: &[(&str, &str)]) -> Table {
        let columns = spec.iter().map(|(n, t)| column(n, t).unwrap()).collect();
        let text = |s: &str| s.to_owned();
        Table::new(
            text("1"),
            text("db"),
            text("t"),
            text("us-east-1"),
            text("0"),
            columns,
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn rows_of_every_type_come_back_from_parquet_as_they_went_in() {
        let table = table(&[
            ("s", "string"),
            ("b", "boolean"),
            ("t", "tinyint"),
            ("sm", "smallint"),
            ("i", "int"),
            ("h", "bigint"),
            ("f", "float"),
            ("d", "double"),
            ("dec", "decimal(10,2)"),
            ("day", "date"),
            ("ts", "timestamp"),
            ("bin", "binary"),
            ("arr", "array<string>"),
            ("m", "map<string,int>"),
            ("st", "struct<x:int,inner:struct<y:string>>"),
        ]);
        let record = r#"{"s":"é","b":true,"t":1,"sm":2,"i":3,"h":9007199254740993,"f":1.5,"d":0.1,
            "dec":"12.345","day":"2024-02-29","ts":"2017-02-07 15:13:01.5","bin":"hi",
            "arr":["a",null],"m":{"k":1},"st":{"x":1,"inner":{"y":"z"}}}
            {"s":null}"#;
        let deserializer = Deserializer::default();
        let rows = deserializer
            .rows(record.as_bytes(), &deserializer.fields(&table.columns))
            .unwrap();
        for settings in [
            ParquetSettings::default(),
            ParquetSettings {
                compression: ParquetCompression::Gzip,
                dictionary: true,
                writer_version_2: true,
                ..ParquetSettings::default()
            },
            ParquetSettings {
                compression: ParquetCompression::Uncompressed,
                ..ParquetSettings::default()
            },
        ] {
            let file = write(&table.schema(), &rows.lines, &settings).unwrap();
            assert_eq!(&file[..4], b"PAR1");
            let (schema, lines) = read_back(&file).unwrap();
            assert_eq!(schema.fields().len(), 15);
            let lines = String::from_utf8(lines).unwrap();
            let mut lines = lines.lines();
            assert_eq!(
                lines.next().unwrap(),
                r#"{"s":"é","b":true,"t":1,"sm":2,"i":3,"h":9007199254740993,"f":1.5,"d":0.1,"dec":12.35,"day":"2024-02-29","ts":"2017-02-07T15:13:01.500","bin":"6869","arr":["a",null],"m":{"k":1},"st":{"x":1,"inner":{"y":"z"}}}"#
            );
            assert_eq!(lines.next().unwrap(), "{}");
        }
    }

    /// Found by the fuzz target `local_inputs`: Arrow's JSON writer refused a
    /// whole file over a map whose keys are not text.
    #[test]
    fn maps_with_keys_of_any_type_read_back_with_text_keys() {
        let table = table(&[
            ("m", "map<int,string>"),
            ("st", "struct<a:array<map<decimal(4,1),map<date,int>>>>"),
        ]);
        let record = r#"{"m":{"1":"a","-2":"b"},"st":{"a":[{"1.5":{"2024-02-29":7}}]}} {"m":null}"#;
        let deserializer = Deserializer::default();
        let rows = deserializer
            .rows(record.as_bytes(), &deserializer.fields(&table.columns))
            .unwrap();
        let file = write(&table.schema(), &rows.lines, &ParquetSettings::default()).unwrap();
        let (schema, lines) = read_back(&file).unwrap();
        assert_eq!(schema, table.schema(), "the file's own types are reported");
        assert_eq!(
            String::from_utf8(lines).unwrap(),
            "{\"m\":{\"1\":\"a\",\"-2\":\"b\"},\"st\":{\"a\":[{\"1.5\":{\"2024-02-29\":7}}]}}\n{}\n"
        );
    }

    #[test]
    fn what_is_not_parquet_is_refused_by_the_reader() {
        assert!(
            read_back(b"{\"a\":1}")
                .unwrap_err()
                .contains("not a Parquet file")
        );
    }
}
