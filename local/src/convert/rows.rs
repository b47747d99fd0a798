//! A record read into rows of the table's columns, as Firehose's converter
//! reads it: each JSON object in the record (concatenated or one a line) is
//! a row; keys are matched to columns, and what matches none is dropped —
//! and counted here, since Firehose drops it without a word. Arrays, maps
//! and structs are walked the same way by both deserialisers; how a key
//! matches a column and how a scalar is read are theirs.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::hive::HiveType;
use super::hive_json::HiveJson;
use super::openx::OpenX;
use super::table::Column;
use super::{Refused, codes};

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
            columns.iter().map(|c| {
                (
                    c.name.clone(),
                    c.ty.clone(),
                    self.column_key(&c.name).to_owned(),
                )
            }),
        )
    }

    /// The rows of `record`: each JSON object in it, concatenated or one a line.
    pub fn rows(&self, record: &[u8], columns: &Fields) -> Result<Rows, Refused> {
        let mut rows = Rows::default();
        let objects = serde_json::Deserializer::from_slice(record).into_iter::<Value>();
        for object in objects {
            let object = object.map_err(|e| Refused {
                code: codes::PARSE_ERROR,
                message: format!("the record is not JSON: {e}"),
            })?;
            let Value::Object(object) = object else {
                return Err(Refused {
                    code: codes::PARSE_ERROR,
                    message: format!(
                        "the record holds {}, where the converter reads only JSON objects",
                        kind(&object)
                    ),
                });
            };
            let values = self
                .values(object, columns, "", &mut rows.dropped)
                .map_err(|message| Refused {
                    code: codes::MALFORMED_DATA,
                    message,
                })?;
            write_row(&mut rows.lines, columns, &values);
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

    /// An object's values in the order of `fields`; a missing field is null.
    fn values(
        &self,
        object: Map<String, Value>,
        fields: &Fields,
        path: &str,
        dropped: &mut Vec<String>,
    ) -> Result<Vec<Value>, String> {
        let mut values = vec![Value::Null; fields.names.len()];
        for (key, value) in object {
            // Paths are made only for what is dropped or refused, and nested keys.
            let here = if path.is_empty() {
                Cow::Borrowed(key.as_str())
            } else {
                Cow::Owned(format!("{path}.{key}"))
            };
            match fields.wanted.get(self.key(&key).as_ref()) {
                Some(&i) => values[i] = self.value(value, &fields.types[i], &here, dropped)?,
                None => dropped.push(here.into_owned()),
            }
        }
        Ok(values)
    }

    /// A value read as `ty`, in the form the writer takes; `path` names it in errors.
    fn value(
        &self,
        value: Value,
        ty: &HiveType,
        path: &str,
        dropped: &mut Vec<String>,
    ) -> Result<Value, String> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let refuse = |why: Option<&str>| {
            let reason = why.map(|why| format!(" ({why})")).unwrap_or_default();
            format!(
                "{path} ({ty}): {} cannot be read as {ty}{reason}",
                kind(&value)
            )
        };
        Ok(match ty {
            HiveType::Varchar(length) => match self.scalar(&value, &HiveType::String) {
                Ok(Value::String(text)) => Value::String(text.chars().take(*length).collect()),
                Ok(_) => return Err(refuse(None)),
                Err(why) => return Err(refuse(why)),
            },
            HiveType::Char(length) => match self.scalar(&value, &HiveType::String) {
                Ok(Value::String(text)) => {
                    let text: String = text.chars().take(*length).collect();
                    Value::String(format!("{text:<length$}"))
                }
                Ok(_) => return Err(refuse(None)),
                Err(why) => return Err(refuse(why)),
            },
            HiveType::Array(item) => match value {
                Value::Array(items) => Value::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| self.value(v, item, &format!("{path}[{i}]"), dropped))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(refuse(None)),
            },
            HiveType::Map(key_type, value_type) => match value {
                Value::Object(entries) => {
                    let mut map = Map::new();
                    for (key, v) in entries {
                        let here = format!("{path}.{key}");
                        let key = match self.value(Value::String(key), key_type, &here, dropped)? {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        let v = self.value(v, value_type, &here, dropped)?;
                        map.insert(key, v);
                    }
                    Value::Object(map)
                }
                _ => return Err(refuse(None)),
            },
            HiveType::Struct(fields) => match value {
                Value::Object(object) => {
                    let fields = Fields::new(
                        self,
                        fields
                            .iter()
                            .map(|(n, t)| (n.clone(), t.clone(), n.clone())),
                    );
                    let values = self.values(object, &fields, path, dropped)?;
                    Value::Object(fields.names.into_iter().zip(values).collect())
                }
                _ => return Err(refuse(None)),
            },
            scalar => self.scalar(&value, scalar).map_err(refuse)?,
        })
    }

    /// A scalar read as `ty`, or the reason it cannot be, if there is more to say than the types.
    fn scalar(&self, value: &Value, ty: &HiveType) -> Result<Value, Option<&'static str>> {
        match self {
            Deserializer::OpenX(openx) => openx.scalar(value, ty),
            Deserializer::HiveJson(hive) => hive.scalar(value, ty),
        }
    }
}

/// The fields an object is read into, in order, and which field each JSON
/// key fills, as the deserialiser matches keys.
#[derive(Debug)]
pub struct Fields {
    names: Vec<String>,
    types: Vec<HiveType>,
    wanted: HashMap<String, usize>,
}

impl Fields {
    /// Fields from `(name, type, the JSON key it reads)`.
    fn new(
        deserializer: &Deserializer,
        fields: impl Iterator<Item = (String, HiveType, String)>,
    ) -> Fields {
        let (mut names, mut types, mut wanted) = (Vec::new(), Vec::new(), HashMap::new());
        for (i, (name, ty, key)) in fields.enumerate() {
            wanted.insert(deserializer.key(&key).into_owned(), i);
            names.push(name);
            types.push(ty);
        }
        Fields {
            names,
            types,
            wanted,
        }
    }
}

/// A row as the writer reads it: one JSON object, the fields in order, then a newline.
fn write_row(out: &mut Vec<u8>, fields: &Fields, values: &[Value]) {
    out.push(b'{');
    for (i, (name, value)) in fields.names.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing a string or a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    out.extend_from_slice(b"}\n");
}

/// What a value is, for messages (never the value itself: it may be private).
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
