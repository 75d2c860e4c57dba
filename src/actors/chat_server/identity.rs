//! Who people are, and what they bring: guest ids the server issues, onboarding codes
//! (issued by staff, checked for the person they were issued to), and uploads.

use actix::prelude::*;

use super::conversations::author_for;
use super::*;
use crate::domain::auth_code::{self, Refusal};
use crate::domain::conversation::new_guest_id;
use crate::domain::message::{iso_timestamp, now_millis};
use crate::domain::writes::{self, CodeHolder, NewUpload};

impl Handler<IssueGuest> for ChatServer {
    type Result = ResponseFuture<Result<String, AppError>>;

    fn handle(&mut self, _: IssueGuest, ctx: &mut Context<Self>) -> Self::Result {
        let issue = writes::IssueGuest { id: new_guest_id() };
        self.request(ctx, issue, |_, _, id| id)
    }
}

/// Who uploads are kept under: the same id the caller's messages carry.
pub fn uploader_id(caller: &Caller) -> Option<String> {
    // An anonymous caller's id is its session's, which an upload does not name.
    (!caller.is_anonymous()).then(|| participant_id(caller, ""))
}

impl Handler<RegisterUploads> for ChatServer {
    type Result = ResponseFuture<Result<Vec<crate::domain::message::Attachment>, AppError>>;

    fn handle(&mut self, msg: RegisterUploads, ctx: &mut Context<Self>) -> Self::Result {
        // Uploads belong to the identity that will send them (a signed-in user or a guest).
        let Some(uploader) = uploader_id(&msg.caller) else {
            return Box::pin(async { Err(AppError::token_required()) });
        };
        // An upload counts like a post against its uploader's rate.
        let kind = if matches!(msg.caller, Caller::Guest(_)) {
            SenderKind::Guest
        } else {
            SenderKind::Customer
        };
        let author = Author {
            id: uploader.clone(),
            kind,
            name: String::new(),
        };
        if let Err(e) = self.allow_post(&author) {
            return Box::pin(async move { Err(e) });
        }
        let now = now_millis();
        let uploads = msg
            .files
            .into_iter()
            .map(|(sha256, file_name, content_type, size)| NewUpload {
                id: uuid::Uuid::new_v4().to_string(),
                uploader_id: uploader.clone(),
                sha256,
                file_name,
                content_type,
                size,
                created_at: now,
            })
            .collect();
        self.request(ctx, writes::StoreUploads { uploads }, |_, _, stored| stored)
    }
}

impl Handler<DiscardUploads> for ChatServer {
    type Result = ResponseFuture<Result<Vec<String>, AppError>>;

    fn handle(&mut self, msg: DiscardUploads, ctx: &mut Context<Self>) -> Self::Result {
        let discard = writes::DiscardUploads { which: msg.0 };
        self.request(ctx, discard, |_, _, unused| unused)
    }
}

impl Handler<IssueAuthCode> for ChatServer {
    type Result = ResponseFuture<Result<IssuedCode, AppError>>;

    fn handle(&mut self, msg: IssueAuthCode, ctx: &mut Context<Self>) -> Self::Result {
        let Caller::Staff(_) = &msg.caller else {
            return Box::pin(async { Err(AppError::forbidden("Admin access required")) });
        };
        let author = match author_for(&msg.caller, PostAs::Staff, &msg.conversation_id) {
            Ok(a) => a,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let code = auth_code::new_code();
        let expires_at = now_millis()
            + chrono::Duration::from_std(self.limits.auth_code_ttl)
                .unwrap_or(chrono::Duration::minutes(10));
        let issue = writes::IssueCode {
            id: uuid::Uuid::new_v4().to_string(),
            code_hash: auth_code::hash(&self.code_pepper, &code),
            conversation_id: msg.conversation_id.clone(),
            user_id: msg.user_id,
            guest_id: msg.guest_id,
            device_info: msg.device_info,
            expires_at,
            text: format!("Your verification code is {code}"),
            author,
        };
        let conversation_id = msg.conversation_id;
        self.request(ctx, issue, move |act, ctx, issued| {
            act.arrived(&issued.conversation, &issued.message, None, ctx);
            act.announce_message(issued.message, None);
            IssuedCode {
                code,
                expires_at: iso_timestamp(issued.expires_at),
                conversation_id,
            }
        })
    }
}

impl Handler<VerifyAuthCode> for ChatServer {
    type Result = ResponseFuture<Result<VerifiedCode, AppError>>;

    fn handle(&mut self, msg: VerifyAuthCode, ctx: &mut Context<Self>) -> Self::Result {
        let code = msg.code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Box::pin(async { Err(AppError::validation("code must be 6 digits")) });
        }
        let holder = match (msg.user_id, msg.guest_id) {
            (Some(u), None) => CodeHolder::User(u),
            (None, Some(g)) => CodeHolder::Guest(g),
            _ => {
                return Box::pin(async {
                    Err(AppError::validation(
                        "Give exactly one of userId and guestId",
                    ))
                })
            }
        };
        let verify = writes::VerifyCode {
            code_hash: auth_code::hash(&self.code_pepper, code),
            holder,
        };
        let checked = self.request(ctx, verify, |_, _, checked| {
            checked
                .map(|c| VerifiedCode {
                    auth_code_id: c.id,
                    user_id: c.user_id.or(c.guest_id),
                })
                .map_err(refusal)
        });
        Box::pin(async move { checked.await? })
    }
}

/// A refused code, as the seeds word it.
fn refusal(r: Refusal) -> AppError {
    match r {
        Refusal::Invalid => AppError::new(ErrorKind::InvalidCode, "Invalid or expired code"),
        Refusal::Expired => {
            AppError::new(ErrorKind::InvalidCode, "Invalid or expired code").with_detail("expired")
        }
        Refusal::Used => AppError::new(ErrorKind::InvalidCode, "Code already used"),
        Refusal::TooManyAttempts => AppError::new(ErrorKind::RateLimited, "Too many attempts"),
    }
}
