//! The README's settings tables and examples are the truth: generated from the
//! declarations, and run through the real binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{answers, binary, gzip, invocation_logs, kinesis_event, read, repo, start};
use firehose_pipeline::STEPS;
use firehose_transform::Outcome;
use firehose_transform::transforms::chain;
use firehose_transform::{lambda, settings};
use serde_json::Value;

#[test]
fn the_readme_settings_tables_are_generated_from_the_declarations() {
    let readme = String::from_utf8(read("README.md")).unwrap();
    let mut groups = vec![
        ("common", &lambda::COMMON_SETTINGS),
        ("pipeline", &chain::SETTINGS),
    ];
    groups.extend(STEPS.iter().map(|s| (s.name, s.settings)));
    for (name, group) in groups {
        let table = settings::markdown_table(group);
        let block = format!("<!-- settings:{name} -->\n{table}<!-- /settings:{name} -->");
        if std::env::var_os("UPDATE_GOLDEN").is_some() && !readme.contains(&block) {
            let start = format!("<!-- settings:{name} -->");
            let end = format!("<!-- /settings:{name} -->");
            let (before, rest) = readme
                .split_once(&start)
                .expect("README has the table's start marker");
            let (_, after) = rest
                .split_once(&end)
                .expect("README has the table's end marker");
            std::fs::write(repo().join("README.md"), format!("{before}{block}{after}")).unwrap();
            return the_readme_settings_tables_are_generated_from_the_declarations();
        }
        assert!(
            readme.contains(&block),
            "README's {name} settings table is out of date: run with UPDATE_GOLDEN=1"
        );
    }
}

/// One `<!-- example:BINARY -->` block: settings, then records in and what comes out.
struct Example {
    binary: String,
    settings: Vec<(String, String)>,
    cases: Vec<Case>,
}

#[derive(Default)]
struct Case {
    input: String,
    /// `in (gzip):`: the record is the input gzipped, as CloudWatch Logs sends it.
    gzip: bool,
    /// `Dropped`, `ProcessingFailed: reason`, or the data (its final `\n` not
    /// shown); data of several lines takes an `out:` line each.
    output: String,
    /// `name=value, name=value`, or empty.
    keys: String,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    for block in readme.split("<!-- example:").skip(1) {
        let (binary, rest) = block.split_once(" -->\n```text\n").unwrap();
        let (body, _) = rest.split_once("\n```").unwrap();
        let mut example = Example {
            binary: binary.to_owned(),
            settings: Vec::new(),
            cases: Vec::new(),
        };
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(input) = line.strip_prefix("in:") {
                example.cases.push(Case {
                    input: input.trim_start().to_owned(),
                    ..Case::default()
                });
            } else if let Some(input) = line.strip_prefix("in (gzip):") {
                example.cases.push(Case {
                    input: input.trim_start().to_owned(),
                    gzip: true,
                    ..Case::default()
                });
            } else if let Some(output) = line.strip_prefix("out:") {
                let case = example.cases.last_mut().unwrap();
                if !case.output.is_empty() {
                    case.output.push('\n');
                }
                case.output += output.trim_start();
            } else if let Some(keys) = line.strip_prefix("keys:") {
                example.cases.last_mut().unwrap().keys = keys.trim_start().to_owned();
            } else {
                let (name, value) = line.split_once('=').unwrap();
                example.settings.push((name.to_owned(), value.to_owned()));
            }
        }
        examples.push(example);
    }
    examples
}

#[test]
fn every_readme_example_is_what_the_binary_does() {
    let readme = String::from_utf8(read("README.md")).unwrap();
    let examples = examples(&readme);
    let names = STEPS.iter().map(|b| b.name).chain(["pipeline"]);
    for name in names {
        assert!(
            examples
                .iter()
                .any(|e| e.binary == format!("firehose-{name}")),
            "the README has no example of firehose-{name}"
        );
    }
    for example in examples {
        let env: Vec<(&str, &str)> = example
            .settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut function = start(&binary(&example.binary), &env);
        let records: Vec<Vec<u8>> = example
            .cases
            .iter()
            .map(|c| match c.gzip {
                true => gzip(c.input.as_bytes()),
                false => c.input.as_bytes().to_vec(),
            })
            .collect();
        let inputs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let reply = function.invoke(&kinesis_event(&inputs)).unwrap();
        let firehose_local::Reply::Response(response) = reply else {
            panic!("{}: {reply:?}\n{:#?}", example.binary, function.logs());
        };
        let reasons: Vec<Value> = invocation_logs(&function, 0)
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l["message"] == "record failed")
            .collect();
        let answers = answers(&response);
        assert_eq!(
            answers.len(),
            example.cases.len(),
            "{}: one answer per example case",
            example.binary
        );
        for (i, (case, answer)) in example.cases.iter().zip(answers).enumerate() {
            let shown = match answer.result {
                Outcome::Ok => String::from_utf8(answer.data.clone())
                    .unwrap()
                    .trim_end_matches('\n')
                    .to_owned(),
                Outcome::Dropped => "Dropped".to_owned(),
                Outcome::ProcessingFailed => {
                    let reason = reasons
                        .iter()
                        .find(|l| l["record_id"] == format!("r{i}").as_str())
                        .map(|l| l["reason"].as_str().unwrap().to_owned())
                        .unwrap_or_default();
                    format!("ProcessingFailed: {reason}")
                }
            };
            let keys: Vec<String> = answer
                .keys
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            assert_eq!(
                (shown.as_str(), keys.join(", ").as_str()),
                (case.output.as_str(), case.keys.as_str()),
                "{} example, record {i}: {}",
                example.binary,
                case.input
            );
        }
    }
}
