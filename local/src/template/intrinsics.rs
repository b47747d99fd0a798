//! CloudFormation's intrinsic functions, evaluated as a deployment would
//! evaluate them: parameters (defaults or `--parameter` overrides), pseudo
//! parameters, conditions, `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::FindInMap`, `Fn::Base64`.
//! Resources that are not deployed here get names and ARNs of the shapes AWS
//! gives them, in a fixed local account and region.

use std::collections::BTreeMap;

use base64::Engine;

use super::yaml::{Node, Value};

/// The account every local ARN names.
pub const ACCOUNT: &str = "123456789012";
/// The region every local ARN names.
pub const REGION: &str = "us-east-1";
/// The stack name resources without a name of their own are named after.
pub const STACK: &str = "local";

/// Evaluation failed at a line of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub line: usize,
    pub message: String,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError {
        line,
        message: message.into(),
    })
}

/// The template and the values of its parameters.
pub struct Context<'t> {
    root: &'t Node,
    parameters: BTreeMap<String, String>,
}

/// Nesting deeper than this is a reference cycle (a resource named after itself).
const MAX_DEPTH: usize = 64;

impl<'t> Context<'t> {
    /// Takes each parameter's `Default`, replaced by `overrides`; an override
    /// of no declared parameter, or outside its `AllowedValues`, is an error.
    pub fn new(root: &'t Node, overrides: &[(String, String)]) -> Result<Self, EvalError> {
        let declared = root.get("Parameters");
        let mut parameters = BTreeMap::new();
        for (name, declaration) in declared.map(Node::entries).unwrap_or_default() {
            if let Some(default) = declaration.get("Default").and_then(Node::scalar) {
                parameters.insert(name.clone(), default);
            }
        }
        for (name, value) in overrides {
            let Some(declaration) = declared.and_then(|p| p.get(name)) else {
                return fail(
                    declared.map_or(1, |p| p.line),
                    format!("--parameter {name}: the template declares no parameter {name}"),
                );
            };
            if let Some(Value::List(allowed)) = declaration.get("AllowedValues").map(|a| &a.value)
                && !allowed.iter().any(|a| a.scalar().as_deref() == Some(value))
            {
                let allowed: Vec<String> = allowed.iter().filter_map(Node::scalar).collect();
                return fail(
                    declaration.line,
                    format!("--parameter {name}={value}: not one of its AllowedValues {allowed:?}"),
                );
            }
            parameters.insert(name.clone(), value.clone());
        }
        Ok(Context { root, parameters })
    }

    /// The resource declared as `logical_id`.
    pub fn resource(&self, logical_id: &str) -> Option<&'t Node> {
        self.root.get("Resources")?.get(logical_id)
    }

    /// `node` with every intrinsic function evaluated; `None` is `AWS::NoValue`.
    pub fn resolve(&self, node: &Node) -> Result<Option<Node>, EvalError> {
        self.resolve_at(node, 0)
    }

    /// A resolved scalar, as text.
    pub fn text(&self, node: &Node) -> Result<String, EvalError> {
        match self.resolve(node)? {
            Some(resolved) => match resolved.scalar() {
                Some(text) => Ok(text),
                None => fail(
                    node.line,
                    format!("expected a string, found {}", resolved.kind()),
                ),
            },
            None => fail(node.line, "expected a string, found AWS::NoValue"),
        }
    }

    /// Whether the resource is deployed: it has no `Condition`, or its condition holds.
    pub fn deployed(&self, resource: &Node) -> Result<bool, EvalError> {
        match resource.get("Condition") {
            Some(name) => self.condition_named(name, 0),
            None => Ok(true),
        }
    }

    fn resolve_at(&self, node: &Node, depth: usize) -> Result<Option<Node>, EvalError> {
        if depth > MAX_DEPTH {
            return fail(node.line, "references nest too deep (a cycle?)");
        }
        let line = node.line;
        match &node.value {
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.resolve_at(item, depth + 1)?);
                }
                Ok(Some(Node::new(line, Value::List(out))))
            }
            Value::Map(entries) => {
                if let [(function, argument)] = entries.as_slice()
                    && (function == "Ref" || function.starts_with("Fn::"))
                {
                    return self.call(function, argument, line, depth + 1);
                }
                let mut out = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    if let Some(value) = self.resolve_at(value, depth + 1)? {
                        out.push((key.clone(), value));
                    }
                }
                Ok(Some(Node::new(line, Value::Map(out))))
            }
            _ => Ok(Some(node.clone())),
        }
    }

    fn text_at(&self, node: &Node, depth: usize) -> Result<String, EvalError> {
        match self.resolve_at(node, depth)? {
            Some(resolved) => resolved.scalar().map_or_else(
                || {
                    fail(
                        node.line,
                        format!("expected a string, found {}", resolved.kind()),
                    )
                },
                Ok,
            ),
            None => fail(node.line, "expected a string, found AWS::NoValue"),
        }
    }

    fn list_at(&self, node: &Node, depth: usize) -> Result<Vec<Node>, EvalError> {
        match self.resolve_at(node, depth)?.map(|n| n.value) {
            Some(Value::List(items)) => Ok(items),
            _ => fail(node.line, "expected a list"),
        }
    }

    fn call(
        &self,
        function: &str,
        argument: &Node,
        line: usize,
        depth: usize,
    ) -> Result<Option<Node>, EvalError> {
        let text = |t: String| Ok(Some(Node::new(line, Value::Text(t))));
        match function {
            "Ref" => {
                let name = self.text_at(argument, depth)?;
                if name == "AWS::NoValue" {
                    return Ok(None);
                }
                text(self.reference(&name, line, depth)?)
            }
            "Fn::GetAtt" => {
                let parts = self.list_at(argument, depth)?;
                let names: Vec<String> = parts.iter().filter_map(Node::scalar).collect();
                match names.as_slice() {
                    [resource, attribute] => {
                        text(self.attribute(resource, attribute, line, depth)?)
                    }
                    _ => fail(line, "Fn::GetAtt takes [Resource, Attribute]"),
                }
            }
            "Fn::Sub" => match &argument.value {
                Value::List(items) if items.len() == 2 => {
                    let mut variables = BTreeMap::new();
                    for (name, value) in items[1].entries() {
                        variables.insert(name.as_str(), self.text_at(value, depth)?);
                    }
                    text(self.substitute(
                        &self.text_at(&items[0], depth)?,
                        &variables,
                        line,
                        depth,
                    )?)
                }
                _ => text(self.substitute(
                    &self.text_at(argument, depth)?,
                    &BTreeMap::new(),
                    line,
                    depth,
                )?),
            },
            "Fn::Join" => {
                let Some([delimiter, items]) = arguments::<2>(argument) else {
                    return fail(line, format!("{function} takes a list of 2"));
                };
                let delimiter = self.text_at(delimiter, depth)?;
                let parts: Result<Vec<String>, EvalError> = self
                    .list_at(items, depth)?
                    .iter()
                    .map(|i| self.text_at(i, depth))
                    .collect();
                text(parts?.join(&delimiter))
            }
            "Fn::Select" => {
                let Some([index, items]) = arguments::<2>(argument) else {
                    return fail(line, format!("{function} takes a list of 2"));
                };
                let index: usize = match self.text_at(index, depth)?.parse() {
                    Ok(index) => index,
                    Err(_) => return fail(line, "Fn::Select: the index is not a whole number"),
                };
                let items = self.list_at(items, depth)?;
                match items.into_iter().nth(index) {
                    Some(item) => Ok(Some(item)),
                    None => fail(line, format!("Fn::Select: no item {index}")),
                }
            }
            "Fn::Split" => {
                let Some([delimiter, source]) = arguments::<2>(argument) else {
                    return fail(line, format!("{function} takes a list of 2"));
                };
                let delimiter = self.text_at(delimiter, depth)?;
                let source = self.text_at(source, depth)?;
                let parts = source
                    .split(delimiter.as_str())
                    .map(|p| Node::new(line, Value::Text(p.to_owned())))
                    .collect();
                Ok(Some(Node::new(line, Value::List(parts))))
            }
            "Fn::If" => {
                let Some([condition, then, otherwise]) = arguments::<3>(argument) else {
                    return fail(line, format!("{function} takes a list of 3"));
                };
                let chosen = if self.condition_named(condition, depth)? {
                    then
                } else {
                    otherwise
                };
                self.resolve_at(chosen, depth)
            }
            "Fn::FindInMap" => {
                let Some([map, first, second]) = arguments::<3>(argument) else {
                    return fail(line, format!("{function} takes a list of 3"));
                };
                let (map, first, second) = (
                    self.text_at(map, depth)?,
                    self.text_at(first, depth)?,
                    self.text_at(second, depth)?,
                );
                let found = self
                    .root
                    .get("Mappings")
                    .and_then(|m| m.get(&map)?.get(&first)?.get(&second));
                match found {
                    Some(value) => self.resolve_at(value, depth),
                    None => fail(
                        line,
                        format!("Fn::FindInMap: no {map}.{first}.{second} in Mappings"),
                    ),
                }
            }
            "Fn::Base64" => text(
                base64::engine::general_purpose::STANDARD.encode(self.text_at(argument, depth)?),
            ),
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                let holds = self.condition(
                    &Node::new(
                        line,
                        Value::Map(vec![(function.to_owned(), argument.clone())]),
                    ),
                    depth,
                )?;
                Ok(Some(Node::new(line, Value::Bool(holds))))
            }
            other => fail(line, format!("{other} is not supported by firehose-local")),
        }
    }

    /// `!Ref name`: a parameter's value, a pseudo parameter, or a resource's name.
    fn reference(&self, name: &str, line: usize, depth: usize) -> Result<String, EvalError> {
        if let Some(value) = self.parameters.get(name) {
            return Ok(value.clone());
        }
        match name {
            "AWS::Region" => return Ok(REGION.to_owned()),
            "AWS::AccountId" => return Ok(ACCOUNT.to_owned()),
            "AWS::StackName" => return Ok(STACK.to_owned()),
            "AWS::Partition" => return Ok("aws".to_owned()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".to_owned()),
            "AWS::StackId" => {
                return Ok(format!(
                    "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/local"
                ));
            }
            _ => {}
        }
        if self
            .root
            .get("Parameters")
            .and_then(|p| p.get(name))
            .is_some()
        {
            return fail(
                line,
                format!("parameter {name} has no Default: give --parameter {name}=VALUE"),
            );
        }
        match self.resource(name) {
            Some(resource) => self.physical_name(name, resource, depth),
            None => fail(
                line,
                format!("!Ref {name}: no parameter or resource of that name"),
            ),
        }
    }

    /// What `!Ref` gives for a resource: its own name property, or one made as CloudFormation makes it.
    fn physical_name(
        &self,
        logical_id: &str,
        resource: &Node,
        depth: usize,
    ) -> Result<String, EvalError> {
        let kind = resource_type(resource);
        let properties = resource.get("Properties");
        let own = |path: &[&str]| path.iter().try_fold(properties?, |node, key| node.get(key));
        let name_property: &[&str] = match kind {
            "AWS::Kinesis::Stream" => &["Name"],
            "AWS::KinesisFirehose::DeliveryStream" => &["DeliveryStreamName"],
            "AWS::S3::Bucket" => &["BucketName"],
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => &["FunctionName"],
            "AWS::IAM::Role" => &["RoleName"],
            "AWS::Logs::LogGroup" => &["LogGroupName"],
            "AWS::Logs::LogStream" => &["LogStreamName"],
            "AWS::Glue::Database" => &["DatabaseInput", "Name"],
            "AWS::Glue::Table" => &["TableInput", "Name"],
            _ => &[],
        };
        if let Some(node) = own(name_property).filter(|_| !name_property.is_empty()) {
            return self.text_at(node, depth + 1);
        }
        let made = format!("{STACK}-{logical_id}");
        // Bucket names are lower case.
        Ok(if kind == "AWS::S3::Bucket" {
            made.to_lowercase()
        } else {
            made
        })
    }

    /// `!GetAtt resource.attribute`: the ARN of the shape AWS gives that kind of resource.
    fn attribute(
        &self,
        logical_id: &str,
        attribute: &str,
        line: usize,
        depth: usize,
    ) -> Result<String, EvalError> {
        let Some(resource) = self.resource(logical_id) else {
            return fail(
                line,
                format!("!GetAtt {logical_id}.{attribute}: no resource {logical_id}"),
            );
        };
        let name = self.physical_name(logical_id, resource, depth)?;
        let kind = resource_type(resource);
        match (kind, attribute) {
            (_, "Arn") => Ok(arn(kind, &name)),
            ("AWS::Logs::LogGroup", "LogGroupName") => Ok(name),
            ("AWS::S3::Bucket", "DomainName") => Ok(format!("{name}.s3.amazonaws.com")),
            _ => fail(
                line,
                format!(
                    "!GetAtt {logical_id}.{attribute}: firehose-local knows only Arn of a {kind}"
                ),
            ),
        }
    }

    /// `Fn::Sub`: `${Name}`, `${Resource.Attribute}`, `${!Literal}`.
    fn substitute(
        &self,
        template: &str,
        variables: &BTreeMap<&str, String>,
        line: usize,
        depth: usize,
    ) -> Result<String, EvalError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return fail(line, format!("Fn::Sub: an unclosed ${{ in {template:?}"));
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(value);
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute, line, depth)?);
            } else {
                out.push_str(&self.reference(name, line, depth)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn condition_named(&self, name: &Node, depth: usize) -> Result<bool, EvalError> {
        let name = self.text_at(name, depth)?;
        match self.root.get("Conditions").and_then(|c| c.get(&name)) {
            Some(condition) => self.condition(condition, depth + 1),
            None => fail(
                name_line(self.root),
                format!("no condition {name} in Conditions"),
            ),
        }
    }

    fn condition(&self, node: &Node, depth: usize) -> Result<bool, EvalError> {
        if depth > MAX_DEPTH {
            return fail(node.line, "conditions nest too deep (a cycle?)");
        }
        let [(function, argument)] = node.entries() else {
            return match &node.value {
                Value::Bool(b) => Ok(*b),
                _ => fail(
                    node.line,
                    "expected a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)",
                ),
            };
        };
        let items = || match &argument.value {
            Value::List(items) => Ok(items.as_slice()),
            _ => fail(node.line, format!("{function} takes a list")),
        };
        match function.as_str() {
            "Condition" => self.condition_named(argument, depth + 1),
            "Fn::Equals" => match items()? {
                [a, b] => Ok(self.text_at(a, depth + 1)? == self.text_at(b, depth + 1)?),
                _ => fail(node.line, "Fn::Equals takes two values"),
            },
            "Fn::Not" => match items()? {
                [inner] => Ok(!self.condition(inner, depth + 1)?),
                _ => fail(node.line, "Fn::Not takes one condition"),
            },
            "Fn::And" => items()?
                .iter()
                .try_fold(true, |all, c| Ok(all & self.condition(c, depth + 1)?)),
            "Fn::Or" => items()?
                .iter()
                .try_fold(false, |any, c| Ok(any | self.condition(c, depth + 1)?)),
            other => fail(node.line, format!("{other} is not a condition function")),
        }
    }
}

/// The items of a list of exactly `N`.
fn arguments<const N: usize>(argument: &Node) -> Option<&[Node; N]> {
    match &argument.value {
        Value::List(items) => items.as_slice().try_into().ok(),
        _ => None,
    }
}

fn name_line(root: &Node) -> usize {
    root.get("Conditions").map_or(1, |c| c.line)
}

/// A resource's `Type`.
pub fn resource_type(resource: &Node) -> &str {
    match resource.get("Type").map(|t| &t.value) {
        Some(Value::Text(kind)) => kind,
        _ => "",
    }
}

/// The ARN AWS gives a resource of `kind` named `name`, in the local account and region.
pub fn arn(kind: &str, name: &str) -> String {
    match kind {
        "AWS::S3::Bucket" => format!("arn:aws:s3:::{name}"),
        "AWS::Kinesis::Stream" => format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"),
        "AWS::KinesisFirehose::DeliveryStream" => {
            format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}")
        }
        "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
            format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
        }
        "AWS::IAM::Role" => format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        "AWS::Logs::LogGroup" => format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"),
        "AWS::KMS::Key" => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"),
        other => {
            let service = other.split("::").nth(1).unwrap_or("unknown").to_lowercase();
            format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse;
    use super::*;

    const TEMPLATE: &str = "
Parameters:
  Name: { Type: String, Default: s1 }
  Mode: { Type: String, Default: A, AllowedValues: [A, B] }
Conditions:
  IsB: !Equals [!Ref Mode, B]
  NotB: !Not [!Condition IsB]
Mappings:
  Sizes: { A: { MB: '1' } }
Resources:
  Bucket: { Type: AWS::S3::Bucket }
  Stream: { Type: AWS::Kinesis::Stream, Properties: { Name: !Sub '${Name}-x' } }
";

    fn eval(expression: &str, overrides: &[(&str, &str)]) -> Result<Option<Node>, EvalError> {
        let root = parse(TEMPLATE).unwrap();
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let context = Context::new(&root, &overrides)?;
        context.resolve(
            &parse(&format!("v: {expression}"))
                .unwrap()
                .get("v")
                .unwrap()
                .clone(),
        )
    }

    fn text(expression: &str) -> String {
        eval(expression, &[]).unwrap().unwrap().scalar().unwrap()
    }

    #[test]
    fn references_and_attributes_take_aws_shapes() {
        assert_eq!(text("!Ref Name"), "s1");
        assert_eq!(text("!Ref Bucket"), "local-bucket");
        assert_eq!(
            text("!GetAtt Stream.Arn"),
            "arn:aws:kinesis:us-east-1:123456789012:stream/s1-x"
        );
        assert_eq!(
            text("!Sub '${AWS::Region}/${Bucket.Arn}/${!Keep}'"),
            "us-east-1/arn:aws:s3:::local-bucket/${Keep}"
        );
        assert_eq!(text("!Join [',', [a, !Ref Name]]"), "a,s1");
        assert_eq!(text("!Select [1, [a, b]]"), "b");
        assert_eq!(text("!FindInMap [Sizes, A, MB]"), "1");
        assert_eq!(text("!Sub ['${X}!', { X: !Ref Name }]"), "s1!");
    }

    #[test]
    fn conditions_choose_and_no_value_disappears() {
        assert_eq!(text("!If [IsB, b, a]"), "a");
        assert_eq!(text("!If [NotB, yes, no]"), "yes");
        assert_eq!(eval("!If [IsB, b, !Ref AWS::NoValue]", &[]).unwrap(), None);
        let both = eval("[x, !If [IsB, b, !Ref AWS::NoValue]]", &[])
            .unwrap()
            .unwrap();
        assert!(matches!(both.value, Value::List(items) if items.len() == 1));
        let b = eval("!If [IsB, b, a]", &[("Mode", "B")]).unwrap().unwrap();
        assert_eq!(b.scalar().as_deref(), Some("b"));
    }

    #[test]
    fn mistakes_name_their_line() {
        assert!(
            eval("x", &[("Mode", "C")])
                .unwrap_err()
                .message
                .contains("AllowedValues")
        );
        assert!(
            eval("x", &[("Nope", "1")])
                .unwrap_err()
                .message
                .contains("no parameter Nope")
        );
        let error = eval("!Ref Missing", &[]).unwrap_err();
        assert!(error.message.contains("Missing"), "{error:?}");
        assert!(
            eval("!GetAZs ''", &[])
                .unwrap_err()
                .message
                .contains("not supported")
        );
    }
}
