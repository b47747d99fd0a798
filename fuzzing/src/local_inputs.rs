//! What `firehose-local` reads from its users: `template.yaml` (YAML and
//! CloudFormation's intrinsics), S3 prefixes, KDG record templates, Glue
//! tables, records into rows by OpenX and Hive JSON (and the rows into a
//! Parquet file), `--input-format json` lines, error-object lines and KPL
//! aggregated records. Each
//! must take any bytes with an answer or an error message, never a panic;
//! rows the converter accepts must be written and read back, all of them;
//! a prefix evaluates the same for the same seed.

use std::io::Cursor;
use std::sync::OnceLock;

use firehose_local::convert::rows::Deserializer;
use firehose_local::convert::{
    Conversion, HiveJson, OpenX, OrcSettings, ParquetSettings, Serializer, Table, read_back, table,
};
use firehose_local::generate::RecordTemplate;
use firehose_local::sink::prefix::{KeySource, PartitionKeys, Prefix};
use firehose_local::stream::kpl;
use firehose_local::stream::producer::{Attempt, InputError, InputFormat, Producer};
use firehose_local::stream::replay::{self, ErrorObject};
use firehose_local::template;

/// The readers, in the order the first byte chooses them.
const READERS: [fn(&[u8]); 9] = [
    template_yaml,
    s3_prefix,
    record_template,
    |data| rows(&CONVERSIONS.get_or_init(conversions)[0], data),
    |data| rows(&CONVERSIONS.get_or_init(conversions)[1], data),
    glue_table,
    input_json_lines,
    error_object,
    kpl_aggregate,
];

static CONVERSIONS: OnceLock<[Conversion; 2]> = OnceLock::new();

pub fn run(data: &[u8]) {
    let (chosen, rest) = crate::choose(data, READERS.len());
    READERS[chosen](rest);
}

fn template_yaml(data: &[u8]) {
    // The reader reads a file (its functions' code is found beside it).
    let path = std::env::temp_dir().join(format!("firehose-fuzz-{}.yaml", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = template::load_all(&path, &[("Stage".to_owned(), "dev".to_owned())]);
        let _ = template::load(&path, None, &[]);
    }
}

fn s3_prefix(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let at = jiff::Timestamp::from_second(1_714_566_600)
        .unwrap_or_default()
        .to_zoned(jiff::tz::TimeZone::UTC);
    let keys = PartitionKeys::from([
        ((KeySource::Query, "customer".to_owned()), "c-1".to_owned()),
        ((KeySource::Lambda, "level".to_owned()), "INFO".to_owned()),
    ]);
    for prefix in [Prefix::output(text), Prefix::error(text, "data/")]
        .into_iter()
        .flatten()
    {
        let key = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            prefix.evaluate(&at, "processing-failed", &keys, &mut rng)
        };
        // A run repeats itself for a seed: its keys must too.
        assert_eq!(
            key(7),
            key(7),
            "the prefix {text:?} evaluates differently for one seed"
        );
    }
}

fn record_template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = RecordTemplate::parse(text) {
        let mut out = String::new();
        let mut rng = fastrand::Rng::with_seed(7);
        template.render(&mut rng, jiff::Timestamp::UNIX_EPOCH, &mut out);
    }
}

/// A table of every Hive type, nested, read by each deserialiser.
fn conversions() -> [Conversion; 2] {
    let columns = [
        ("id", "bigint"),
        ("small", "tinyint"),
        ("mid", "smallint"),
        ("n", "int"),
        ("ok", "boolean"),
        ("f", "float"),
        ("d", "double"),
        ("price", "decimal(10,2)"),
        ("name", "string"),
        ("code", "char(3)"),
        ("short", "varchar(5)"),
        ("raw", "binary"),
        ("day", "date"),
        ("at", "timestamp"),
        ("tags", "array<string>"),
        ("attrs", "map<string,int>"),
        (
            "nested",
            "struct<a:int,b:array<struct<c:string,d:timestamp>>,m:map<int,decimal(38,10)>>",
        ),
    ];
    let columns = columns
        .iter()
        .map(|(name, ty)| table::column(name, ty))
        .collect::<Result<Vec<_>, _>>();
    let table = columns.and_then(|columns| {
        Table::new(
            "123456789012".to_owned(),
            "fuzz".to_owned(),
            "every_type".to_owned(),
            "us-east-1".to_owned(),
            "0".to_owned(),
            columns,
            Vec::new(),
        )
    });
    let table = match table {
        Ok(table) => table,
        Err(e) => panic!("the fuzzed table is refused: {e}"),
    };
    let hive = HiveJson {
        timestamp_formats: ["millis", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"]
            .iter()
            .filter_map(|f| firehose_local::convert::hive_json::TimestampFormat::parse(f).ok())
            .collect(),
    };
    [
        Conversion::new(
            table.clone(),
            Deserializer::OpenX(OpenX {
                dots_to_underscores: true,
                mappings: vec![("name".to_owned(), "user.name".to_owned())],
                ..OpenX::default()
            }),
            Serializer::Parquet(ParquetSettings::default()),
        ),
        Conversion::new(
            table,
            Deserializer::HiveJson(hive),
            Serializer::Orc(OrcSettings::default()),
        ),
    ]
}

/// The rows of one record; those accepted must make a file (Parquet or
/// ORC) that reads back whole.
fn rows(conversion: &Conversion, record: &[u8]) {
    let Ok(rows) = conversion.rows(record) else {
        return;
    };
    let object = match conversion.object(&rows.lines) {
        Ok(object) => object,
        Err(e) => panic!("rows the converter accepted cannot be written: {e}"),
    };
    match read_back::rows(&object) {
        Some(Ok((_, lines))) => assert_eq!(
            lines.iter().filter(|b| **b == b'\n').count() as u64,
            rows.count,
            "rows written and read back"
        ),
        Some(Err(e)) => panic!("our own file cannot be read back: {e}"),
        None => panic!("our own file is neither Parquet nor ORC"),
    }
}

fn glue_table(data: &[u8]) {
    let _ = Table::from_get_table(data, "us-east-1");
}

fn input_json_lines(data: &[u8]) {
    read_as_the_stream_does(Producer::new(Cursor::new(data), InputFormat::Json, "fuzz"));
}

fn error_object(data: &[u8]) {
    let bytes = data.to_vec();
    let object = ErrorObject {
        name: "fuzz".to_owned(),
        open: Box::new(move || Ok(Box::new(Cursor::new(bytes)) as Box<dyn std::io::Read>)),
    };
    read_as_the_stream_does(replay::all_records(vec![object]));
}

/// Reads records as `stream::run` does: a malformed one is refused and the
/// next read, an input that cannot be read on ends the reading.
fn read_as_the_stream_does(records: impl Iterator<Item = Result<Attempt, InputError>>) {
    for record in records {
        if let Err(error) = record
            && !matches!(error, InputError::Malformed { .. })
        {
            break;
        }
    }
}

fn kpl_aggregate(data: &[u8]) {
    let _ = kpl::deaggregate(data);
}
