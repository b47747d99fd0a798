//! Where objects land: a local folder laid out as `<bucket>/<key>` (or an S3
//! API, in `s3.rs`). An object is written to a temporary name beside its own
//! and renamed, so a run that is killed or runs out of space never leaves a
//! truncated object under a key Firehose would write.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::local_path::{self, TEMPORARY};

/// An object could not be written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
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

impl StoreError {
    /// Whether trying again may help: a full disk or a failing S3 API may
    /// recover; a key the S3 API cannot take, or a bug of ours, will not.
    pub fn retryable(&self) -> bool {
        matches!(self, StoreError::Io { .. } | StoreError::S3 { .. })
    }
}

/// One object to write.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub bytes: &'a [u8],
    /// The `Content-Encoding` AWS sets on it, which an S3 API gets too.
    pub content_encoding: Option<&'static str>,
}

/// An S3 API or something laid out like one.
pub trait Store: Send {
    /// Writes one object.
    fn put(&mut self, object: &Object<'_>) -> Result<(), StoreError>;
}

/// Objects as files under one folder: `<folder>/<bucket>/<key>`.
pub struct LocalFolder {
    root: PathBuf,
    synced: bool,
}

impl LocalFolder {
    pub fn new(root: &Path) -> Self {
        LocalFolder {
            root: root.to_owned(),
            synced: false,
        }
    }

    /// One whose objects are on disk, not only in the page cache, when `put`
    /// returns: `serve --state` forgets records once their object is written,
    /// so a machine that goes down must not take the object with it.
    pub fn synced(root: &Path) -> Self {
        LocalFolder {
            root: root.to_owned(),
            synced: true,
        }
    }

    /// The file an object is written to: its key escaped where a folder cannot hold it as it is.
    pub fn path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root
            .join(local_path::path_of(bucket))
            .join(local_path::path_of(key))
    }
}

impl Store for LocalFolder {
    fn put(&mut self, object: &Object<'_>) -> Result<(), StoreError> {
        let Object {
            bucket, key, bytes, ..
        } = *object;
        let path = self.path(bucket, key);
        let mut temporary = path.clone().into_os_string();
        temporary.push(format!("{TEMPORARY}{}", std::process::id()));
        let temporary = PathBuf::from(temporary);
        let io = |error| StoreError::Io {
            path: path.display().to_string(),
            error,
        };
        let parent = path.parent().unwrap_or(&self.root);
        // The folders made for it are new entries in their own parents, which a sync must reach too.
        let existing = parent.ancestors().find(|folder| folder.is_dir());
        std::fs::create_dir_all(parent).map_err(io)?;
        let written = std::fs::File::create(&temporary)
            .and_then(|mut file| {
                file.write_all(bytes)?;
                if self.synced {
                    file.sync_data()?;
                }
                Ok(())
            })
            .and_then(|()| std::fs::rename(&temporary, &path));
        if written.is_err() {
            // What was written of it is no object; the error says why.
            let _ = std::fs::remove_file(&temporary);
        }
        written.map_err(io)?;
        if self.synced {
            for folder in parent.ancestors() {
                std::fs::File::open(folder)
                    .and_then(|folder| folder.sync_all())
                    .map_err(io)?;
                if Some(folder) == existing {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Adds every file under `path` to `found`, in name order (`path` itself if it
/// is not a folder): the objects of a folder laid out as `<bucket>/<key>`.
/// Temporary files a killed run left behind are passed over.
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
    let temporary = |entry: &PathBuf| {
        entry
            .file_name()
            .is_some_and(|name| name.to_string_lossy().contains(TEMPORARY))
    };
    for entry in entries.iter().filter(|e| !temporary(e)) {
        files_under(entry, found)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_folder() {
        let folder = LocalFolder::new(Path::new("/tmp/out"));
        assert_eq!(folder.path("b", "x/y.gz"), Path::new("/tmp/out/b/x/y.gz"));
        assert_eq!(
            folder.path("b", "../../etc/passwd"),
            Path::new("/tmp/out/b/%2E%2E/%2E%2E/etc/passwd")
        );
        assert_eq!(folder.path("b", "/abs"), Path::new("/tmp/out/b/%/abs"));
    }

    fn object<'a>(key: &'a str, bytes: &'a [u8]) -> Object<'a> {
        Object {
            bucket: "b",
            key,
            bytes,
            content_encoding: None,
        }
    }

    #[test]
    fn an_object_is_whole_or_absent_and_temporary_files_are_passed_over() {
        let root = std::env::temp_dir().join(format!("store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut folder = LocalFolder::new(&root);
        folder.put(&object("k/object", b"whole")).unwrap();
        std::fs::write(root.join("b/k/other%tmp1"), b"half").unwrap();
        let mut found = Vec::new();
        files_under(&root, &mut found).unwrap();
        assert_eq!(found, [root.join("b/k/object")]);
        assert_eq!(std::fs::read(root.join("b/k/object")).unwrap(), b"whole");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_synced_folder_writes_the_same_objects_into_new_and_existing_folders() {
        let root = std::env::temp_dir().join(format!("store-synced-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut folder = LocalFolder::synced(&root);
        folder.put(&object("k/deep/object", b"first")).unwrap();
        folder.put(&object("k/deep/other", b"second")).unwrap();
        let mut found = Vec::new();
        files_under(&root, &mut found).unwrap();
        assert_eq!(
            found,
            [root.join("b/k/deep/object"), root.join("b/k/deep/other")]
        );
        assert_eq!(
            std::fs::read(root.join("b/k/deep/other")).unwrap(),
            b"second"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
