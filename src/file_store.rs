//! Attachments' bytes on disk, in the attachments directory (`ATTACHMENTS_DIR`, by
//! default `DATA_DIR/attachments`; in cluster mode one directory every node shares),
//! by sha256: each content is kept once however often it is uploaded, written aside and
//! renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where a stored file lives.
pub fn path_of(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

/// Keep `bytes` under their sha256 (once, however often uploaded). Blocking: run it off
/// the event loop.
pub fn store(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let sha = hex::encode(Sha256::digest(bytes));
    let path = path_of(dir, &sha);
    if path.exists() {
        // Touched: housekeeping leaves a file used this recently alone, even if the
        // upload it last belonged to has just expired (`remove_stale`).
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        return Ok(sha);
    }
    let dir = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(dir)?;
    // Write aside and rename, so a reader never sees half a file.
    let tmp = dir.join(format!(".{sha}.{}", uuid::Uuid::new_v4().simple()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(sha)
}

/// Delete stored files nothing refers to any more and nobody stored again since
/// `before` (an upload of the same bytes meanwhile touched them). Blocking.
pub fn remove_stale(dir: &Path, sha256s: &[String], before: std::time::SystemTime) -> usize {
    let stale = |sha: &&String| {
        std::fs::metadata(path_of(dir, sha))
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < before)
    };
    let stale: Vec<String> = sha256s.iter().filter(stale).cloned().collect();
    remove(dir, &stale);
    stale.len()
}

/// Delete stored files nothing refers to any more. Blocking.
pub fn remove(dir: &Path, sha256s: &[String]) {
    for sha in sha256s {
        if let Err(e) = std::fs::remove_file(path_of(dir, sha)) {
            log::warn!("removing unused attachment {sha}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn only_files_nobody_stored_since_the_cutoff_are_removed() {
        let dir = tempfile::TempDir::new().unwrap();
        let before = SystemTime::now() - Duration::from_secs(3600);
        let sha = store(dir.path(), b"old upload").unwrap();
        let path = path_of(dir.path(), &sha);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(before - Duration::from_secs(60))
            .unwrap();
        // The same bytes uploaded again: touched, so kept.
        assert_eq!(store(dir.path(), b"old upload").unwrap(), sha);
        assert_eq!(
            remove_stale(dir.path(), std::slice::from_ref(&sha), before),
            0
        );
        assert!(path.exists());
        // Not touched since the cutoff: removed.
        let later = SystemTime::now() + Duration::from_secs(1);
        assert_eq!(remove_stale(dir.path(), &[sha], later), 1);
        assert!(!path.exists());
    }
}
