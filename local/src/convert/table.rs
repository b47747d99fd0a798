//! The Glue table a stream converts records through: its columns with their
//! Hive types, and the details error objects name it by.

use std::sync::Arc;

use arrow_schema::{Field, Schema, SchemaRef};
use serde::Deserialize;

use super::hive::HiveType;

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Lower-case, as Glue keeps column names.
    pub name: String,
    pub ty: HiveType,
}

/// A Glue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub catalog_id: String,
    pub database: String,
    pub name: String,
    pub region: String,
    pub version_id: String,
    pub columns: Vec<Column>,
    /// Partition keys are in the object's key, not its rows: the converter
    /// does not write them.
    pub partition_keys: Vec<Column>,
}

/// A table as the run's summary shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableSummary {
    pub table: String,
    /// What the rows are written as: `Parquet` or `ORC`.
    pub format: &'static str,
    /// Serialiser settings accepted but not followed, and why that changes nothing a reader sees.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// `name type`, in order.
    pub columns: Vec<String>,
    pub partition_keys: Vec<String>,
}

/// `aws glue get-table` output, the parts that matter here.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetTable {
    table: GlueTable,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GlueTable {
    name: String,
    database_name: String,
    catalog_id: Option<String>,
    version_id: Option<String>,
    storage_descriptor: StorageDescriptor,
    #[serde(default)]
    partition_keys: Vec<GlueColumn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StorageDescriptor {
    #[serde(default)]
    columns: Vec<GlueColumn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GlueColumn {
    name: String,
    #[serde(rename = "Type")]
    ty: String,
}

impl Table {
    /// Reads the JSON `aws glue get-table` prints.
    pub fn from_get_table(json: &[u8], region: &str) -> Result<Table, String> {
        let GetTable { table } = serde_json::from_slice(json)
            .map_err(|e| format!("not the JSON of `aws glue get-table`: {e}"))?;
        let columns = |glue: Vec<GlueColumn>| {
            glue.into_iter()
                .map(|c| column(&c.name, &c.ty))
                .collect::<Result<Vec<_>, _>>()
        };
        Table::new(
            table
                .catalog_id
                .unwrap_or_else(|| crate::template::ACCOUNT.to_owned()),
            table.database_name,
            table.name,
            region.to_owned(),
            table.version_id.unwrap_or_else(|| "0".to_owned()),
            columns(table.storage_descriptor.columns)?,
            columns(table.partition_keys)?,
        )
    }

    /// A table, refused when it has no columns or a column twice.
    pub fn new(
        catalog_id: String,
        database: String,
        name: String,
        region: String,
        version_id: String,
        columns: Vec<Column>,
        partition_keys: Vec<Column>,
    ) -> Result<Table, String> {
        if columns.is_empty() {
            return Err(format!("the Glue table {database}.{name} has no columns"));
        }
        let mut names: Vec<&str> = columns
            .iter()
            .chain(&partition_keys)
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        if let Some(twice) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!(
                "the Glue table {database}.{name} has the column {} twice",
                twice[0]
            ));
        }
        Ok(Table {
            catalog_id,
            database,
            name,
            region,
            version_id,
            columns,
            partition_keys,
        })
    }

    /// The Arrow schema of its rows: every column, nullable, in order.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.ty.data_type(), true))
                .collect::<Vec<_>>(),
        ))
    }

    /// The table and its columns as the summary shows them, with the
    /// format rows are written as and the serialiser's notes.
    pub fn describe(&self, format: &'static str, notes: Vec<String>) -> TableSummary {
        let list = |columns: &[Column]| {
            columns
                .iter()
                .map(|c| format!("{} {}", c.name, c.ty))
                .collect()
        };
        TableSummary {
            table: format!("{}.{}", self.database, self.name),
            format,
            notes,
            columns: list(&self.columns),
            partition_keys: list(&self.partition_keys),
        }
    }

    /// `arn:aws:glue:<region>:<catalog>:table/<database>/<table>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:glue:{}:{}:table/{}/{}",
            self.region, self.catalog_id, self.database, self.name
        )
    }
}

/// A column from its Glue name and type text; the error names the column.
pub fn column(name: &str, ty: &str) -> Result<Column, String> {
    if name.contains('.') {
        return Err(format!(
            "column {name:?}: Hive column names cannot hold dots (ConvertDotsInJsonKeysToUnderscores maps `a.b` keys to `a_b`)"
        ));
    }
    let ty = HiveType::parse(ty).map_err(|e| format!("column {name:?}: {e}"))?;
    Ok(Column {
        name: name.to_ascii_lowercase(),
        ty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_TABLE: &str = r#"{"Table": {"Name": "events", "DatabaseName": "db", "CatalogId": "111122223333",
        "VersionId": "3", "StorageDescriptor": {"Columns": [
            {"Name": "Id", "Type": "bigint"}, {"Name": "tags", "Type": "array<string>"}]},
        "PartitionKeys": [{"Name": "dt", "Type": "string"}]}}"#;

    #[test]
    fn get_table_output_gives_the_columns_and_the_details() {
        let table = Table::from_get_table(GET_TABLE.as_bytes(), "eu-west-1").unwrap();
        assert_eq!(table.columns[0].name, "id");
        assert_eq!(table.columns[1].ty.to_string(), "array<string>");
        assert_eq!(table.partition_keys[0].name, "dt");
        assert_eq!(
            table.arn(),
            "arn:aws:glue:eu-west-1:111122223333:table/db/events"
        );
        assert_eq!(table.schema().fields().len(), 2);
    }

    #[test]
    fn a_bad_column_is_named() {
        let bad = GET_TABLE.replace("array<string>", "array<strin>");
        let error = Table::from_get_table(bad.as_bytes(), "eu-west-1").unwrap_err();
        assert!(error.contains("column \"tags\""), "{error}");
        let twice = GET_TABLE.replace("\"tags\"", "\"ID\"");
        let error = Table::from_get_table(twice.as_bytes(), "eu-west-1").unwrap_err();
        assert!(error.contains("the column id twice"), "{error}");
        let error = Table::from_get_table(b"{}", "eu-west-1").unwrap_err();
        assert!(error.contains("aws glue get-table"), "{error}");
    }
}
