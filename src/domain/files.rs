//! What may be attached (seed 004's limits): how many files and how large, and which
//! types, judged by name and by content alike. No I/O here.

use crate::error::{AppError, ErrorKind};

/// Seed 004: 10 MB per file, 5 files per upload.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_FILES: usize = 5;

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

/// At most `MAX_FILES` files go with one message.
pub fn check_count(files: usize) -> Result<(), AppError> {
    if files > MAX_FILES {
        return Err(AppError::validation(format!(
            "At most {MAX_FILES} files per message"
        )));
    }
    Ok(())
}

/// A file over `MAX_FILE_BYTES`.
pub fn too_large(file_name: &str) -> AppError {
    AppError::new(ErrorKind::PayloadTooLarge, "File too large (max 10 MB)")
        .with_detail(file_name.to_owned())
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
