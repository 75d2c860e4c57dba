//! Uploads: a client's checked files are kept on disk, then recorded as its own
//! through ChatServer; a refused message's files are forgotten and, unused, deleted.

use actix_web::web;

use crate::actors::chat_server::{DiscardUploads, RegisterUploads};
use crate::domain::files::Upload;
use crate::domain::message::Attachment;
use crate::domain::Caller;
use crate::error::AppError;
use crate::file_store::{remove, store};
use crate::state::AppState;

/// Keep the files on disk (off the event loop), then record them as the caller's uploads.
pub async fn save(
    state: &AppState,
    caller: &Caller,
    files: Vec<Upload>,
) -> Result<Vec<Attachment>, AppError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = state.attachments_dir.clone();
    let described = web::block(move || {
        files
            .into_iter()
            .map(|f| {
                let size = f.bytes.len() as i64;
                store(&dir, &f.bytes).map(|sha| (sha, f.file_name, f.content_type.to_owned(), size))
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
    let which = crate::domain::writes::Unsent::Ids(ids);
    match state.chat.send(DiscardUploads(which)).await {
        Ok(Ok(unused)) => {
            let dir = state.attachments_dir.clone();
            let _ = web::block(move || remove(&dir, &unused)).await;
        }
        other => log::error!("discarding refused uploads: {other:?}"),
    }
}
