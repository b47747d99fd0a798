//! `normalize`'s one pass against its `serde_json` tree, differentially: the
//! same record through the step twice, once as bytes (the one pass, which
//! gives up to the tree where the tree must decide) and once already parsed
//! (the tree alone). Both must fail, or both write the same bytes.

use std::sync::OnceLock;

use firehose_transform::settings::{Env, Settings};
use firehose_transform::transforms::normalize::{self, Normalize};
use firehose_transform::{Record, Transform};

/// Settings that steer the one pass down each of its paths.
const SETTINGS: &[&[(&str, &str)]] = &[
    &[],
    &[
        ("NORMALIZE_KEEP_CASE", "true"),
        ("NORMALIZE_SEPARATOR", "."),
        ("NORMALIZE_REPLACE_DOTS", "false"),
        ("NORMALIZE_FLATTEN_DEPTH", "1"),
    ],
    &[
        ("NORMALIZE_SAFE_KEYS", "false"),
        ("NORMALIZE_RENAME", "a_b=ab,user_id=uid"),
        ("NORMALIZE_TIMESTAMP_FIELDS", "ts,at"),
        ("NORMALIZE_TIMESTAMP_FORMAT", "epoch_millis"),
        ("NORMALIZE_EPOCH_UNIT", "seconds"),
        ("NORMALIZE_ON_COLLISION", "fail"),
    ],
    &[
        ("NORMALIZE_SEPARATOR", "__"),
        ("NORMALIZE_TIMESTAMP_FIELDS", "time"),
        ("NORMALIZE_TIMESTAMP_FORMAT", "hive"),
        ("NORMALIZE_NEWLINE", "false"),
    ],
];

/// The first byte chooses the settings; the rest is the record.
pub fn run(data: &[u8]) {
    static STEPS: OnceLock<Vec<Normalize>> = OnceLock::new();
    let steps = STEPS.get_or_init(|| SETTINGS.iter().map(|env| step(env)).collect());
    let (chosen, record) = crate::choose(data, SETTINGS.len());
    let step = &steps[chosen];

    let mut one_pass = Record::detached(record);
    let one_pass_result = step.apply(&mut one_pass).map(|_| one_pass.bytes().to_vec());

    let mut tree = Record::detached(record);
    let tree_result = match tree.json_value() {
        Ok(_) => step.apply(&mut tree).map(|_| tree.bytes().to_vec()),
        Err(e) => Err(e),
    };

    match (one_pass_result, tree_result) {
        (Ok(one_pass), Ok(tree)) => assert!(
            one_pass == tree,
            "the one pass wrote {} where the tree wrote {}",
            String::from_utf8_lossy(&one_pass),
            String::from_utf8_lossy(&tree)
        ),
        (Err(_), Err(_)) => {}
        (one_pass, tree) => {
            panic!("the one pass and the tree disagree: {one_pass:?} against {tree:?}")
        }
    }
}

fn step(env: &[(&'static str, &'static str)]) -> Normalize {
    let settings = Settings::load(
        Env::from_pairs(env.iter().copied()),
        &[&normalize::SETTINGS],
    );
    match settings.and_then(|settings| Normalize::from_settings(&settings)) {
        Ok(step) => step,
        Err(e) => panic!("the fuzzed normalize settings are refused: {e}"),
    }
}
