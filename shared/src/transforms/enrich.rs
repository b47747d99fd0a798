//! `enrich`: adds static fields and record metadata to each JSON object.
//!
//! Fields are added after the record's own keys. A key the record already has
//! keeps its value unless `ENRICH_OVERWRITE` is on. Metadata the event does not
//! carry (shard id on a Direct PUT stream, say) is left out rather than written
//! as `null`, which the OpenX SerDe reads the same way.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{Declared, Flag, Parse, Setting, SettingError, SettingGroup, Settings, Text};
use crate::transforms::timestamp::{UtcForm, utc_text};

pub const FIELDS: Setting<JsonObject> = Setting {
    name: "ENRICH_FIELDS",
    default: None,
    doc: "A JSON object of static fields to add, e.g. `{\"env\":\"prod\",\"team\":\"data\"}`.",
    parser: JsonObject,
};

/// Where a metadata field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metadata {
    ArrivalTime,
    ArrivalEpochMillis,
    DeliveryStream,
    Region,
    SourceStream,
    ShardId,
    PartitionKey,
    SequenceNumber,
    InvocationId,
}

const FIELD_NAME: Text = Text { max_len: 255 };

macro_rules! metadata_setting {
    ($const:ident, $name:literal, $doc:literal) => {
        pub const $const: Setting<Text> = Setting {
            name: $name,
            default: None,
            doc: $doc,
            parser: FIELD_NAME,
        };
    };
}

metadata_setting!(
    ARRIVAL_TIME_FIELD,
    "ENRICH_ARRIVAL_TIME_FIELD",
    "Add when Firehose received the record, ISO 8601 UTC (`2024-05-01T12:30:00.123Z`), under this name."
);
metadata_setting!(
    ARRIVAL_EPOCH_MS_FIELD,
    "ENRICH_ARRIVAL_EPOCH_MS_FIELD",
    "Add when Firehose received the record, in epoch milliseconds, under this name."
);
metadata_setting!(
    DELIVERY_STREAM_FIELD,
    "ENRICH_DELIVERY_STREAM_FIELD",
    "Add the delivery stream's name under this name."
);
metadata_setting!(
    REGION_FIELD,
    "ENRICH_REGION_FIELD",
    "Add the AWS Region (from the event, else the stream's ARN) under this name."
);
metadata_setting!(
    SOURCE_STREAM_FIELD,
    "ENRICH_SOURCE_STREAM_FIELD",
    "Add the source Kinesis data stream's name under this name (streams reading one only)."
);
metadata_setting!(
    SHARD_ID_FIELD,
    "ENRICH_SHARD_ID_FIELD",
    "Add the Kinesis shard id under this name (streams reading a data stream only)."
);
metadata_setting!(
    PARTITION_KEY_FIELD,
    "ENRICH_PARTITION_KEY_FIELD",
    "Add the Kinesis partition key the producer used under this name (streams reading a data stream only)."
);
metadata_setting!(
    SEQUENCE_NUMBER_FIELD,
    "ENRICH_SEQUENCE_NUMBER_FIELD",
    "Add the Kinesis sequence number under this name (streams reading a data stream only)."
);
metadata_setting!(
    INVOCATION_ID_FIELD,
    "ENRICH_INVOCATION_ID_FIELD",
    "Add the Firehose invocation id, shared by the records of one batch, under this name."
);

pub const OVERWRITE: Setting<Flag> = Setting {
    name: "ENRICH_OVERWRITE",
    default: Some("false"),
    doc: "Replace a key the record already has; by default the record's own value is kept.",
    parser: Flag,
};

/// Each metadata setting and the value it adds.
const METADATA: [(&Setting<Text>, Metadata); 9] = [
    (&ARRIVAL_TIME_FIELD, Metadata::ArrivalTime),
    (&ARRIVAL_EPOCH_MS_FIELD, Metadata::ArrivalEpochMillis),
    (&DELIVERY_STREAM_FIELD, Metadata::DeliveryStream),
    (&REGION_FIELD, Metadata::Region),
    (&SOURCE_STREAM_FIELD, Metadata::SourceStream),
    (&SHARD_ID_FIELD, Metadata::ShardId),
    (&PARTITION_KEY_FIELD, Metadata::PartitionKey),
    (&SEQUENCE_NUMBER_FIELD, Metadata::SequenceNumber),
    (&INVOCATION_ID_FIELD, Metadata::InvocationId),
];

/// The settings of `firehose-enrich`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "ENRICH_",
    settings: &[
        &FIELDS,
        &ARRIVAL_TIME_FIELD,
        &ARRIVAL_EPOCH_MS_FIELD,
        &DELIVERY_STREAM_FIELD,
        &REGION_FIELD,
        &SOURCE_STREAM_FIELD,
        &SHARD_ID_FIELD,
        &PARTITION_KEY_FIELD,
        &SEQUENCE_NUMBER_FIELD,
        &INVOCATION_ID_FIELD,
        &OVERWRITE,
    ],
};

/// Adds static fields and metadata to JSON objects.
pub struct Enrich {
    fields: Map<String, Value>,
    metadata: Vec<(String, Metadata)>,
    overwrite: bool,
}

impl Enrich {
    /// Reads the `ENRICH_` settings; at least one field must be asked for.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let fields = settings.optional(&FIELDS)?.unwrap_or_default();
        let mut metadata = Vec::new();
        for (setting, source) in METADATA {
            if let Some(name) = settings.optional(setting)? {
                if fields.contains_key(&name) || metadata.iter().any(|(n, _)| *n == name) {
                    return Err(SettingError::Conflict(format!(
                        "{}={name:?} names a field that another ENRICH_ setting also adds",
                        setting.name()
                    )));
                }
                metadata.push((name, source));
            }
        }
        if fields.is_empty() && metadata.is_empty() {
            return Err(SettingError::Missing {
                name: FIELDS.name,
                hint: "enrich adds nothing: set ENRICH_FIELDS (a JSON object of static fields) and/or \
                       an ENRICH_*_FIELD setting naming a metadata field, e.g. ENRICH_ARRIVAL_TIME_FIELD=arrived_at"
                    .to_owned(),
            });
        }
        Ok(Enrich {
            fields,
            metadata,
            overwrite: settings.get(&OVERWRITE)?,
        })
    }
}

impl Transform for Enrich {
    fn name(&self) -> &str {
        "enrich"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let values: Vec<(&str, Value)> = self
            .metadata
            .iter()
            .filter_map(|(name, source)| Some((name.as_str(), metadata(record, *source)?)))
            .collect();
        let statics = self.fields.iter().map(|(k, v)| (k.as_str(), v.clone()));
        let fields = statics.chain(values).map(|(k, v)| (k.to_owned(), v));
        if self.overwrite {
            let object = record.json_object()?;
            object.extend(fields);
        } else {
            record.add_json_fields(fields)?;
        }
        Ok(Verdict::Keep)
    }
}

fn metadata(record: &Record<'_>, source: Metadata) -> Option<Value> {
    let text = |s: Option<&str>| s.map(|s| Value::String(s.to_owned()));
    let kinesis = record.kinesis();
    match source {
        Metadata::ArrivalTime => {
            // Always three fraction digits: arrival times are milliseconds, and sort as text.
            let at = Timestamp::from_millisecond(record.arrival_millis()?).ok()?;
            Some(Value::String(utc_text(at, UtcForm::IsoMillis)))
        }
        Metadata::ArrivalEpochMillis => record.arrival_millis().map(Value::from),
        Metadata::DeliveryStream => text(record.event().delivery_stream_name()),
        Metadata::Region => text(record.event().region()),
        Metadata::SourceStream => text(record.event().source_stream_name()),
        Metadata::ShardId => text(kinesis?.shard_id.as_deref()),
        Metadata::PartitionKey => text(kinesis?.partition_key.as_deref()),
        Metadata::SequenceNumber => text(kinesis?.sequence_number.as_deref()),
        Metadata::InvocationId => text(record.event().invocation_id.as_deref()),
    }
}

/// A JSON object, e.g. `{"env":"prod"}`.
pub struct JsonObject;

impl Parse for JsonObject {
    type Value = Map<String, Value>;
    fn parse(&self, raw: &str) -> Result<Self::Value, String> {
        match serde_json::from_str(raw) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!(
                "found {}",
                crate::pipeline::record::json_kind(&other)
            )),
            Err(e) => Err(format!("not JSON: {e}")),
        }
    }
    fn expects(&self) -> String {
        "a JSON object".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Event;
    use crate::settings::Env;
    use serde_json::json;

    fn enrich(pairs: &[(&str, &str)]) -> Result<Enrich, SettingError> {
        let settings = Settings::load(Env::from_pairs(pairs.iter().copied()), &[&SETTINGS])?;
        Enrich::from_settings(&settings)
    }

    fn apply(e: &Enrich, record: &str) -> Value {
        let mut r = Record::detached(record);
        e.apply(&mut r).unwrap();
        r.json().unwrap().clone()
    }

    #[test]
    fn static_fields_are_added_without_overwriting_by_default() {
        let e = enrich(&[("ENRICH_FIELDS", r#"{"env":"prod","n":1}"#)]).unwrap();
        assert_eq!(
            apply(&e, r#"{"env":"dev","a":1}"#),
            json!({"env":"dev","a":1,"n":1})
        );
        let e = enrich(&[
            ("ENRICH_FIELDS", r#"{"env":"prod"}"#),
            ("ENRICH_OVERWRITE", "true"),
        ])
        .unwrap();
        assert_eq!(apply(&e, r#"{"env":"dev"}"#), json!({"env":"prod"}));
    }

    #[test]
    fn metadata_comes_from_the_event_and_absent_metadata_is_left_out() {
        let event: Event = serde_json::from_str(
            r#"{"invocationId":"inv-1","region":"eu-west-1",
                "deliveryStreamArn":"arn:aws:firehose:eu-west-1:123456789012:deliverystream/class-stream",
                "sourceKinesisStreamArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/class-stream",
                "records":[{"recordId":"r1","approximateArrivalTimestamp":1714566600123,"data":"e30=",
                  "kinesisRecordMetadata":{"shardId":"shardId-000000000003","partitionKey":"pk","sequenceNumber":"49"}}]}"#,
        )
        .unwrap();
        let e = enrich(&[
            ("ENRICH_ARRIVAL_TIME_FIELD", "arrived_at"),
            ("ENRICH_ARRIVAL_EPOCH_MS_FIELD", "arrived_ms"),
            ("ENRICH_DELIVERY_STREAM_FIELD", "stream"),
            ("ENRICH_REGION_FIELD", "region"),
            ("ENRICH_SOURCE_STREAM_FIELD", "source"),
            ("ENRICH_SHARD_ID_FIELD", "shard"),
            ("ENRICH_PARTITION_KEY_FIELD", "pk"),
            ("ENRICH_SEQUENCE_NUMBER_FIELD", "seq"),
            ("ENRICH_INVOCATION_ID_FIELD", "inv"),
        ])
        .unwrap();
        let mut r = Record::new(&event, &event.records[0], b"{}".to_vec());
        e.apply(&mut r).unwrap();
        assert_eq!(
            r.json().unwrap(),
            &json!({"arrived_at":"2024-05-01T12:30:00.123Z","arrived_ms":1714566600123_i64,
                "stream":"class-stream","region":"eu-west-1","source":"class-stream",
                "shard":"shardId-000000000003","pk":"pk","seq":"49","inv":"inv-1"})
        );
        // A detached record has none of it.
        assert_eq!(apply(&e, "{}"), json!({}));
    }

    #[test]
    fn bad_settings_stop_it_at_start_up() {
        let none = enrich(&[]).err().unwrap();
        assert_eq!(none.error_type(), "MissingSetting");
        assert!(none.to_string().contains("ENRICH_FIELDS"), "{none}");
        let err = enrich(&[("ENRICH_FIELDS", "[1]")])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("found an array"), "{err}");
        let clash = enrich(&[
            ("ENRICH_FIELDS", r#"{"at":1}"#),
            ("ENRICH_ARRIVAL_TIME_FIELD", "at"),
        ]);
        assert!(matches!(clash, Err(SettingError::Conflict(_))));
    }

    #[test]
    fn non_objects_fail_the_record() {
        let e = enrich(&[("ENRICH_FIELDS", r#"{"a":1}"#)]).unwrap();
        assert!(e.apply(&mut Record::detached("[1]")).is_err());
        assert!(e.apply(&mut Record::detached("nope")).is_err());
    }
}
