//! The template as a tree of nodes that know their line: YAML read with
//! saphyr, short-form tags (`!Ref x`) turned into the long form (`{Ref: x}`)
//! so one evaluator handles both.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// One node of the template, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

/// What a node holds. Numbers keep their text (`0.2`, `128`), as CloudFormation passes them on.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    List(Vec<Node>),
    /// Keys in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn new(line: usize, value: Value) -> Node {
        Node { line, value }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The entries of a mapping (none for anything else).
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// A scalar as text: strings, numbers and booleans as CloudFormation passes them to a resource.
    pub fn scalar(&self) -> Option<String> {
        match &self.value {
            Value::Text(text) | Value::Number(text) => Some(text.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// What kind of node this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Text(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Reads the first YAML document of `source`.
pub fn parse(source: &str) -> Result<Node, (usize, String)> {
    let docs = MarkedYaml::load_from_str(source).map_err(|e| (e.marker().line(), e.to_string()))?;
    match docs.into_iter().next() {
        Some(doc) => convert(&doc),
        None => Err((1, "the template is empty".to_owned())),
    }
}

fn convert(yaml: &MarkedYaml<'_>) -> Result<Node, (usize, String)> {
    let line = yaml.span.start.line();
    let value = match &yaml.data {
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::Text(text.to_string()),
        YamlData::Sequence(items) => {
            Value::List(items.iter().map(convert).collect::<Result<_, _>>()?)
        }
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (key, value) in map {
                let key = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(other) => scalar_text(other),
                    _ => {
                        return Err((
                            key.span.start.line(),
                            "a mapping key is not a plain scalar".to_owned(),
                        ));
                    }
                };
                entries.push((key, convert(value)?));
            }
            Value::Map(entries)
        }
        YamlData::Tagged(tag, inner) => {
            return long_form(line, &tag.handle, &tag.suffix, convert(inner)?);
        }
        YamlData::Alias(_) => return Err((line, "YAML aliases are not supported".to_owned())),
        YamlData::BadValue => return Err((line, "unreadable YAML value".to_owned())),
    };
    Ok(Node::new(line, value))
}

/// `!Ref x` → `{Ref: x}`, `!GetAtt A.B` → `{Fn::GetAtt: [A, B]}`, `!Sub s` → `{Fn::Sub: s}`, ...
fn long_form(
    line: usize,
    handle: &str,
    suffix: &str,
    inner: Node,
) -> Result<Node, (usize, String)> {
    if handle != "!" {
        // `!!str 5` and friends: YAML's own tags; the scalar was already read by its value.
        return Ok(inner);
    }
    let function = match suffix {
        "Ref" | "Condition" => suffix.to_owned(),
        "GetAtt" => {
            let inner = match &inner.value {
                Value::Text(text) => match text.split_once('.') {
                    Some((resource, attribute)) => Node::new(
                        inner.line,
                        Value::List(vec![
                            Node::new(inner.line, Value::Text(resource.to_owned())),
                            Node::new(inner.line, Value::Text(attribute.to_owned())),
                        ]),
                    ),
                    None => {
                        return Err((line, format!("!GetAtt {text}: expected Resource.Attribute")));
                    }
                },
                _ => inner,
            };
            return Ok(Node::new(
                line,
                Value::Map(vec![("Fn::GetAtt".to_owned(), inner)]),
            ));
        }
        "Sub" | "Join" | "Select" | "If" | "Equals" | "Not" | "And" | "Or" | "Split"
        | "FindInMap" | "Base64" | "GetAZs" | "ImportValue" | "Cidr" | "Transform" | "Length"
        | "ToJsonString" => format!("Fn::{suffix}"),
        other => return Err((line, format!("unknown tag !{other}"))),
    };
    Ok(Node::new(line, Value::Map(vec![(function, inner)])))
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::String(s) => Value::Text(s.to_string()),
        Scalar::Integer(_) | Scalar::FloatingPoint(_) => Value::Number(scalar_text(scalar)),
    }
}

fn scalar_text(scalar: &Scalar<'_>) -> String {
    match scalar {
        Scalar::Null => String::new(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::FloatingPoint(f) => f.to_string(),
        Scalar::String(s) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_become_long_forms_with_their_lines() {
        let node = parse("a: !Ref X\nb: !GetAtt R.Arn\nc:\n  - !Sub '${X}-y'\n").unwrap();
        assert_eq!(
            node.get("a")
                .unwrap()
                .get("Ref")
                .unwrap()
                .scalar()
                .as_deref(),
            Some("X")
        );
        let get_att = node.get("b").unwrap().get("Fn::GetAtt").unwrap();
        assert!(matches!(&get_att.value, Value::List(parts) if parts.len() == 2));
        let Value::List(items) = &node.get("c").unwrap().value else {
            panic!()
        };
        assert_eq!(items[0].line, 4);
        assert!(items[0].get("Fn::Sub").is_some());
    }

    #[test]
    fn numbers_keep_their_text_and_quoted_ones_are_strings() {
        let node = parse("a: 0.2\nb: \"3\"\nc: 128\n").unwrap();
        assert_eq!(node.get("a").unwrap().value, Value::Number("0.2".into()));
        assert_eq!(node.get("b").unwrap().value, Value::Text("3".into()));
        assert_eq!(node.get("c").unwrap().value, Value::Number("128".into()));
    }

    #[test]
    fn unknown_tags_and_bad_yaml_name_their_line() {
        assert_eq!(parse("a: 1\nb: !Nope x\n").unwrap_err().0, 2);
        assert!(parse("a: [1\n").is_err());
    }
}
