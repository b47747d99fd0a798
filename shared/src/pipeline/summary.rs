//! The per-invocation summary, and its CloudWatch Embedded Metric Format line.

use std::time::Duration;

use serde_json::{Value, json};

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: usize,
    pub ok: usize,
    pub dropped: usize,
    pub failed: usize,
    /// Of `failed`, those failed only because the response would have passed its size limit.
    pub overflowed: usize,
    /// Of `failed`, those not reached before the invocation's deadline.
    pub late: usize,
    pub bytes_in: usize,
    pub bytes_out: usize,
    pub duration: Duration,
}

impl Summary {
    /// One EMF log line: CloudWatch turns it into metrics with no agent or API call.
    pub fn emf(&self, namespace: &str, function: &str, timestamp_ms: i64) -> Value {
        let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [
                        metric("Records", "Count"),
                        metric("RecordsOk", "Count"),
                        metric("RecordsDropped", "Count"),
                        metric("RecordsFailed", "Count"),
                        metric("RecordsOverflowed", "Count"),
                        metric("RecordsLate", "Count"),
                        metric("BytesIn", "Bytes"),
                        metric("BytesOut", "Bytes"),
                        metric("Duration", "Milliseconds"),
                    ],
                }],
            },
            "FunctionName": function,
            "Records": self.records,
            "RecordsOk": self.ok,
            "RecordsDropped": self.dropped,
            "RecordsFailed": self.failed,
            "RecordsOverflowed": self.overflowed,
            "RecordsLate": self.late,
            "BytesIn": self.bytes_in,
            "BytesOut": self.bytes_out,
            "Duration": self.duration.as_micros() as f64 / 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value() {
        let summary = Summary {
            records: 3,
            ok: 1,
            dropped: 1,
            failed: 1,
            ..Summary::default()
        };
        let emf = summary.emf("FirehoseTransform", "firehose-normalize", 1);
        let declared = emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        for metric in declared {
            let name = metric["Name"].as_str().unwrap();
            assert!(emf[name].is_number(), "{name}");
        }
        assert_eq!(emf["Records"], 3);
    }
}
