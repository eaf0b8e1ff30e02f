//! The only module that reads or writes results files. Every error names the file.
//!
//! Writes are atomic: the new content goes to a temporary file in the same directory, is
//! flushed to disk, and is renamed over the target, so a reader (or a crash) sees the old
//! file or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::results::{ResultsFile, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION};

/// A results file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened, read, written or renamed.
    #[error("{path}: {action}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid JSON (truncated, or not a results file).
    #[error("{path}: not valid JSON (is it a tapbench results file?)")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
    /// The file has no `schema_version`, or one this build does not know.
    #[error("{path}: {problem}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// The default results path of a run started at `created_at`.
pub fn default_path(prefix: &str, created_at: &str) -> PathBuf {
    let stamp: String = created_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    PathBuf::from("results").join(format!("{prefix}-{stamp}.json"))
}

/// Reads and validates a results file.
///
/// # Errors
///
/// A missing or unreadable file, invalid JSON, an unknown `schema_version`, or a field that
/// is missing or of the wrong type (named, with the cell it is in).
pub fn read_results(path: &Path) -> Result<ResultsFile, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        action: "cannot read",
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| StoreError::NotJson {
            path: path.to_path_buf(),
            source,
        })?;
    let schema = |problem: String| StoreError::Schema {
        path: path.to_path_buf(),
        problem,
    };
    match value.get("schema_version") {
        None => {
            return Err(schema(
                "no `schema_version`: not a tapbench results file".into(),
            ))
        }
        Some(v)
            if v.as_u64()
                .is_some_and(|v| READABLE_SCHEMA_VERSIONS.iter().any(|r| u64::from(*r) == v)) => {}
        Some(v) => {
            return Err(schema(format!(
                "unknown schema_version {v} (this tapbench reads versions {:?}, writes \
                 {SCHEMA_VERSION}; use a matching tapbench)",
                READABLE_SCHEMA_VERSIONS
            )))
        }
    }
    // Validate cell by cell first, so an error can name the cell it is in.
    if let Some(cells) = value.get("cells").and_then(|c| c.as_array()) {
        for (i, cell) in cells.iter().enumerate() {
            if let Err(e) = crate::results::CellResult::deserialize(cell) {
                let id = cell.get("id").and_then(|v| v.as_str()).unwrap_or("?");
                return Err(schema(format!("cell {i} (`{id}`): {e}")));
            }
        }
    }
    ResultsFile::deserialize(&value).map_err(|e| schema(format!("{e}")))
}

/// Writes `results` to `path` atomically (temporary file, fsync, rename).
///
/// # Errors
///
/// The directory cannot be created or written, or the rename fails.
pub fn write_results(path: &Path, results: &ResultsFile) -> Result<(), StoreError> {
    let mut json = serde_json::to_vec_pretty(results).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        action: "cannot serialise",
        source: std::io::Error::other(e),
    })?;
    json.push(b'\n');
    write_atomic(path, &json)
}

/// Writes a rendered report (or any text) to `path` atomically.
///
/// # Errors
///
/// The directory cannot be created or written, or the rename fails.
pub fn write_text(path: &Path, text: &str) -> Result<(), StoreError> {
    write_atomic(path, text.as_bytes())
}

/// The newest `*.json` file directly in `dir` (by modification time), if any.
///
/// # Errors
///
/// `dir` cannot be listed.
pub fn newest_results(dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let entries = std::fs::read_dir(dir).map_err(|source| StoreError::Io {
        path: dir.to_path_buf(),
        action: "cannot list",
        source,
    })?;
    let newest = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
            Some((modified, p))
        })
        .max();
    Ok(newest.map(|(_, p)| p))
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |action: &'static str, source: std::io::Error| StoreError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io("cannot create the directory", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tapbench-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io("cannot create a temporary file beside it", e))?;
    tmp.write_all(bytes).map_err(|e| io("cannot write", e))?;
    // Temporary files are private; results and reports are for everyone to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| io("cannot set permissions", e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io("cannot flush to disk", e))?;
    tmp.persist(path)
        .map_err(|e| io("cannot rename into place", e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks up front that `path` can be written (its directory exists or can be created, and a
/// file can be created in it), so a run does not measure for minutes and then fail to save.
///
/// # Errors
///
/// The reason the path cannot be written.
pub fn check_writable(path: &Path) -> Result<(), StoreError> {
    let io = |action: &'static str, source: std::io::Error| StoreError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    if path.is_dir() {
        return Err(io(
            "is a directory",
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "give a file path"),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io("cannot create the directory", e))?;
    tempfile::Builder::new()
        .prefix(".tapbench-probe-")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| io("cannot write in its directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::*;

    fn sample() -> ResultsFile {
        ResultsFile {
            schema_version: SCHEMA_VERSION,
            tool_version: "0.1.0".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            profile: "smoke".into(),
            env: Env {
                os: "linux".into(),
                cpu_model: "cpu".into(),
                logical_cpus: 2,
                threads: 2,
                rustc: "rustc".into(),
                git_commit: None,
                runtime_crates: Default::default(),
                load_average: None,
                cpu_governor: None,
            },
            launches: 1,
            injected: None,
            interleaved: None,
            sweep: None,
            cells: vec![],
        }
    }

    #[test]
    fn round_trip_and_schema_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.json");
        write_results(&path, &sample()).unwrap();
        assert_eq!(read_results(&path).unwrap(), sample());

        std::fs::write(&path, "{\"schema_version\": 99}").unwrap();
        let e = read_results(&path).unwrap_err().to_string();
        assert!(
            e.contains("unknown schema_version 99") && e.contains("r.json"),
            "{e}"
        );

        std::fs::write(&path, "{\"schema_ver").unwrap();
        assert!(read_results(&path)
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));

        let missing = read_results(&dir.path().join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.json: cannot read"), "{missing}");
    }

    #[test]
    fn unwritable_paths_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(dir.path()).is_err());
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        // A path under a regular file cannot be created.
        assert!(check_writable(&file.join("r.json")).is_err());
        assert!(check_writable(&dir.path().join("ok/r.json")).is_ok());
    }
}
