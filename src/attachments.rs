//! File attachments (seed 004's limits): what may be uploaded, judged by name and by
//! content, read from multipart bodies within the limits, and kept on disk by sha256.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::actors::chat_server::{DiscardUploads, RegisterUploads};
use crate::domain::message::Attachment;
use crate::domain::Caller;
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// Seed 004: 10 MB per file, 5 files per upload.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_FILES: usize = 5;
/// Text fields beside the files (content, message_type, …): how large, how many.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELDS: usize = 20;

/// Seed 004's allow-list: extension → the type the content must have.
const ALLOWED: [(&str, &str); 11] = [
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("pdf", "application/pdf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("txt", "text/plain"),
];

/// A file received from a client, checked.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

fn refused_type(detail: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::UnsupportedType, "File type not allowed").with_detail(detail)
}

/// The stored type of a file, if its name and its content agree on an allowed type.
/// Old Office files (doc, xls) share one container format, so either name fits it.
pub fn check_type(file_name: &str, bytes: &[u8]) -> Result<&'static str, AppError> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some(&(_, expected)) = ALLOWED.iter().find(|(e, _)| *e == ext) else {
        return Err(refused_type(
            "allowed: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, XLS, XLSX, TXT",
        ));
    };
    let sniffed = match infer::get(bytes) {
        Some(kind) => kind.mime_type(),
        // Plain text has no signature: valid UTF-8 without NULs.
        None if std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')) => "text/plain",
        None => "application/octet-stream",
    };
    let ole = [
        "application/msword",
        "application/vnd.ms-excel",
        "application/x-ole-storage",
    ];
    let agrees = sniffed == expected || (ole.contains(&expected) && ole.contains(&sniffed));
    if !agrees {
        return Err(refused_type(format!(
            "the content of {file_name} is {sniffed}, not {expected}"
        )));
    }
    Ok(expected)
}

/// A file name safe to keep and to send back in `Content-Disposition`.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// Largest multipart body read: 5 files of 10 MB and their fields.
const MAX_BODY_BYTES: usize = 52 * 1024 * 1024;

fn malformed(detail: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::InvalidFormat, "Malformed multipart body")
        .with_detail(detail.to_string())
}

/// The `boundary` parameter of a multipart Content-Type.
fn boundary(req: &HttpRequest) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let b = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?;
    Some(b.trim_matches('"').to_owned()).filter(|b| !b.is_empty())
}

/// Read a multipart body: its text fields and its files, within the limits.
///
/// The body is read whole first (it is bounded anyway), so every refusal is answered
/// after the client has finished sending; and a body cut off before its closing
/// boundary is refused before parsing, since the parser would wait for the rest forever.
pub async fn read_multipart(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<(HashMap<String, String>, Vec<Upload>), AppError> {
    let boundary =
        boundary(req).ok_or_else(|| malformed("no multipart boundary in Content-Type"))?;
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(malformed)?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::new(
                ErrorKind::PayloadTooLarge,
                "Request body too large",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    if !body[..end].ends_with(format!("--{boundary}--").as_bytes()) {
        return Err(malformed("the body ends before its closing boundary"));
    }
    let body = body.freeze();
    let mut parts = Multipart::new(
        req.headers(),
        futures_util::stream::once(async move { Ok(body) }),
    );
    let mut fields = HashMap::new();
    let mut files = Vec::new();
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(malformed)?;
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(clean_file_name);
        if file_name.is_some() && files.len() == MAX_FILES {
            return Err(AppError::validation(format!(
                "At most {MAX_FILES} files per message"
            )));
        }
        if file_name.is_none() && fields.len() == MAX_FIELDS {
            return Err(AppError::validation(format!(
                "At most {MAX_FIELDS} form fields"
            )));
        }
        let limit = if file_name.is_some() {
            MAX_FILE_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(malformed)?;
            if bytes.len() + chunk.len() > limit {
                return Err(match &file_name {
                    Some(f) => {
                        AppError::new(ErrorKind::PayloadTooLarge, "File too large (max 10 MB)")
                            .with_detail(f.clone())
                    }
                    None => AppError::new(ErrorKind::PayloadTooLarge, "Field too large")
                        .with_detail(name),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) => {
                let content_type = check_type(&file_name, &bytes)?;
                files.push(Upload {
                    file_name,
                    content_type,
                    bytes,
                });
            }
            None => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| AppError::validation(format!("{name} must be text")))?;
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, files))
}

/// Where a stored file lives.
pub fn path_of(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("attachments").join(&sha256[..2]).join(sha256)
}

/// Keep `bytes` under their sha256 (once, however often uploaded). Blocking: run it off
/// the event loop.
pub fn store(data_dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let sha = hex::encode(Sha256::digest(bytes));
    let path = path_of(data_dir, &sha);
    if path.exists() {
        return Ok(sha);
    }
    let dir = path.parent().unwrap_or(data_dir);
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
pub fn remove(data_dir: &Path, sha256s: &[String]) {
    for sha in sha256s {
        if let Err(e) = std::fs::remove_file(path_of(data_dir, sha)) {
            log::warn!("removing unused attachment {sha}: {e}");
        }
    }
}

/// Keep the files on disk (off the event loop), then record them as the caller's uploads.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    files: Vec<Upload>,
) -> Result<Vec<Attachment>, AppError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let data_dir = state.data_dir.clone();
    let described = web::block(move || {
        files
            .into_iter()
            .map(|f| {
                let size = f.bytes.len() as i64;
                store(&data_dir, &f.bytes)
                    .map(|sha| (sha, f.file_name, f.content_type.to_owned(), size))
            })
            .collect::<std::io::Result<Vec<_>>>()
    })
    .await
    .map_err(|e| {
        log::error!("upload worker: {e}");
        AppError::internal()
    })?
    .map_err(|e| {
        log::error!("storing an upload: {e}");
        AppError::internal()
    })?;
    state
        .chat
        .send(RegisterUploads {
            caller: caller.clone(),
            files: described,
        })
        .await?
}

/// Forget unsent uploads, and delete their files if nothing else uses them.
pub async fn discard(state: &AppState, ids: Vec<String>) {
    match state.chat.send(DiscardUploads(ids)).await {
        Ok(Ok(unused)) => {
            let data_dir = state.data_dir.clone();
            let _ = web::block(move || remove(&data_dir, &unused)).await;
        }
        other => log::error!("discarding refused uploads: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    #[test]
    fn name_and_content_must_agree() {
        assert_eq!(check_type("shot.PNG", PNG).unwrap(), "image/png");
        assert_eq!(check_type("notes.txt", b"hello\n").unwrap(), "text/plain");
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
        assert_eq!(
            check_type("cat.png", exe).unwrap_err().kind,
            ErrorKind::UnsupportedType
        );
        assert_eq!(
            check_type("tool.exe", exe).unwrap_err().kind,
            ErrorKind::UnsupportedType
        );
        assert_eq!(
            check_type("page.html", b"<script>").unwrap_err().kind,
            ErrorKind::UnsupportedType
        );
        assert!(check_type("fake.pdf", b"plain words").is_err());
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\x\\a\"b.png"), "ab.png");
        assert_eq!(clean_file_name("\u{0}"), "file");
    }
}
