//! The converter's rows (one JSON object a line) as Arrow record batches,
//! through arrow-json's decoder fed the rows' bytes: one reading of types and
//! nulls for every serialiser.

use arrow_array::RecordBatch;
use arrow_json::ReaderBuilder;
use arrow_schema::SchemaRef;

/// Rows per batch handed to the serialiser.
const BATCH_ROWS: usize = 8192;

/// Decodes `rows` into batches of `schema`, handing each to `write`.
pub fn decode(
    schema: &SchemaRef,
    rows: &[u8],
    mut write: impl FnMut(RecordBatch) -> Result<(), String>,
) -> Result<(), String> {
    let why = |e: &dyn std::fmt::Display| format!("decoding rows: {e}");
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(BATCH_ROWS)
        .build_decoder()
        .map_err(|e| why(&e))?;
    let mut rest = rows;
    while !rest.is_empty() {
        let read = decoder.decode(rest).map_err(|e| why(&e))?;
        rest = &rest[read..];
        if let Some(batch) = decoder.flush().map_err(|e| why(&e))? {
            write(batch)?;
        }
    }
    Ok(())
}
