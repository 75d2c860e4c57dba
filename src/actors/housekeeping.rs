//! Housekeeping: uploads that no message took within `UPLOAD_RETENTION` (a widget
//! closed after choosing a file, a refused message) are forgotten, and their bytes
//! deleted when nothing else uses them. Every node may sweep: the rows go in one
//! transaction, and a file is only deleted if nobody stored the same bytes since.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use actix::prelude::*;

use crate::actors::chat_server::{ChatServer, DiscardUploads};
use crate::domain::writes::Unsent;

pub struct Housekeeping {
    pub chat: Addr<ChatServer>,
    pub attachments_dir: PathBuf,
    pub upload_retention: Duration,
}

impl Housekeeping {
    /// Often enough that an upload outlives its retention by a quarter of it at
    /// most; between once a second and every 15 minutes.
    fn every(&self) -> Duration {
        (self.upload_retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(900))
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let Some(before) = SystemTime::now().checked_sub(self.upload_retention) else {
            return;
        };
        let cutoff = chrono::DateTime::<chrono::Utc>::from(before).naive_utc();
        let (chat, dir) = (self.chat.clone(), self.attachments_dir.clone());
        let work = async move {
            let unused = match chat.send(DiscardUploads(Unsent::Before(cutoff))).await {
                Ok(Ok(unused)) => unused,
                Ok(Err(e)) => return log::warn!("expired uploads not removed yet: {e}"),
                Err(e) => return log::warn!("expired uploads not removed yet: {e}"),
            };
            let files = unused.len();
            let removed = actix_web::rt::task::spawn_blocking(move || {
                crate::file_store::remove_stale(&dir, &unused, before)
            })
            .await
            .unwrap_or(0);
            if files > 0 {
                log::info!("housekeeping: removed {removed} files of uploads never sent");
            }
        };
        ctx.wait(work.into_actor(self));
    }
}

impl Actor for Housekeeping {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.every(), |act, ctx| act.sweep(ctx));
    }
}
