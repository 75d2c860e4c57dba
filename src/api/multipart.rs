//! Multipart bodies (seed 004's uploads): text fields and files, read within the
//! limits, each file checked against the allow-list.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;

use crate::domain::files::{self, Upload};
use crate::error::{AppError, ErrorKind};

/// Text fields beside the files (content, message_type, …): how large, how many.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELDS: usize = 20;

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
    let mut uploads = Vec::new();
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(malformed)?;
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(files::clean_file_name);
        if file_name.is_some() {
            files::check_count(uploads.len() + 1)?;
        }
        if file_name.is_none() && fields.len() == MAX_FIELDS {
            return Err(AppError::validation(format!(
                "At most {MAX_FIELDS} form fields"
            )));
        }
        let limit = if file_name.is_some() {
            files::MAX_FILE_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(malformed)?;
            if bytes.len() + chunk.len() > limit {
                return Err(match &file_name {
                    Some(f) => files::too_large(f),
                    None => AppError::new(ErrorKind::PayloadTooLarge, "Field too large")
                        .with_detail(name),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) => {
                let content_type = files::check_type(&file_name, &bytes)?;
                uploads.push(Upload {
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
    Ok((fields, uploads))
}
