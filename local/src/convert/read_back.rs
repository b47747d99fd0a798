//! Converted objects read back, for `firehose-local cat`: found under
//! folders by their first bytes, and their rows printed as JSON lines, as a
//! query engine reads them.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::{orc_file, parquet_file};

/// An object's rows as JSON lines and its schema, if it is a Parquet or ORC
/// file (by its first bytes); `None` for any other object.
pub fn rows(bytes: &[u8]) -> Option<Result<(SchemaRef, Vec<u8>), String>> {
    let read = if bytes.starts_with(PARQUET_MAGIC) {
        parquet_file::read(bytes)
    } else if bytes.starts_with(ORC_MAGIC) {
        orc_file::read(bytes)
    } else {
        return None;
    };
    Some(read.and_then(|(schema, batches)| Ok((schema, json_lines(batches)?))))
}

const PARQUET_MAGIC: &[u8] = b"PAR1";
const ORC_MAGIC: &[u8] = b"ORC";

/// Adds `path` to `found` if it is a file (or `-`); if a folder, every
/// Parquet or ORC object under it, in name order (other objects, such as
/// error objects, are passed over), and an error if there is none.
pub fn find(path: &std::path::Path, found: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        found.push(path.to_owned());
        return Ok(());
    }
    let mut files = Vec::new();
    crate::sink::store::files_under(path, &mut files)?;
    let before = found.len();
    for file in files {
        if is_converted(&file)? {
            found.push(file);
        }
    }
    if found.len() == before {
        return Err(std::io::Error::other("no Parquet or ORC object under it"));
    }
    Ok(())
}

/// A Parquet file begins with `PAR1`, an ORC file with `ORC`.
fn is_converted(path: &std::path::Path) -> std::io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    let read = std::io::Read::read(&mut file, &mut magic)?;
    Ok(magic[..read].starts_with(PARQUET_MAGIC) || magic[..read].starts_with(ORC_MAGIC))
}

/// Batches as JSON lines, through Arrow's JSON writer.
fn json_lines(batches: Vec<RecordBatch>) -> Result<Vec<u8>, String> {
    let why = |e: ArrowError| format!("printing rows: {e}");
    let batches = batches
        .into_iter()
        .map(with_text_keys)
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(why)?;
    let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    writer.write_batches(&refs).map_err(why)?;
    writer.finish().map_err(why)?;
    Ok(writer.into_inner())
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

#[cfg(test)]
mod tests {
    use firehose_orc::{Compression, FormatVersion};

    use crate::convert::table::{Table, column};
    use crate::convert::{
        Deserializer, OrcSettings, ParquetCompression, ParquetSettings, orc_file, parquet_file,
    };

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

    /// The records' rows as Parquet and as ORC files, under several settings
    /// of each.
    fn every_format(table: &Table, records: &str) -> Vec<Vec<u8>> {
        let deserializer = Deserializer::default();
        let rows = deserializer
            .rows(records.as_bytes(), &deserializer.fields(&table.columns))
            .unwrap();
        let rows = &rows.lines[..];
        let schema = table.schema();
        let parquet = [
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
        ]
        .map(|settings| parquet_file::write(&schema, rows, &settings).unwrap());
        let orc = [
            OrcSettings::default(),
            OrcSettings {
                compression: Compression::Zlib,
                format_version: FormatVersion::V0_11,
                dictionary_key_threshold: 1.0,
                ..OrcSettings::default()
            },
            OrcSettings {
                compression: Compression::None,
                dictionary_key_threshold: 0.0,
                ..OrcSettings::default()
            },
        ]
        .map(|settings| orc_file::write(table, &schema, rows, &settings).unwrap());
        parquet.into_iter().chain(orc).collect()
    }

    #[test]
    fn rows_of_every_type_come_back_from_parquet_and_orc_as_they_went_in() {
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
        for file in every_format(&table, record) {
            let (schema, lines) = super::rows(&file).unwrap().unwrap();
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
        for file in every_format(&table, record) {
            let (schema, lines) = super::rows(&file).unwrap().unwrap();
            assert_eq!(schema, table.schema(), "the file's own types are reported");
            assert_eq!(
                String::from_utf8(lines).unwrap(),
                "{\"m\":{\"1\":\"a\",\"-2\":\"b\"},\"st\":{\"a\":[{\"1.5\":{\"2024-02-29\":7}}]}}\n{}\n"
            );
        }
    }
}
