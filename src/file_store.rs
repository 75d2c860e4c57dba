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

/// Delete stored files nothing refers to any more. Blocking.
pub fn remove(dir: &Path, sha256s: &[String]) {
    for sha in sha256s {
        if let Err(e) = std::fs::remove_file(path_of(dir, sha)) {
            log::warn!("removing unused attachment {sha}: {e}");
        }
    }
}
