//! `template.yaml` against the Firehose rules no linter checks, and its Glue
//! table against what the function it deploys really emits.
//!
//! Each rule has a name; a broken template fails with a message naming it, and
//! the mutation test breaks each rule once to prove the check can fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use firehose_e2e::{answers, binary, kinesis_event, read, repo};
use firehose_transform::Outcome;
use serde_norway::Value;

fn template() -> String {
    String::from_utf8(read("template.yaml")).unwrap()
}

/// A value with CloudFormation's short-form tag, if any, taken off.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(|v| v.as_str())
}

/// The resources of a type, by logical id.
fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| text(r.get("Type")) == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap(), &r["Properties"]))
        .collect()
}

/// A number written literally, or a `!Ref` to a parameter: then its default
/// and its allowed range, all of which must obey the rule.
fn numbers(t: &Value, value: &Value) -> Vec<(String, f64)> {
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => {
            let name = tagged.value.as_str().unwrap_or_default();
            let parameter = &t["Parameters"][name];
            ["Default", "MinValue", "MaxValue"]
                .iter()
                .filter_map(|k| Some((format!("{name}.{k}"), number(parameter.get(*k)?)?)))
                .collect()
        }
        other => number(other)
            .map(|n| vec![("value".to_owned(), n)])
            .unwrap_or_default(),
    }
}

const NAMESPACES: &[&str] = &[
    "timestamp",
    "firehose",
    "partitionKeyFromQuery",
    "partitionKeyFromLambda",
];

/// Every `!{namespace:value}` in a prefix.
fn expressions(prefix: &str) -> Vec<(&str, &str)> {
    prefix
        .split("!{")
        .skip(1)
        .map(|rest| {
            let inner = rest.split('}').next().unwrap_or_default();
            inner.split_once(':').unwrap_or((inner, ""))
        })
        .collect()
}

/// The broken rules of a template, each message starting with the rule's name.
fn violations(template: &str) -> Vec<String> {
    let t: Value = serde_norway::from_str(template).unwrap();
    let mut found = Vec::new();
    let mut rule = |name: &str, broken: bool, why: String| {
        if broken {
            found.push(format!("[{name}] {why}"));
        }
    };
    for (id, stream) in resources(&t, "AWS::KinesisFirehose::DeliveryStream") {
        let s3 = &stream["ExtendedS3DestinationConfiguration"];
        let prefix = text(s3.get("Prefix")).unwrap_or_default();
        let error_prefix = text(s3.get("ErrorOutputPrefix"));
        let dynamic = s3["DynamicPartitioningConfiguration"]["Enabled"].as_bool() == Some(true);
        rule(
            "dynamic-partitioning",
            prefix.contains("!{partitionKeyFrom") && !dynamic,
            format!(
                "{id}: the Prefix uses partition keys but DynamicPartitioningConfiguration is not enabled"
            ),
        );
        rule(
            "error-prefix-required",
            prefix.contains("!{") && error_prefix.is_none(),
            format!("{id}: a Prefix with expressions needs an ErrorOutputPrefix"),
        );
        if let Some(error_prefix) = error_prefix {
            rule(
                "error-prefix-type",
                !error_prefix.contains("!{firehose:error-output-type}"),
                format!("{id}: the ErrorOutputPrefix needs !{{firehose:error-output-type}}"),
            );
            rule(
                "error-prefix-no-partition-keys",
                error_prefix.contains("!{partitionKeyFrom"),
                format!("{id}: the ErrorOutputPrefix cannot use partition keys"),
            );
        }
        for (where_, p) in [
            ("Prefix", Some(prefix)),
            ("ErrorOutputPrefix", error_prefix),
        ] {
            for (namespace, value) in expressions(p.unwrap_or_default()) {
                let known = NAMESPACES.contains(&namespace)
                    && (namespace != "firehose"
                        || value == "random-string"
                        || (value == "error-output-type" && where_ == "ErrorOutputPrefix"));
                rule(
                    "known-namespaces",
                    !known,
                    format!(
                        "{id}: {where_} has !{{{namespace}:{value}}}, which Firehose does not know there"
                    ),
                );
            }
        }
        let processors = s3["ProcessingConfiguration"]["Processors"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        rule(
            "one-lambda-processor",
            processors.len() != 1 || text(processors[0].get("Type")) != Some("Lambda"),
            format!("{id}: needs exactly one processor, of Type Lambda"),
        );
        for processor in &processors {
            for parameter in processor["Parameters"].as_sequence().into_iter().flatten() {
                let (min, max) = match text(parameter.get("ParameterName")) {
                    Some("BufferSizeInMBs") => (0.2, 3.0),
                    Some("BufferIntervalInSeconds") => (0.0, 900.0),
                    _ => continue,
                };
                for (what, n) in numbers(&t, &parameter["ParameterValue"]) {
                    rule(
                        "processor-buffer-range",
                        !(min..=max).contains(&n),
                        format!("{id}: processor buffer {what} = {n} is outside {min}-{max}"),
                    );
                }
            }
        }
        if s3["DataFormatConversionConfiguration"]["Enabled"].as_bool() == Some(true) {
            rule(
                "format-conversion-uncompressed",
                text(s3.get("CompressionFormat")) != Some("UNCOMPRESSED"),
                format!("{id}: format conversion needs CompressionFormat UNCOMPRESSED"),
            );
            for (what, n) in numbers(&t, &s3["BufferingHints"]["SizeInMBs"]) {
                rule(
                    "format-conversion-buffer",
                    n < 64.0,
                    format!(
                        "{id}: format conversion needs S3 buffering of at least 64 MB, {what} = {n}"
                    ),
                );
            }
        }
    }
    let global_timeout = &t["Globals"]["Function"]["Timeout"];
    for (id, function) in resources(&t, "AWS::Serverless::Function") {
        let timeout = function.get("Timeout").unwrap_or(global_timeout);
        for (what, n) in numbers(&t, timeout) {
            rule(
                "function-timeout",
                n > 300.0,
                format!("{id}: Timeout {what} = {n} is past Firehose's 5-minute wait"),
            );
        }
    }
    for (id, role) in resources(&t, "AWS::IAM::Role") {
        let statements = role["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|p| {
                p["PolicyDocument"]["Statement"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
            });
        for statement in statements {
            // A conditional statement (`!If [cond, statement, NoValue]`) is checked as its statement.
            let statement = match untagged(statement) {
                Value::Sequence(branches) => branches.get(1).unwrap_or(statement),
                other => other,
            };
            let actions = match &statement["Action"] {
                Value::Sequence(list) => list.iter().filter_map(Value::as_str).collect(),
                Value::String(one) => vec![one.as_str()],
                _ => vec![],
            };
            for action in actions {
                rule(
                    "no-wildcard-actions",
                    action.contains('*'),
                    format!("{id}: action {action} is a wildcard"),
                );
            }
        }
    }
    found
}

#[test]
fn the_template_keeps_every_firehose_rule() {
    assert_eq!(violations(&template()), Vec::<String>::new());
}

#[test]
fn each_rule_broken_once_is_named() {
    let mutations = [
        (
            "dynamic-partitioning",
            "rawdata/!{timestamp:yyyy}/",
            "rawdata/!{partitionKeyFromLambda:customer}/!{timestamp:yyyy}/",
        ),
        (
            "error-prefix-required",
            "        ErrorOutputPrefix: \"errors/",
            "        NotErrorOutputPrefix: \"errors/",
        ),
        (
            "error-prefix-type",
            "\"errors/!{firehose:error-output-type}/",
            "\"errors/",
        ),
        (
            "error-prefix-no-partition-keys",
            "\"errors/!{firehose:error-output-type}/",
            "\"errors/!{firehose:error-output-type}/!{partitionKeyFromLambda:customer}/",
        ),
        (
            "known-namespaces",
            "rawdata/!{timestamp:yyyy}/",
            "rawdata/!{timestmp:yyyy}/",
        ),
        (
            "known-namespaces",
            "rawdata/!{timestamp:yyyy}/",
            "rawdata/!{firehose:error-output-type}/",
        ),
        (
            "format-conversion-uncompressed",
            "CompressionFormat: UNCOMPRESSED",
            "CompressionFormat: GZIP",
        ),
        (
            "format-conversion-buffer",
            "    MinValue: 64\n",
            "    MinValue: 1\n",
        ),
        (
            "processor-buffer-range",
            "    MaxValue: 3\n",
            "    MaxValue: 6\n",
        ),
        (
            "processor-buffer-range",
            "    Default: 60\n    MinValue: 0\n    MaxValue: 900\n",
            "    Default: 60\n    MinValue: 0\n    MaxValue: 1000\n",
        ),
        (
            "one-lambda-processor",
            "            - Type: Lambda\n",
            "            - Type: RecordDeAggregation\n",
        ),
        (
            "function-timeout",
            "    Timeout: 60\n",
            "    Timeout: 900\n",
        ),
        (
            "no-wildcard-actions",
            "kinesis:DescribeStream,",
            "kinesis:*,",
        ),
    ];
    let original = template();
    for (rule, from, to) in mutations {
        assert_eq!(
            original.matches(from).count(),
            1,
            "{rule}: {from:?} must occur once"
        );
        let found = violations(&original.replacen(from, to, 1));
        assert!(
            found.iter().any(|v| v.starts_with(&format!("[{rule}]"))),
            "{rule}: not caught; found {found:?}"
        );
    }
}

/// The Glue table's columns, lower-cased (the OpenX SerDe is told to match case-insensitively).
fn glue_columns(t: &Value) -> Vec<(String, String)> {
    let (_, table) = resources(t, "AWS::Glue::Table").pop().unwrap();
    table["TableInput"]["StorageDescriptor"]["Columns"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["Name"].as_str().unwrap().to_ascii_lowercase(),
                c["Type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_deployed_function_emits_exactly_what_the_glue_table_expects() {
    let t: Value = serde_norway::from_str(&template()).unwrap();
    let (_, stream) = resources(&t, "AWS::KinesisFirehose::DeliveryStream")
        .pop()
        .unwrap();
    let lambda_arn = &stream["ExtendedS3DestinationConfiguration"]["ProcessingConfiguration"]["Processors"]
        [0]["Parameters"][0]["ParameterValue"];
    // `!GetAtt PipelineFunction.Arn`: the function the stream invokes.
    let function_id = untagged(lambda_arn)
        .as_str()
        .unwrap()
        .trim_end_matches(".Arn");
    let function = &t["Resources"][function_id];
    let binary_name = function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .unwrap();
    let env: Vec<(&str, &str)> = function["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
        .collect();
    let lines = String::from_utf8(read("tests/fixtures/demo/stock-ticker.ndjson")).unwrap();
    let records: Vec<&[u8]> = lines.lines().map(str::as_bytes).collect();
    // As a user would check it: `firehose-local invoke` with the template's settings.
    let dir = std::env::temp_dir().join(format!("glue-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (event_file, response_file) = (dir.join("event.json"), dir.join("response.json"));
    std::fs::write(&event_file, kinesis_event(&records)).unwrap();
    let function = binary_name.strip_prefix("firehose-").unwrap();
    let mut command = Command::new(binary("firehose-local"));
    command.args(["invoke", "--function", function, "--event"]);
    command.arg(&event_file).arg("--output").arg(&response_file);
    for (k, v) in &env {
        command.arg("--env").arg(format!("{k}={v}"));
    }
    let run = command.output().unwrap();
    assert!(
        run.status.success(),
        "firehose-local found a contract breach:\n{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let answers = answers(&std::fs::read(&response_file).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    let columns = glue_columns(&t);
    let mut ok = 0;
    for (record, answer) in lines.lines().zip(&answers) {
        if answer.result != Outcome::Ok {
            continue;
        }
        ok += 1;
        assert!(answer.data.ends_with(b"}\n"), "one JSON object per line");
        let value: serde_json::Value = serde_json::from_slice(&answer.data).unwrap();
        let object = value.as_object().unwrap();
        for (key, value) in object {
            let column = columns.iter().find(|(name, _)| name == key);
            let Some((_, kind)) = column else {
                panic!(
                    "{record}: emitted key {key} has no Glue column, so Parquet conversion would drop it"
                );
            };
            let fits = match kind.as_str() {
                "string" => value.is_string(),
                "double" | "float" | "decimal" => value.is_number(),
                "bigint" | "int" => value.is_i64(),
                "boolean" => value.is_boolean(),
                // The OpenX SerDe reads ISO 8601 with `Z` and epoch milliseconds.
                "timestamp" => value.as_str().is_some_and(|s| s.ends_with('Z')) || value.is_i64(),
                other => panic!("column type {other} is not checked yet"),
            };
            assert!(
                fits,
                "{record}: {key} = {value} does not fit the {kind} column"
            );
        }
        for (name, _) in &columns {
            assert!(
                object.contains_key(name),
                "{record}: column {name} is never filled"
            );
        }
    }
    assert_eq!(ok, 6, "the six good demo records go through");
    let failed: Vec<Outcome> = answers[6..].iter().map(|a| a.result).collect();
    assert_eq!(failed, [Outcome::Dropped, Outcome::ProcessingFailed]);
}

/// A tool the README's set-up installed into `.venv`.
fn venv_tool(name: &str) -> PathBuf {
    let path = repo().join(".venv/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the README's set-up first (`python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt`)",
        path.display()
    );
    path
}

/// Runs a `.venv` tool offline; its output when it fails.
fn run(tool: &str, args: &[&Path]) -> Result<(), String> {
    let output = Command::new(venv_tool(tool))
        .args(args)
        .current_dir(repo())
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{tool} {args:?}: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// cfn-lint on the SAM template, after SAM's own translation (which cfn-lint
/// 1.58 does not do, so it misses function and IAM mistakes), and `sam validate --lint`.
fn lint(template: &Path) -> Vec<String> {
    let expanded = template.with_extension("expanded.json");
    let translate = Path::new("tests/sam_translate.py");
    [
        run("cfn-lint", &[template]),
        run(
            "sam",
            &[
                Path::new("validate"),
                Path::new("--lint"),
                Path::new("-t"),
                template,
            ],
        ),
        run("python", &[translate, template, &expanded])
            .and_then(|()| run("cfn-lint", &[&expanded])),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect()
}

#[test]
fn cfn_lint_sam_validate_and_the_lint_after_translation_pass() {
    let copy = std::env::temp_dir().join(format!("template-{}.yaml", std::process::id()));
    std::fs::write(&copy, template()).unwrap();
    assert_eq!(lint(&copy), Vec::<String>::new());
}

#[test]
fn the_lint_after_translation_sees_what_plain_cfn_lint_misses() {
    let broken = template()
        .replacen("    Timeout: 60\n", "    Timeout: 1000\n", 1)
        .replacen("kinesis:GetRecords,", "kinesis:GetRecord,", 1);
    let copy = std::env::temp_dir().join(format!("broken-template-{}.yaml", std::process::id()));
    std::fs::write(&copy, broken).unwrap();
    let failures = lint(&copy).join("\n");
    assert!(
        failures.contains("E3717"),
        "the timeout is not caught: {failures}"
    );
    assert!(
        failures.contains("W3037 'getrecord'"),
        "the action is not caught: {failures}"
    );
}
