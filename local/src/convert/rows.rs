//! A record read into rows of the table's columns, as Firehose's converter
//! reads it: each JSON object in the record (concatenated or one a line) is
//! a row; keys are matched to columns, and what matches none is dropped —
//! and counted here, since Firehose drops it without a word. Arrays, maps
//! and structs are walked the same way by both deserialisers; how a key
//! matches a column and how a scalar is read are theirs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::value::RawValue;

use super::hive::HiveType;
use super::hive_json::HiveJson;
use super::json::{self, Json, Top};
use super::openx::OpenX;
use super::table::Column;
use super::{Refused, codes};
use crate::json_text;

/// The deserialiser the template chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deserializer {
    OpenX(OpenX),
    HiveJson(HiveJson),
}

impl Default for Deserializer {
    fn default() -> Self {
        Deserializer::OpenX(OpenX::default())
    }
}

/// The rows of one record, ready for the Parquet writer.
#[derive(Debug, Default, PartialEq)]
pub struct Rows {
    /// One JSON object per line, the columns in order, each value in the form
    /// the writer reads for its type.
    pub lines: Vec<u8>,
    pub count: u64,
    /// Keys that matched no column, as paths (`a.b` inside a struct column).
    pub dropped: Vec<String>,
}

impl Deserializer {
    /// The table's columns as this deserialiser matches keys to them (once, at start-up).
    pub fn fields(&self, columns: &[Column]) -> Fields {
        Fields::new(
            self,
            columns
                .iter()
                .map(|c| (c.name.as_str(), &c.ty, self.column_key(&c.name))),
        )
    }

    /// The rows of `record`: each JSON object in it, concatenated or one a line.
    pub fn rows(&self, record: &[u8], fields: &Fields) -> Result<Rows, Refused> {
        // A row is about as long as its record (column names for keys): room
        // for it at once, not grown as it is written.
        let mut rows = Rows {
            lines: Vec::with_capacity(record.len() + record.len() / 2),
            ..Rows::default()
        };
        for value in json::values(record) {
            match value.map_err(not_json)? {
                Top::Object(entries) => {
                    self.object(&entries, fields, &Path::Top, &mut rows)?;
                }
                Top::Other(kind) => {
                    return Err(Refused {
                        code: codes::PARSE_ERROR,
                        message: format!(
                            "the record holds {kind}, where the converter reads only JSON objects"
                        ),
                    });
                }
            }
            rows.lines.push(b'\n');
            rows.count += 1;
        }
        if rows.count == 0 {
            return Err(Refused {
                code: codes::PARSE_ERROR,
                message: "the record holds no JSON object".to_owned(),
            });
        }
        Ok(rows)
    }

    /// The key that a JSON key matches fields by.
    fn key<'k>(&self, key: &'k str) -> Cow<'k, str> {
        match self {
            Deserializer::OpenX(openx) => openx.key(key),
            // HCatalog's JsonSerDe looks the key up as it is; column names are lower case.
            Deserializer::HiveJson(_) => Cow::Borrowed(key),
        }
    }

    /// The JSON key a top-level column reads (`ColumnToJsonKeyMappings`).
    fn column_key<'a>(&'a self, column: &'a str) -> &'a str {
        match self {
            Deserializer::OpenX(openx) => openx.column_key(column),
            Deserializer::HiveJson(_) => column,
        }
    }

    /// An object written as a row of `fields`, in their order; a missing
    /// field is null, a key no field has is dropped, and the last of a key
    /// given twice wins.
    fn object(
        &self,
        entries: &json::Entries,
        fields: &Fields,
        path: &Path,
        rows: &mut Rows,
    ) -> Result<(), Refused> {
        let mut slots = vec![None; fields.fields.len()];
        for (at, (key, _)) in entries.iter().enumerate() {
            match fields.wanted.get(self.key(key).as_ref()) {
                Some(&field) => slots[field] = Some(at),
                None => rows.dropped.push(path.key(key).to_string()),
            }
        }
        rows.lines.push(b'{');
        for (i, (field, slot)) in fields.fields.iter().zip(slots).enumerate() {
            if i > 0 {
                rows.lines.push(b',');
            }
            rows.lines.extend_from_slice(field.label.as_bytes());
            match slot.and_then(|at| entries.get(at)) {
                Some((key, raw)) => self.value(raw, &field.reader, &path.key(key), rows)?,
                None => rows.lines.extend_from_slice(b"null"),
            }
        }
        rows.lines.push(b'}');
        Ok(())
    }

    /// A value written as `reader` reads it; `path` names it in errors.
    fn value(
        &self,
        raw: &RawValue,
        reader: &Reader,
        path: &Path,
        rows: &mut Rows,
    ) -> Result<(), Refused> {
        let value = Json::read(raw).map_err(not_json)?;
        match (&reader.holds, &value) {
            (_, Json::Null) => rows.lines.extend_from_slice(b"null"),
            (Holds::Items(item), Json::Array(raw)) => {
                rows.lines.push(b'[');
                for (i, raw) in json::items(raw).map_err(not_json)?.iter().enumerate() {
                    if i > 0 {
                        rows.lines.push(b',');
                    }
                    self.value(raw, item, &Path::Index(path, i), rows)?;
                }
                rows.lines.push(b']');
            }
            (Holds::Entries(keys, values), Json::Object(raw)) => {
                self.map(
                    &json::entries(raw).map_err(not_json)?,
                    keys,
                    values,
                    path,
                    rows,
                )?;
            }
            (Holds::Fields(fields), Json::Object(raw)) => {
                let entries = json::entries(raw).map_err(not_json)?;
                self.object(&entries, fields, path, rows)?;
            }
            (Holds::Scalar, _) => self
                .cell(&value, &reader.ty)
                .map_err(|why| malformed(path, &reader.ty, &value, why))?
                .write(&mut rows.lines),
            _ => return Err(malformed(path, &reader.ty, &value, None)),
        }
        Ok(())
    }

    /// A map's entries, each key read as `keys` reads it. A map keeps one
    /// value a key: the last, where the key first came.
    fn map(
        &self,
        entries: &json::Entries,
        keys: &HiveType,
        values: &Reader,
        path: &Path,
        rows: &mut Rows,
    ) -> Result<(), Refused> {
        let mut written: Vec<(String, Vec<u8>)> = Vec::with_capacity(entries.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(entries.len());
        let mut value_rows = Rows::default();
        for (key, raw) in entries {
            let here = path.key(key);
            let key = Json::String(Cow::Borrowed(key));
            let key = self
                .cell(&key, keys)
                .map_err(|why| malformed(&here, keys, &key, why))?
                .into_key();
            self.value(raw, values, &here, &mut value_rows)?;
            let value = std::mem::take(&mut value_rows.lines);
            match index.get(&key) {
                Some(&at) => written[at].1 = value,
                None => {
                    index.insert(key.clone(), written.len());
                    written.push((key, value));
                }
            }
        }
        rows.dropped.append(&mut value_rows.dropped);
        rows.lines.push(b'{');
        for (i, (key, value)) in written.iter().enumerate() {
            if i > 0 {
                rows.lines.push(b',');
            }
            json_text::push_string(&mut rows.lines, key);
            rows.lines.push(b':');
            rows.lines.extend_from_slice(value);
        }
        rows.lines.push(b'}');
        Ok(())
    }

    /// A scalar read as `ty`, or the reason it cannot be, if there is more to say than the types.
    fn cell<'v>(&self, value: &'v Json, ty: &HiveType) -> Result<Cell<'v>, Option<&'static str>> {
        let text = || match self.cell(value, &HiveType::String)? {
            Cell::Text(text) => Ok(text),
            _ => Err(None),
        };
        match ty {
            HiveType::Varchar(length) => Ok(Cell::Text(first_chars(text()?, *length))),
            HiveType::Char(length) => {
                let text = first_chars(text()?, *length);
                Ok(Cell::Text(Cow::Owned(format!("{text:<length$}"))))
            }
            _ => match self {
                Deserializer::OpenX(openx) => openx.scalar(value, ty),
                Deserializer::HiveJson(hive) => hive.scalar(value, ty),
            },
        }
    }
}

/// The fields an object is read into, in order, and which field each JSON
/// key fills, as the deserialiser matches keys.
#[derive(Debug)]
pub struct Fields {
    fields: Vec<Field>,
    /// Keyed by foldhash: every key of every record is looked up here.
    wanted: foldhash::HashMap<String, usize>,
}

#[derive(Debug)]
struct Field {
    /// The field's name as the row writes it: `"name":`.
    label: String,
    reader: Reader,
}

/// How a value of one type is read, down to the fields of its structs (made once).
#[derive(Debug)]
struct Reader {
    ty: HiveType,
    holds: Holds,
}

#[derive(Debug)]
enum Holds {
    Scalar,
    Items(Box<Reader>),
    /// A map's key type and how its values are read.
    Entries(HiveType, Box<Reader>),
    Fields(Fields),
}

impl Fields {
    /// Fields from `(name, type, the JSON key it reads)`.
    fn new<'c>(
        deserializer: &Deserializer,
        fields: impl Iterator<Item = (&'c str, &'c HiveType, &'c str)>,
    ) -> Fields {
        let (mut list, mut wanted) = (Vec::new(), foldhash::HashMap::default());
        for (i, (name, ty, key)) in fields.enumerate() {
            wanted.insert(deserializer.key(key).into_owned(), i);
            let mut label = Vec::new();
            json_text::push_string(&mut label, name);
            label.push(b':');
            list.push(Field {
                label: String::from_utf8_lossy(&label).into_owned(),
                reader: Reader::new(deserializer, ty),
            });
        }
        Fields {
            fields: list,
            wanted,
        }
    }
}

impl Reader {
    fn new(deserializer: &Deserializer, ty: &HiveType) -> Reader {
        let holds = match ty {
            HiveType::Array(item) => Holds::Items(Box::new(Reader::new(deserializer, item))),
            HiveType::Map(key, value) => {
                Holds::Entries((**key).clone(), Box::new(Reader::new(deserializer, value)))
            }
            HiveType::Struct(fields) => Holds::Fields(Fields::new(
                deserializer,
                fields
                    .iter()
                    .map(|(name, ty)| (name.as_str(), ty, name.as_str())),
            )),
            _ => Holds::Scalar,
        };
        Reader {
            ty: ty.clone(),
            holds,
        }
    }
}

/// A scalar as a row holds it, in the form the Parquet writer reads for its column.
#[derive(Debug, PartialEq)]
pub(super) enum Cell<'v> {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A JSON number's own text, so that the writer rounds it once.
    Number(&'v str),
    Text(Cow<'v, str>),
}

impl Cell<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Bool(b) => write_json(out, b),
            Cell::Int(i) => write_json(out, i),
            Cell::Float(f) => write_json(out, f),
            Cell::Number(n) => out.extend_from_slice(n.as_bytes()),
            Cell::Text(t) => json_text::push_string(out, t),
        }
    }

    /// The cell as a map's key, which JSON writes as a string.
    fn into_key(self) -> String {
        match self {
            Cell::Text(t) => t.into_owned(),
            Cell::Number(n) => n.to_owned(),
            other => {
                let mut out = Vec::new();
                other.write(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
        }
    }
}

/// Where a value is in the record, for messages and dropped keys: made into
/// text only for them.
enum Path<'p> {
    Top,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn key<'p>(&'p self, key: &'p str) -> Path<'p> {
        Path::Key(self, key)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Path::Top => Ok(()),
            Path::Key(Path::Top, key) => f.write_str(key),
            Path::Key(path, key) => write!(f, "{path}.{key}"),
            Path::Index(path, i) => write!(f, "{path}[{i}]"),
        }
    }
}

/// The first `length` characters of `text`.
fn first_chars(text: Cow<str>, length: usize) -> Cow<str> {
    match text.char_indices().nth(length) {
        None => text,
        Some((end, _)) => match text {
            Cow::Borrowed(text) => Cow::Borrowed(&text[..end]),
            Cow::Owned(mut text) => {
                text.truncate(end);
                Cow::Owned(text)
            }
        },
    }
}

fn write_json(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    // Writing a string, number or boolean into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

fn not_json(e: serde_json::Error) -> Refused {
    Refused {
        code: codes::PARSE_ERROR,
        message: format!("the record is not JSON: {e}"),
    }
}

fn malformed(path: &Path, ty: &HiveType, value: &Json, why: Option<&str>) -> Refused {
    let reason = why.map(|why| format!(" ({why})")).unwrap_or_default();
    Refused {
        code: codes::MALFORMED_DATA,
        message: format!(
            "{path} ({ty}): {} cannot be read as {ty}{reason}",
            value.kind()
        ),
    }
}
