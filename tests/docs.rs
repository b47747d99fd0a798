//! The guide (`README.md` and `docs/`) is the truth: its settings tables are
//! generated from the declarations, its examples run through the real
//! binaries, and its links between pages point somewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use firehose_e2e::{answers, binary, gzip, invocation_logs, kinesis_event, read, repo, start};
use firehose_pipeline::STEPS;
use firehose_transform::Outcome;
use firehose_transform::transforms::chain;
use firehose_transform::{lambda, settings};
use serde_json::Value;

/// Every page of the guide, by its path from the repository: the README, then `docs/` (not the built book).
fn pages() -> Vec<(String, String)> {
    fn under(folder: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("book") {
                under(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    under(&repo().join("docs"), &mut found);
    found.sort();
    std::iter::once("README.md".to_owned())
        .chain(
            found
                .iter()
                .map(|p| p.strip_prefix(repo()).unwrap().to_str().unwrap().to_owned()),
        )
        .map(|page| {
            let text = String::from_utf8(read(&page)).unwrap();
            (page, text)
        })
        .collect()
}

#[test]
fn the_settings_tables_are_generated_from_the_declarations() {
    let mut groups = vec![
        ("common", &lambda::COMMON_SETTINGS),
        ("pipeline", &chain::SETTINGS),
    ];
    groups.extend(STEPS.iter().map(|s| (s.name, s.settings)));
    let pages = pages();
    for (name, group) in groups {
        let start = format!("<!-- settings:{name} -->");
        let end = format!("<!-- /settings:{name} -->");
        let (page, text) = pages
            .iter()
            .find(|(_, text)| text.contains(&start))
            .unwrap_or_else(|| panic!("no page of the guide has the {name} settings table"));
        let table = settings::markdown_table(group);
        let block = format!("{start}\n{table}{end}");
        if std::env::var_os("UPDATE_GOLDEN").is_some() && !text.contains(&block) {
            let (before, rest) = text.split_once(&start).unwrap();
            let (_, after) = rest.split_once(&end).expect("the table's end marker");
            std::fs::write(repo().join(page), format!("{before}{block}{after}")).unwrap();
            return the_settings_tables_are_generated_from_the_declarations();
        }
        assert!(
            text.contains(&block),
            "{page}: the {name} settings table is out of date: run with UPDATE_GOLDEN=1"
        );
    }
}

/// The GitHub anchor of a heading: lower case, spaces to `-`, punctuation but `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (not of `#` lines in code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// The targets of a page's Markdown links `[text](target)` that are not web addresses.
fn local_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with("mailto:") && !target.contains(' ') {
            links.push(target.to_owned());
        }
    }
    links
}

#[test]
fn every_link_between_pages_points_to_a_file_and_a_heading_that_exist() {
    let pages = pages();
    let mut broken = Vec::new();
    for (page, text) in &pages {
        let folder = Path::new(page).parent().unwrap();
        for link in local_links(text) {
            let (file, heading) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                PathBuf::from(page)
            } else {
                folder.join(file)
            };
            let Ok(target_text) = std::fs::read_to_string(repo().join(&target)) else {
                if !repo().join(&target).exists() {
                    broken.push(format!("{page}: {link}: no such file"));
                }
                continue;
            };
            if !heading.is_empty() && !anchors(&target_text).contains(heading) {
                broken.push(format!("{page}: {link}: no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_docs_is_in_the_book_s_summary() {
    let summary = String::from_utf8(read("docs/SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = local_links(&summary).into_iter().collect();
    for (page, _) in pages() {
        let Some(in_docs) = page.strip_prefix("docs/") else {
            continue;
        };
        if in_docs != "SUMMARY.md" {
            assert!(
                listed.contains(in_docs),
                "docs/SUMMARY.md does not list {page}"
            );
        }
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
fn every_example_of_the_guide_is_what_the_binary_does() {
    let examples: Vec<Example> = pages()
        .iter()
        .flat_map(|(_, text)| examples(text))
        .collect();
    let names = STEPS.iter().map(|b| b.name).chain(["pipeline"]);
    for name in names {
        assert!(
            examples
                .iter()
                .any(|e| e.binary == format!("firehose-{name}")),
            "the guide has no example of firehose-{name}"
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
