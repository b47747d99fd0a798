//! Hive column types as Glue tables write them (`int`, `decimal(10,2)`,
//! `array<struct<a:string>>`), and the Arrow types their Parquet columns get.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, TimeUnit};
use firehose_orc::OrcType;

/// One Hive type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    String,
    Varchar(usize),
    Char(usize),
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal { precision: u8, scale: u8 },
    Date,
    Timestamp,
    Binary,
    Array(Box<HiveType>),
    Map(Box<HiveType>, Box<HiveType>),
    Struct(Vec<(String, HiveType)>),
}

/// A type that is not Hive's, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} in the type {text:?}")]
pub struct TypeError {
    pub text: String,
    pub message: String,
}

/// Hive's decimal without arguments is `decimal(10,0)`; 38 digits is its most.
const DEFAULT_DECIMAL: (u8, u8) = (10, 0);
const MAX_PRECISION: u8 = 38;

impl HiveType {
    /// Reads a type as Glue stores it (case-insensitive, spaces allowed).
    pub fn parse(text: &str) -> Result<HiveType, TypeError> {
        let mut parser = Parser { text, at: 0 };
        let parsed = parser.ty().and_then(|ty| match parser.rest() {
            "" => Ok(ty),
            rest => Err(format!("unexpected {rest:?}")),
        });
        parsed.map_err(|message| TypeError {
            text: text.to_owned(),
            message,
        })
    }

    /// The Arrow type its values are written as. Timestamps are kept to the
    /// microsecond, with no time zone (Hive's are zone-less; values are UTC).
    pub fn data_type(&self) -> DataType {
        match self {
            HiveType::String | HiveType::Varchar(_) | HiveType::Char(_) => DataType::Utf8,
            HiveType::Boolean => DataType::Boolean,
            HiveType::TinyInt => DataType::Int8,
            HiveType::SmallInt => DataType::Int16,
            HiveType::Int => DataType::Int32,
            HiveType::BigInt => DataType::Int64,
            HiveType::Float => DataType::Float32,
            HiveType::Double => DataType::Float64,
            HiveType::Decimal { precision, scale } => {
                DataType::Decimal128(*precision, *scale as i8)
            }
            HiveType::Date => DataType::Date32,
            HiveType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            HiveType::Binary => DataType::Binary,
            HiveType::Array(item) => {
                DataType::List(Arc::new(Field::new("element", item.data_type(), true)))
            }
            HiveType::Map(key, value) => {
                let entries = Fields::from(vec![
                    Field::new("key", key.data_type(), false),
                    Field::new("value", value.data_type(), true),
                ]);
                DataType::Map(
                    Arc::new(Field::new("key_value", DataType::Struct(entries), false)),
                    false,
                )
            }
            HiveType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(name, ty)| Field::new(name, ty.data_type(), true))
                    .collect(),
            ),
        }
    }

    /// The ORC type its values are written as: the same type, by ORC's name.
    pub fn orc_type(&self) -> OrcType {
        match self {
            HiveType::String => OrcType::String,
            HiveType::Varchar(n) => OrcType::Varchar(*n as u32),
            HiveType::Char(n) => OrcType::Char(*n as u32),
            HiveType::Boolean => OrcType::Boolean,
            HiveType::TinyInt => OrcType::TinyInt,
            HiveType::SmallInt => OrcType::SmallInt,
            HiveType::Int => OrcType::Int,
            HiveType::BigInt => OrcType::BigInt,
            HiveType::Float => OrcType::Float,
            HiveType::Double => OrcType::Double,
            HiveType::Decimal { precision, scale } => OrcType::Decimal {
                precision: *precision,
                scale: *scale,
            },
            HiveType::Date => OrcType::Date,
            HiveType::Timestamp => OrcType::Timestamp,
            HiveType::Binary => OrcType::Binary,
            HiveType::Array(item) => OrcType::Array(Box::new(item.orc_type())),
            HiveType::Map(key, value) => {
                OrcType::Map(Box::new(key.orc_type()), Box::new(value.orc_type()))
            }
            HiveType::Struct(fields) => OrcType::Struct(
                fields
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.orc_type()))
                    .collect(),
            ),
        }
    }

    fn is_primitive(&self) -> bool {
        !matches!(
            self,
            HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_)
        )
    }
}

impl std::fmt::Display for HiveType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HiveType::String => f.write_str("string"),
            HiveType::Varchar(n) => write!(f, "varchar({n})"),
            HiveType::Char(n) => write!(f, "char({n})"),
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::TinyInt => f.write_str("tinyint"),
            HiveType::SmallInt => f.write_str("smallint"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Float => f.write_str("float"),
            HiveType::Double => f.write_str("double"),
            HiveType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            HiveType::Date => f.write_str("date"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Binary => f.write_str("binary"),
            HiveType::Array(item) => write!(f, "array<{item}>"),
            HiveType::Map(key, value) => write!(f, "map<{key},{value}>"),
            HiveType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    let comma = if i > 0 { "," } else { "" };
                    write!(f, "{comma}{name}:{ty}")?;
                }
                f.write_str(">")
            }
        }
    }
}

/// A recursive-descent reader of one type.
struct Parser<'t> {
    text: &'t str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&mut self) -> &str {
        self.skip_spaces();
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    /// A name: letters, digits and `_`, or anything between backquotes.
    fn name(&mut self) -> Result<String, String> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        if let Some(quoted) = rest.strip_prefix('`') {
            let end = quoted.find('`').ok_or("an unclosed `")?;
            self.at += end + 2;
            return Ok(quoted[..end].to_owned());
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(format!("a name expected at {:?}", rest));
        }
        self.at += len;
        Ok(rest[..len].to_owned())
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.text[self.at..].starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("{c:?} expected at {:?}", self.rest()))
        }
    }

    fn number(&mut self) -> Result<usize, String> {
        let digits = self.name()?;
        digits
            .parse()
            .map_err(|_| format!("{digits:?} is not a number"))
    }

    fn ty(&mut self) -> Result<HiveType, String> {
        let name = self.name()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "string" => HiveType::String,
            "varchar" | "char" => {
                self.expect('(')?;
                let length = self.number()?;
                self.expect(')')?;
                if !(1..=65535).contains(&length) {
                    return Err(format!("{name}({length}): the length must be 1 to 65535"));
                }
                if name == "char" && length > 255 {
                    return Err(format!("char({length}): the length must be 1 to 255"));
                }
                match name.as_str() {
                    "char" => HiveType::Char(length),
                    _ => HiveType::Varchar(length),
                }
            }
            "boolean" => HiveType::Boolean,
            "tinyint" => HiveType::TinyInt,
            "smallint" => HiveType::SmallInt,
            "int" | "integer" => HiveType::Int,
            "bigint" => HiveType::BigInt,
            "float" => HiveType::Float,
            "double" => HiveType::Double,
            "decimal" | "numeric" => self.decimal()?,
            "date" => HiveType::Date,
            "timestamp" => HiveType::Timestamp,
            "binary" => HiveType::Binary,
            "array" => {
                self.expect('<')?;
                let item = self.ty()?;
                self.expect('>')?;
                HiveType::Array(Box::new(item))
            }
            "map" => {
                self.expect('<')?;
                let key = self.ty()?;
                if !key.is_primitive() {
                    return Err(format!("a map's key must be a primitive type, not {key}"));
                }
                self.expect(',')?;
                let value = self.ty()?;
                self.expect('>')?;
                HiveType::Map(Box::new(key), Box::new(value))
            }
            "struct" => {
                self.expect('<')?;
                let mut fields = Vec::new();
                loop {
                    let field = self.name()?;
                    self.expect(':')?;
                    fields.push((field.to_ascii_lowercase(), self.ty()?));
                    if !self.eat(',') {
                        break;
                    }
                }
                self.expect('>')?;
                HiveType::Struct(fields)
            }
            "uniontype" => return Err("uniontype is not supported by Firehose".to_owned()),
            other => return Err(format!("{other:?} is not a Hive type")),
        })
    }

    fn decimal(&mut self) -> Result<HiveType, String> {
        let (precision, scale) = if self.eat('(') {
            let precision = self.number()?;
            let scale = if self.eat(',') { self.number()? } else { 0 };
            self.expect(')')?;
            (precision, scale)
        } else {
            let (p, s) = DEFAULT_DECIMAL;
            (p.into(), s.into())
        };
        if !(1..=usize::from(MAX_PRECISION)).contains(&precision) || scale > precision {
            return Err(format!(
                "decimal({precision},{scale}): the precision must be 1 to 38 and the scale at most the precision"
            ));
        }
        Ok(HiveType::Decimal {
            precision: precision as u8,
            scale: scale as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hive_type_reads_and_prints_back() {
        for text in [
            "string",
            "varchar(10)",
            "char(3)",
            "boolean",
            "tinyint",
            "smallint",
            "int",
            "bigint",
            "float",
            "double",
            "decimal(10,2)",
            "date",
            "timestamp",
            "binary",
            "array<string>",
            "map<string,int>",
            "struct<a:int,b:array<struct<c:string>>>",
            "map<bigint,map<string,array<double>>>",
        ] {
            assert_eq!(HiveType::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn glue_spellings_are_read() {
        assert_eq!(HiveType::parse("INT").unwrap(), HiveType::Int);
        assert_eq!(HiveType::parse("integer").unwrap(), HiveType::Int);
        assert_eq!(
            HiveType::parse("decimal").unwrap(),
            HiveType::Decimal {
                precision: 10,
                scale: 0
            }
        );
        assert_eq!(
            HiveType::parse(" struct < `Odd Name` : string > ").unwrap(),
            HiveType::Struct(vec![("odd name".to_owned(), HiveType::String)])
        );
    }

    #[test]
    fn what_is_not_a_hive_type_is_refused_with_why() {
        for (text, why) in [
            ("text", "not a Hive type"),
            ("array<int", "'>' expected"),
            ("map<array<int>,int>", "primitive"),
            ("decimal(39,2)", "precision must be 1 to 38"),
            ("decimal(5,6)", "scale at most"),
            ("varchar(0)", "1 to 65535"),
            ("uniontype<int,string>", "not supported by Firehose"),
            ("int int", "unexpected"),
        ] {
            let error = HiveType::parse(text).unwrap_err().to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn nested_types_become_nested_arrow_types() {
        let ty = HiveType::parse("map<string,array<timestamp>>").unwrap();
        let DataType::Map(entries, _) = ty.data_type() else {
            panic!("not a map")
        };
        let DataType::Struct(fields) = entries.data_type() else {
            panic!("not entries")
        };
        assert_eq!(fields[0].data_type(), &DataType::Utf8);
        assert!(matches!(fields[1].data_type(), DataType::List(_)));
    }
}
