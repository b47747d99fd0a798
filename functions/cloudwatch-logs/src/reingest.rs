//! Re-ingestion: the records whose events do not fit in the response go back
//! to their source in two halves, through the AWS SDK.

use firehose_transform::contract::Event;
use firehose_transform::pipeline::{Context, Overflowed, Reingest, Reingested};
use firehose_transform::transforms::cloudwatch_logs::halves;

use crate::aws_put::{AwsPut, Entry, Target};

/// Puts the two halves of each record that does not fit back to its source.
pub struct Halves {
    pub put: AwsPut,
    pub max_decompressed: usize,
}

impl Reingest for Halves {
    fn reingest(
        &self,
        event: &Event<'_>,
        records: &[Overflowed<'_>],
        context: &Context,
    ) -> Vec<Reingested> {
        let results = self.put_back(event, records, context);
        records
            .iter()
            .zip(results)
            .map(|(record, result)| Reingested {
                record_id: record.source.record_id.to_string(),
                result,
            })
            .collect()
    }
}

impl Halves {
    /// For each record, in order: put back, or why not.
    fn put_back(
        &self,
        event: &Event<'_>,
        records: &[Overflowed<'_>],
        context: &Context,
    ) -> Vec<Result<(), String>> {
        let target = event
            .source_kinesis_stream_arn
            .as_deref()
            .or(event.delivery_stream_arn.as_deref())
            .and_then(Target::from_arn);
        let Some(target) = target else {
            let why = "the event names neither a Kinesis source stream nor a delivery stream to put records back to";
            return records.iter().map(|_| Err(why.to_owned())).collect();
        };
        // Each record's halves, or why it has none; then one put for all of them.
        let mut entries = Vec::new();
        let split: Vec<Result<(), String>> = records
            .iter()
            .map(|record| {
                let halves = halves(&record.original, self.max_decompressed)?;
                let partition_key = record
                    .source
                    .kinesis_record_metadata
                    .as_ref()
                    .and_then(|k| k.partition_key.clone())
                    .unwrap_or_else(|| record.source.record_id.to_string());
                entries.extend(halves.map(|data| Entry {
                    data,
                    partition_key: partition_key.clone(),
                }));
                Ok(())
            })
            .collect();
        let mut put = self.put.put(&target, &entries, context).into_iter();
        split
            .into_iter()
            .map(|split| {
                split?;
                // A record is put back only when both its halves are.
                let (first, second) = (put.next(), put.next());
                match (first, second) {
                    (Some(Ok(())), Some(Ok(()))) => Ok(()),
                    (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
                    _ => Err("the put returned fewer answers than records".to_owned()),
                }
            })
            .collect()
    }
}
