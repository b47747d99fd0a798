//! firehose-orc's files, read by Apache ORC's C++ library (through pyarrow and
//! pyorc), a reader no one here wrote: every Hive type with nulls at every
//! level, each codec and format version, several stripes and chunks, and
//! statistics that hold for the rows under them. Each file is also read by
//! firehose-orc's own reader, as `firehose-local cat` prints it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use fastrand::Rng;
use firehose_e2e::{golden, repo};
use firehose_local::convert::hive::HiveType;
use firehose_local::convert::read_back;
use firehose_orc::{Compression, FormatVersion, Options, OrcType, Writer};

use crate::run::{firehose_local, landed};

/// Every Hive type a Glue table may give a column, nested ones included.
const EVERY_TYPE: &[(&str, &str)] = &[
    ("flag", "boolean"),
    ("tiny", "tinyint"),
    ("small", "smallint"),
    ("num", "int"),
    ("big", "bigint"),
    ("real", "float"),
    ("dbl", "double"),
    ("price", "decimal(10,2)"),
    ("wide", "decimal(38,6)"),
    ("name", "string"),
    ("code", "varchar(5)"),
    ("kind", "char(3)"),
    ("raw", "binary"),
    ("day", "date"),
    ("at", "timestamp"),
    ("tags", "array<string>"),
    ("scores", "map<string,int>"),
    (
        "address",
        "struct<street:string,zip:int,geo:struct<lat:double,lon:double>>",
    ),
    (
        "nested",
        "array<map<string,array<struct<k:string,v:bigint>>>>",
    ),
];

/// The columns as firehose-local reads a Glue table's: Hive types, and the
/// Arrow schema arrow-json decodes rows into.
fn columns(columns: &[(&str, &str)]) -> (Vec<(String, OrcType)>, Arc<Schema>) {
    let types: Vec<(String, HiveType)> = columns
        .iter()
        .map(|(name, ty)| (name.to_string(), HiveType::parse(ty).unwrap()))
        .collect();
    let fields: Vec<Field> = types
        .iter()
        .map(|(name, ty)| Field::new(name, ty.data_type(), true))
        .collect();
    let orc = types
        .iter()
        .map(|(name, ty)| (name.clone(), ty.orc_type()))
        .collect();
    (orc, Arc::new(Schema::new(fields)))
}

/// JSON lines decoded by arrow-json, as firehose-local decodes rows.
fn batch(schema: &Arc<Schema>, lines: &str) -> RecordBatch {
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(1 << 20)
        .build_decoder()
        .unwrap();
    decoder.decode(lines.as_bytes()).unwrap();
    decoder.flush().unwrap().unwrap()
}

/// The batches as an ORC file, checked to read back through firehose-orc's
/// own reader (as `firehose-local cat` prints it) as the same rows.
fn orc(schema: &[(String, OrcType)], batches: &[RecordBatch], options: Options) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new(), schema.to_vec(), options.clone()).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    let file = writer.finish().unwrap();
    let fitted: Vec<RecordBatch> = batches.iter().map(|b| fitted(b, schema)).collect();
    let (_, expected) = read_back::rows(&parquet(&fitted)).unwrap().unwrap();
    let (_, read) = read_back::rows(&file)
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{options:?}"));
    let (expected, read) = (
        String::from_utf8(expected).unwrap(),
        String::from_utf8(read).unwrap(),
    );
    assert!(
        expected == read,
        "{options:?}\nwritten {expected}\nread    {read}"
    );
    file
}

/// The batch with its top-level `char(n)` and `varchar(n)` values as ORC
/// stores them: cut to n characters, chars padded with spaces.
fn fitted(batch: &RecordBatch, schema: &[(String, OrcType)]) -> RecordBatch {
    let columns = batch
        .columns()
        .iter()
        .zip(schema)
        .map(|(column, (_, ty))| {
            let fit = |value: &str, n: u32, pad: bool| {
                let cut: String = value.chars().take(n as usize).collect();
                let padding = if pad {
                    n as usize - cut.chars().count()
                } else {
                    0
                };
                cut + &" ".repeat(padding)
            };
            let strings = || column.as_string::<i32>().iter();
            match ty {
                OrcType::Char(n) => Arc::new(
                    strings()
                        .map(|v| v.map(|v| fit(v, *n, true)))
                        .collect::<StringArray>(),
                ) as ArrayRef,
                OrcType::Varchar(n) => Arc::new(
                    strings()
                        .map(|v| v.map(|v| fit(v, *n, false)))
                        .collect::<StringArray>(),
                ),
                _ => column.clone(),
            }
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns).unwrap()
}

fn parquet(batches: &[RecordBatch]) -> Vec<u8> {
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(Vec::new(), batches[0].schema(), None).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.into_inner().unwrap()
}

/// One set of rows: as Parquet, and as ORC files by name.
struct Case {
    parquet: Vec<u8>,
    orc: Vec<(String, Vec<u8>)>,
}

/// Runs read_orc.py (one process) over the cases, written into `dir`: what
/// it prints, or its complaint.
fn read_back(dir: &Path, cases: &[Case]) -> String {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run the README's set-up command",
        python.display()
    );
    std::fs::create_dir_all(dir).unwrap();
    let mut command = Command::new(&python);
    command.arg(repo().join("tests/fixtures/orc/read_orc.py"));
    for (index, case) in cases.iter().enumerate() {
        if index > 0 {
            command.arg("+");
        }
        let expected = dir.join(format!("{index}-expected.parquet"));
        std::fs::write(&expected, &case.parquet).unwrap();
        command.arg(&expected);
        for (name, bytes) in &case.orc {
            let path = dir.join(format!("{index}-{name}"));
            std::fs::write(&path, bytes).unwrap();
            command.arg(path);
        }
    }
    let read = command.output().unwrap();
    assert!(
        read.status.success(),
        "ORC files differ from their rows: {}\n{}",
        String::from_utf8_lossy(&read.stderr),
        String::from_utf8_lossy(&read.stdout)
    );
    String::from_utf8(read.stdout).unwrap()
}

fn out_dir(name: &str) -> PathBuf {
    let dir = repo().join("target/orc-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every codec with each format version; strings never through a
/// dictionary without compression, always with ZLIB, by Java's threshold
/// with SNAPPY.
fn every_codec_and_version() -> Vec<(String, Options)> {
    let mut all = Vec::new();
    for (codec, compression, dictionary_key_threshold) in [
        ("none", Compression::None, 0.0),
        ("zlib", Compression::Zlib, 1.0),
        ("snappy", Compression::Snappy, 0.8),
    ] {
        for (version, format_version) in [
            ("0.12", FormatVersion::V0_12),
            ("0.11", FormatVersion::V0_11),
        ] {
            all.push((
                format!("{codec}-{version}.orc"),
                Options {
                    compression,
                    format_version,
                    dictionary_key_threshold,
                    ..Options::default()
                },
            ));
        }
    }
    all
}

#[test]
fn every_type_and_null_pattern_reads_back_as_written() {
    let (schema, arrow) = columns(EVERY_TYPE);
    let rows =
        std::fs::read_to_string(repo().join("tests/fixtures/orc/every_type.ndjson")).unwrap();
    let batch = batch(&arrow, &rows);
    let files: Vec<(String, Vec<u8>)> = every_codec_and_version()
        .into_iter()
        .map(|(name, options)| (name, orc(&schema, std::slice::from_ref(&batch), options)))
        .collect();
    let case = Case {
        parquet: parquet(&[batch]),
        orc: files,
    };
    let seen = read_back(&out_dir("every-type"), &[case]);
    golden("tests/golden/orc/every_type.txt", &seen);
}

/// Rows in the thousands: several stripes (64 KiB), row groups of 1,000 rows,
/// 1 KiB compression chunks, and every run shape the integer encodings
/// choose between.
#[test]
fn many_rows_span_stripes_and_chunks_and_read_back_as_written() {
    let (schema, arrow) = columns(&[
        ("id", "bigint"),
        ("bucket", "int"),
        ("noise", "bigint"),
        ("flag", "boolean"),
        ("level", "tinyint"),
        ("name", "string"),
        ("label", "string"),
        ("at", "timestamp"),
        ("day", "date"),
        ("dbl", "double"),
        ("price", "decimal(12,3)"),
        ("tags", "array<int>"),
        ("attrs", "map<string,string>"),
        ("geo", "struct<lat:double,city:string>"),
    ]);
    let mut random = fastrand::Rng::with_seed(7);
    let mut lines = String::new();
    for row in 0..30_000i64 {
        // About one value in thirteen is null.
        let maybe = |null: u8, value: String| {
            if null < 20 { "null".to_owned() } else { value }
        };
        let noise = match row / 1000 % 3 {
            0 => random.i64(..),
            1 => random.i64(-100..100),
            _ => row * 3,
        };
        let tags: Vec<String> = (0..random.usize(0..4))
            .map(|i| (row + i as i64).to_string())
            .collect();
        let at = 1_700_000_000_000_000 + row * 1_000_123 + random.i64(0..999);
        let fields = [
            format!("\"id\":{row}"),
            format!("\"bucket\":{}", row / 700),
            format!("\"noise\":{noise}"),
            format!(
                "\"flag\":{}",
                maybe(random.u8(..), random.bool().to_string())
            ),
            format!(
                "\"level\":{}",
                maybe(random.u8(..), (row / 50 % 7).to_string())
            ),
            format!(
                "\"name\":{}",
                maybe(random.u8(..), format!("\"user-{}\"", random.u8(..20)))
            ),
            // Three values for 5,000 rows, then distinct ones: stripes by
            // dictionary and stripes direct in one file.
            if row / 5000 % 2 == 0 {
                format!("\"label\":\"l{}\"", row % 3)
            } else {
                format!("\"label\":\"u{row}\"")
            },
            format!("\"at\":{at}"),
            format!("\"day\":{}", 19_000 + row / 2000),
            format!("\"dbl\":{}", random.f64() * 1e6 - 5e5),
            format!(
                "\"price\":\"{}.{:03}\"",
                random.i32(-999_999..999_999),
                random.u16(..1000)
            ),
            format!(
                "\"tags\":{}",
                maybe(random.u8(..), format!("[{}]", tags.join(",")))
            ),
            format!(
                "\"attrs\":{}",
                maybe(
                    random.u8(..),
                    format!("{{\"k{}\":\"v\",\"z\":null}}", row % 5)
                )
            ),
            format!(
                "\"geo\":{}",
                maybe(
                    random.u8(..),
                    format!("{{\"lat\":{},\"city\":null}}", row % 90)
                )
            ),
        ];
        lines.push_str(&format!("{{{}}}\n", fields.join(",")));
    }
    let whole = batch(&arrow, &lines);
    // Batches of uneven sizes, as objects' rows arrive.
    let batches = [
        whole.slice(0, 1),
        whole.slice(1, 12_345),
        whole.slice(12_346, 17_654),
    ];
    let files: Vec<(String, Vec<u8>)> = every_codec_and_version()
        .into_iter()
        .map(|(name, options)| {
            let options = Options {
                stripe_size: 64 << 10,
                compression_block_size: 1 << 10,
                row_index_stride: 1000,
                ..options
            };
            (name, orc(&schema, &batches, options))
        })
        .collect();
    let case = Case {
        parquet: parquet(&batches),
        orc: files,
    };
    let seen = read_back(&out_dir("many-rows"), &[case]);
    let stripes = seen.lines().next().unwrap();
    assert!(stripes.contains("30000 rows"), "{stripes}");
    let count: usize = stripes
        .split(", ")
        .find_map(|p| p.strip_suffix(" stripe(s)")?.parse().ok())
        .unwrap();
    assert!(count > 3, "{stripes}");
}

/// Random tables (nested types to depth 3, nulls anywhere, 0 to 60 rows in
/// 2 batches, any codec and version, a stripe per batch or one in all, row
/// groups of 1 to 10,000 rows or none):
/// pyarrow reads back what was written, and the statistics hold. CHAR and
/// VARCHAR are top-level columns only: the comparison fits values to their
/// length at the top level.
#[test]
fn random_tables_read_back_as_written() {
    const CASES: u64 = 60;
    let cases: Vec<Case> = (0..CASES)
        .map(|seed| {
            let mut random = Rng::with_seed(seed);
            let types: Vec<(String, String)> = (0..random.usize(1..5))
                .map(|i| (format!("c{i}"), random_type(&mut random, 0)))
                .collect();
            let named: Vec<(&str, &str)> = types
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            let (schema, arrow) = columns(&named);
            let hive: Vec<HiveType> = types
                .iter()
                .map(|(_, t)| HiveType::parse(t).unwrap())
                .collect();
            let lines: String = (0..random.usize(0..61))
                .map(|_| {
                    let fields: Vec<String> = types
                        .iter()
                        .zip(&hive)
                        .map(|((name, _), ty)| {
                            format!("\"{name}\":{}", random_value(&mut random, ty))
                        })
                        .collect();
                    format!("{{{}}}\n", fields.join(","))
                })
                .collect();
            let whole = if lines.is_empty() {
                RecordBatch::new_empty(arrow.clone())
            } else {
                batch(&arrow, &lines)
            };
            let cut = random.usize(..=whole.num_rows());
            let batches = [
                whole.slice(0, cut),
                whole.slice(cut, whole.num_rows() - cut),
            ];
            let (name, options) = random.choice(every_codec_and_version()).unwrap();
            let options = Options {
                stripe_size: if random.bool() { 1 } else { 64 << 20 },
                compression_block_size: random.usize(1..300),
                row_index_stride: random.choice([0, 1, 3, 7, 10_000]).unwrap(),
                dictionary_key_threshold: random.choice([0.0, 0.5, 1.0]).unwrap(),
                ..options
            };
            Case {
                parquet: parquet(&batches),
                orc: vec![(name, orc(&schema, &batches, options))],
            }
        })
        .collect();
    read_back(&out_dir("random"), &cases);
}

/// Files of Apache ORC's C++ writer (through pyarrow) under each codec and
/// version, with and without dictionaries: firehose-orc's reader reads the
/// rows pyarrow wrote, PATCHED_BASE runs among them (a few wide values in
/// narrow ones, above a positive and a negative base).
#[test]
fn another_writers_files_read_back_through_our_reader() {
    let (_, arrow) = columns(&[
        ("id", "bigint"),
        ("spiky", "bigint"),
        ("dips", "int"),
        ("small", "smallint"),
        ("tiny", "tinyint"),
        ("flag", "boolean"),
        ("name", "string"),
        ("raw", "binary"),
        ("real", "float"),
        ("dbl", "double"),
        ("price", "decimal(12,3)"),
        ("day", "date"),
        ("at", "timestamp"),
        ("tags", "array<int>"),
        ("attrs", "map<string,bigint>"),
        ("geo", "struct<lat:double,city:string>"),
    ]);
    let mut random = Rng::with_seed(11);
    let lines: String = (0..20_000i64)
        .map(|row| {
            let maybe = |random: &mut Rng, value: String| {
                if random.u8(..16) == 0 {
                    "null".to_owned()
                } else {
                    value
                }
            };
            let spiky = if row % 37 == 0 { 1 << 40 } else { row % 100 };
            let dips = if row % 41 == 0 {
                2_000_000_000
            } else {
                row % 50 - 1000
            };
            let fields = [
                format!("\"id\":{row}"),
                format!("\"spiky\":{spiky}"),
                format!("\"dips\":{dips}"),
                format!(
                    "\"small\":{}",
                    maybe(&mut random, (row % 3000 - 1500).to_string())
                ),
                format!("\"tiny\":{}", random.i8(..)),
                format!(
                    "\"flag\":{}",
                    maybe(&mut random, (row % 3 == 0).to_string())
                ),
                format!(
                    "\"name\":{}",
                    maybe(&mut random, format!("\"user-{}\"", row % 17))
                ),
                format!("\"raw\":\"b{}\"", row % 5),
                format!("\"real\":{}", row as f32 / 8.0),
                format!("\"dbl\":{}", random.f64() * 1e9 - 5e8),
                format!(
                    "\"price\":\"{}.{:03}\"",
                    random.i32(-99_999..99_999),
                    row % 1000
                ),
                format!("\"day\":{}", 18_000 + row / 100),
                format!("\"at\":{}", 1_600_000_000_000_000 + row * 1_000_001),
                format!(
                    "\"tags\":{}",
                    maybe(&mut random, format!("[{row},{}]", row % 7))
                ),
                format!("\"attrs\":{{\"k{}\":{row}}}", row % 4),
                format!(
                    "\"geo\":{}",
                    maybe(
                        &mut random,
                        format!("{{\"lat\":{},\"city\":\"c{}\"}}", row % 90, row % 9)
                    )
                ),
            ];
            format!("{{{}}}\n", fields.join(","))
        })
        .collect();
    let rows = parquet(&[batch(&arrow, &lines)]);
    let (_, expected) = read_back::rows(&rows).unwrap().unwrap();
    let dir = out_dir("another-writer");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rows.parquet"), &rows).unwrap();
    let written = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/fixtures/orc/write_orc.py"))
        .args([dir.join("rows.parquet"), dir.clone()])
        .output()
        .unwrap();
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let names = String::from_utf8(written.stdout).unwrap();
    assert_eq!(names.lines().count(), 12, "{names}");
    for name in names.lines() {
        let file = std::fs::read(name).unwrap();
        let (_, read) = read_back::rows(&file)
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(read == expected, "{name} reads differently");
    }
}

/// A Hive type: a primitive, or (above depth 3) sometimes an array, a map
/// with string keys, or a struct of them.
fn random_type(random: &mut Rng, depth: usize) -> String {
    let primitives = [
        "boolean",
        "tinyint",
        "smallint",
        "int",
        "bigint",
        "float",
        "double",
        "string",
        "binary",
        "date",
        "timestamp",
    ];
    match random.u8(..10) {
        0 if depth < 3 => format!("array<{}>", random_type(random, depth + 1)),
        1 if depth < 3 => format!("map<string,{}>", random_type(random, depth + 1)),
        2 if depth < 3 => {
            let fields: Vec<String> = (0..random.usize(1..4))
                .map(|i| format!("f{i}:{}", random_type(random, depth + 1)))
                .collect();
            format!("struct<{}>", fields.join(","))
        }
        3 => {
            let precision = random.u8(1..=38);
            format!("decimal({precision},{})", random.u8(..=precision))
        }
        4 if depth == 0 => format!("varchar({})", random.u8(1..8)),
        5 if depth == 0 => format!("char({})", random.u8(1..8)),
        _ => random.choice(primitives).unwrap().to_owned(),
    }
}

/// A JSON value of the type (null one time in six), extremes included.
fn random_value(random: &mut Rng, ty: &HiveType) -> String {
    if random.u8(..6) == 0 {
        return "null".to_owned();
    }
    let text = |random: &mut Rng| {
        let chars = ['a', 'Z', ' ', '0', 'é', '✓', '"', '\\', '\n', '😀'];
        let text: String = (0..random.usize(0..10))
            .map(|_| *random.choice(&chars).unwrap())
            .collect();
        serde_json::to_string(&text).unwrap()
    };
    match ty {
        HiveType::Boolean => random.bool().to_string(),
        HiveType::TinyInt => random.i8(..).to_string(),
        HiveType::SmallInt => random.i16(..).to_string(),
        HiveType::Int => random.i32(..).to_string(),
        HiveType::BigInt => match random.u8(..4) {
            0 => random
                .choice([i64::MIN, i64::MAX, 0, -1])
                .unwrap()
                .to_string(),
            1 => random.i64(-3..3).to_string(),
            _ => random.i64(..).to_string(),
        },
        HiveType::Float => ((random.f32() - 0.5) * 10f32.powi(random.i32(-20..20))).to_string(),
        HiveType::Double => ((random.f64() - 0.5) * 10f64.powi(random.i32(-200..200))).to_string(),
        HiveType::Decimal { precision, scale } => {
            let digits: String = (0..random.u8(1..=*precision))
                .map(|_| random.digit(10))
                .collect();
            let digits = format!("{digits:0>width$}", width = usize::from(*scale) + 1);
            let (whole, fraction) = digits.split_at(digits.len() - usize::from(*scale));
            let sign = if random.bool() { "-" } else { "" };
            let point = if fraction.is_empty() { "" } else { "." };
            format!("\"{sign}{whole}{point}{fraction}\"")
        }
        HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => text(random),
        HiveType::Binary => {
            let bytes: String = (0..random.usize(0..6))
                .map(|_| format!("{:02x}", random.u8(..)))
                .collect();
            format!("\"{bytes}\"")
        }
        HiveType::Date => format!(
            "\"{}\"",
            jiff::civil::date(1970, 1, 1) + jiff::Span::new().days(random.i64(-200_000..200_000))
        ),
        // Microseconds within what pyarrow reads as nanoseconds (1678 to 2261),
        // outside ORC's one unreadable second before 1970.
        HiveType::Timestamp => {
            let micros = random.i64(-9_000_000_000_000_000..9_000_000_000_000_000);
            if (-1_000_000..0).contains(&micros) {
                "0".to_owned()
            } else {
                micros.to_string()
            }
        }
        HiveType::Array(item) => {
            let items: Vec<String> = (0..random.usize(0..4))
                .map(|_| random_value(random, item))
                .collect();
            format!("[{}]", items.join(","))
        }
        HiveType::Map(_, value) => {
            let entries: Vec<String> = (0..random.usize(0..4))
                .map(|i| format!("\"k{i}\":{}", random_value(random, value)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        HiveType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, ty)| format!("\"{name}\":{}", random_value(random, ty)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

/// `firehose-local run` with `OrcSerDe`: the types fixture converted as ORC
/// lands the same objects as with `ParquetSerDe` (but for their extension and
/// format), the same failures, and pyarrow reads each ORC object as the rows
/// of its Parquet twin.
#[test]
fn orc_serde_in_a_template_lands_what_parquet_serde_lands_as_orc() {
    let template =
        std::fs::read_to_string(repo().join("tests/fixtures/convert/types.yaml")).unwrap();
    let parquet_serde = "ParquetSerDe: { Compression: GZIP, WriterVersion: V2 }";
    assert!(template.contains(parquet_serde));
    let orc_serde =
        "OrcSerDe: { Compression: ZLIB, RowIndexStride: 1000, BloomFilterColumns: [s] }";
    let dir = out_dir("orc-serde");
    std::fs::create_dir_all(&dir).unwrap();
    let orc_template = dir.join("types-orc.yaml");
    std::fs::write(&orc_template, template.replace(parquet_serde, orc_serde)).unwrap();
    let run = |template: &str, name: &str| {
        let out = dir.join(name);
        let input = "tests/fixtures/convert/types.ndjson";
        let args = [
            "run",
            "--template",
            template,
            "--input",
            input,
            "--seed",
            "5",
            "--start-time",
            "2026-12-01T10:00:00Z",
        ];
        let output = firehose_local(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (stdout, landed(&out))
    };
    let (parquet_summary, parquet_objects) = run("tests/fixtures/convert/types.yaml", "parquet");
    let (orc_summary, orc_objects) = run(orc_template.to_str().unwrap(), "orc");
    assert!(
        parquet_summary.contains("== converted to Parquet through the Glue table typed.every_type")
    );
    assert!(orc_summary.contains("== converted to ORC through the Glue table typed.every_type"));
    assert!(
        orc_summary.contains("note: BloomFilterColumns (s): no bloom filters are written"),
        "{orc_summary}"
    );
    // The same keys (but for the extension), and the same error objects.
    let renamed: Vec<String> = parquet_objects
        .keys()
        .map(|k| k.replace(".parquet", ".orc"))
        .collect();
    assert_eq!(renamed, orc_objects.keys().cloned().collect::<Vec<_>>());
    let errors = |objects: &BTreeMap<String, Vec<u8>>| {
        objects
            .iter()
            .filter(|(k, _)| k.contains("-failed/"))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect::<Vec<_>>()
    };
    assert!(!errors(&orc_objects).is_empty());
    assert_eq!(errors(&parquet_objects), errors(&orc_objects));
    let cases: Vec<Case> = parquet_objects
        .iter()
        .filter(|(key, _)| key.ends_with(".parquet"))
        .map(|(key, parquet)| Case {
            parquet: parquet.clone(),
            orc: vec![(
                "object.orc".to_owned(),
                orc_objects[&key.replace(".parquet", ".orc")].clone(),
            )],
        })
        .collect();
    assert!(!cases.is_empty());
    let seen = read_back(&out_dir("orc-serde-read"), &cases);
    assert!(seen.contains("ZLIB"), "{seen}");
    // `cat` prints the ORC objects' rows as it prints the Parquet ones.
    let cat = |name: &str| {
        let output = firehose_local(&["cat", dir.join(name).to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let rows = cat("orc");
    assert!(rows.contains("\"v\":\"trun\""), "{rows}");
    assert_eq!(rows, cat("parquet"));
}
