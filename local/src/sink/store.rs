//! Where objects land: a local folder laid out as `<bucket>/<key>` (or an S3
//! API, in `s3.rs`).

use std::path::{Component, Path, PathBuf};

/// An object could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("the key {0:?} would leave the output folder (an absolute path or a `..` segment)")]
    Escapes(String),
    #[error(
        "the key {0:?} cannot be written as it is through the S3 API (an empty segment, a leading or \
         trailing `/`, a `.` or `..` segment, or a control character)"
    )]
    Unwritable(String),
    #[error("cannot write {object}: {message}")]
    S3 { object: String, message: String },
    /// The converter's rows did not make a Parquet file: a bug of firehose-local's.
    #[error("cannot write {object} as Parquet: {message}")]
    Parquet { object: String, message: String },
}

/// An S3 API or something laid out like one.
pub trait Store {
    /// Writes one object.
    fn put(&mut self, bucket: &str, key: &str, bytes: &[u8]) -> Result<(), StoreError>;
}

/// Objects as files under one folder: `<folder>/<bucket>/<key>`.
pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    pub fn new(root: &Path) -> Self {
        LocalFolder {
            root: root.to_owned(),
        }
    }

    /// The file an object is written to.
    pub fn path(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(bucket).join(key);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::Escapes(format!("{bucket}/{key}")));
        }
        Ok(self.root.join(relative))
    }
}

impl Store for LocalFolder {
    fn put(&mut self, bucket: &str, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.path(bucket, key)?;
        let io = |error| StoreError::Io {
            path: path.display().to_string(),
            error,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, bytes).map_err(io)
    }
}

/// Adds every file under `path` to `found`, in name order (`path` itself if it
/// is not a folder): the objects of a folder laid out as `<bucket>/<key>`.
pub fn files_under(path: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        found.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        files_under(&entry, found)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_folder() {
        let folder = LocalFolder::new(Path::new("/tmp/out"));
        assert_eq!(
            folder.path("b", "x/y.gz").unwrap(),
            Path::new("/tmp/out/b/x/y.gz")
        );
        assert!(folder.path("b", "../../etc/passwd").is_err());
        assert!(folder.path("b", "/abs").is_err());
    }
}
