//! The file's schema: Hive's types, and the flattened type tree the footer
//! stores (pre-order: the root struct is column 0, each node the next id).

use crate::OrcError;
use crate::proto::{Type, TypeKind};

/// A column type, as a Glue table names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrcType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    /// `decimal(precision, scale)`: precision 1 to 38, scale at most precision.
    Decimal {
        precision: u8,
        scale: u8,
    },
    String,
    /// `varchar(n)`: longer values are cut to n characters.
    Varchar(u32),
    /// `char(n)`: values are cut or padded with spaces to n characters.
    Char(u32),
    Binary,
    Date,
    /// Wall-clock time, written in the writer time zone UTC.
    Timestamp,
    Array(Box<OrcType>),
    Map(Box<OrcType>, Box<OrcType>),
    Struct(Vec<(String, OrcType)>),
}

impl OrcType {
    /// Checks what the type itself must satisfy, naming the column.
    pub(crate) fn check(&self, column: &str) -> Result<(), OrcError> {
        let invalid = |message: String| {
            Err(OrcError::Schema {
                column: column.to_owned(),
                message,
            })
        };
        match self {
            OrcType::Decimal { precision, scale } if !(1..=38).contains(precision) => {
                invalid(format!("decimal precision {precision} is not 1 to 38"))
            }
            OrcType::Decimal { precision, scale } if scale > precision => invalid(format!(
                "decimal scale {scale} exceeds its precision {precision}"
            )),
            OrcType::Varchar(0) | OrcType::Char(0) => invalid("a length of 0".to_owned()),
            OrcType::Array(item) => item.check(&format!("{column}.item")),
            OrcType::Map(key, value) => {
                key.check(&format!("{column}.key"))?;
                value.check(&format!("{column}.value"))
            }
            OrcType::Struct(fields) => fields
                .iter()
                .try_for_each(|(name, ty)| ty.check(&format!("{column}.{name}"))),
            _ => Ok(()),
        }
    }

    /// Appends this type and its children to `types` in pre-order.
    pub(crate) fn flatten(&self, types: &mut Vec<Type>) {
        let at = types.len();
        types.push(Type {
            kind: Some(self.kind() as i32),
            ..Type::default()
        });
        let children: Vec<(Option<&str>, &OrcType)> = match self {
            OrcType::Array(item) => vec![(None, item)],
            OrcType::Map(key, value) => vec![(None, key), (None, value)],
            OrcType::Struct(fields) => fields.iter().map(|(n, t)| (Some(n.as_str()), t)).collect(),
            _ => Vec::new(),
        };
        for (name, child) in children {
            let id = types.len() as u32;
            types[at].subtypes.push(id);
            if let Some(name) = name {
                types[at].field_names.push(name.to_owned());
            }
            child.flatten(types);
        }
        let node = &mut types[at];
        match self {
            OrcType::Decimal { precision, scale } => {
                node.precision = Some(u32::from(*precision));
                node.scale = Some(u32::from(*scale));
            }
            OrcType::Varchar(length) | OrcType::Char(length) => node.maximum_length = Some(*length),
            _ => {}
        }
    }

    fn kind(&self) -> TypeKind {
        match self {
            OrcType::Boolean => TypeKind::Boolean,
            OrcType::TinyInt => TypeKind::Byte,
            OrcType::SmallInt => TypeKind::Short,
            OrcType::Int => TypeKind::Int,
            OrcType::BigInt => TypeKind::Long,
            OrcType::Float => TypeKind::Float,
            OrcType::Double => TypeKind::Double,
            OrcType::Decimal { .. } => TypeKind::Decimal,
            OrcType::String => TypeKind::String,
            OrcType::Varchar(_) => TypeKind::Varchar,
            OrcType::Char(_) => TypeKind::Char,
            OrcType::Binary => TypeKind::Binary,
            OrcType::Date => TypeKind::Date,
            OrcType::Timestamp => TypeKind::Timestamp,
            OrcType::Array(_) => TypeKind::List,
            OrcType::Map(..) => TypeKind::Map,
            OrcType::Struct(_) => TypeKind::Struct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's example of the pre-order ids.
    #[test]
    fn types_are_numbered_in_pre_order() {
        let schema = OrcType::Struct(vec![
            ("a".into(), OrcType::Int),
            (
                "m".into(),
                OrcType::Map(
                    Box::new(OrcType::String),
                    Box::new(OrcType::Struct(vec![
                        ("s".into(), OrcType::String),
                        ("d".into(), OrcType::Double),
                    ])),
                ),
            ),
            ("t".into(), OrcType::Timestamp),
        ]);
        let mut types = Vec::new();
        schema.flatten(&mut types);
        let subtypes: Vec<Vec<u32>> = types.iter().map(|t| t.subtypes.clone()).collect();
        assert_eq!(
            subtypes,
            [
                vec![1, 2, 7],
                vec![],
                vec![3, 4],
                vec![],
                vec![5, 6],
                vec![],
                vec![],
                vec![]
            ]
        );
        assert_eq!(types[0].field_names, ["a", "m", "t"]);
        assert_eq!(types[4].field_names, ["s", "d"]);
    }

    #[test]
    fn impossible_types_are_named() {
        let bad = OrcType::Array(Box::new(OrcType::Decimal {
            precision: 39,
            scale: 0,
        }));
        let message = bad.check("prices").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("column prices.item: decimal precision 39 is not 1 to 38")
        );
    }
}
