//! Who people are: guest ids the server issued, and onboarding codes (stored hashed,
//! single use, attempts counted per person).

use diesel::prelude::*;

use super::conversations::post_note;
use super::{Write, WriteError};
use crate::db::models::{AuthCodeRow, GuestRow};
use crate::db::schema::{auth_codes, guests};
use crate::db::DbConnection;
use crate::domain::auth_code::{Refusal, MAX_ATTEMPTS};
use crate::domain::message::now_millis;
use crate::domain::writes::{
    CheckedCode, CodeChecked, CodeHolder, CodeIssued, IssueCode, IssueGuest, VerifyCode,
};

impl Write for IssueGuest {
    type Outcome = String;

    fn apply(&self, conn: &mut DbConnection) -> Result<String, WriteError> {
        diesel::insert_into(guests::table)
            .values(&GuestRow {
                id: self.id.clone(),
                created_at: now_millis(),
            })
            .execute(conn)?;
        Ok(self.id.clone())
    }
}

impl Write for IssueCode {
    type Outcome = CodeIssued;

    fn apply(&self, conn: &mut DbConnection) -> Result<CodeIssued, WriteError> {
        let now = now_millis();
        let row = AuthCodeRow {
            id: self.id.clone(),
            code_hash: self.code_hash.clone(),
            conversation_id: Some(self.conversation_id.clone()),
            user_id: self.user_id.clone(),
            guest_id: self.guest_id.clone(),
            device_info: self.device_info.clone(),
            created_by: self.author.id.clone(),
            attempts: 0,
            expires_at: self.expires_at,
            used_at: None,
            created_at: now,
        };
        diesel::insert_into(auth_codes::table)
            .values(&row)
            .execute(conn)?;
        let (conversation, message) = post_note(
            conn,
            &self.conversation_id,
            &self.author,
            &self.text,
            "auth_code",
        )?;
        Ok(CodeIssued {
            expires_at: self.expires_at,
            conversation,
            message,
        })
    }
}

/// Accept a code once, for the person it was issued to. Every refusal uses up one of
/// that person's attempts, so guessing is bounded per person whatever the address.
impl Write for VerifyCode {
    type Outcome = CodeChecked;

    fn apply(&self, conn: &mut DbConnection) -> Result<CodeChecked, WriteError> {
        let now = now_millis();
        let of_holder = || {
            let q = auth_codes::table.into_boxed();
            match &self.holder {
                CodeHolder::User(u) => q.filter(auth_codes::user_id.eq(u.clone())),
                CodeHolder::Guest(g) => q.filter(auth_codes::guest_id.eq(g.clone())),
            }
        };
        let found = of_holder()
            .filter(auth_codes::code_hash.eq(&self.code_hash))
            .order(auth_codes::created_at.desc())
            .select(AuthCodeRow::as_select())
            .first(conn)
            .optional()?;
        // Locked when the holder's newest live code has had too many wrong guesses; a
        // fresh code from staff unlocks. Once locked, no answer says more than that.
        let locked = of_holder()
            .filter(auth_codes::used_at.is_null())
            .filter(auth_codes::expires_at.gt(now))
            .order(auth_codes::created_at.desc())
            .select(auth_codes::attempts)
            .first::<i32>(conn)
            .optional()?
            .is_some_and(|attempts| attempts >= MAX_ATTEMPTS);
        let checked = match found {
            _ if locked => Err(Refusal::TooManyAttempts),
            Some(c) if c.used_at.is_some() => Err(Refusal::Used),
            Some(c) if c.expires_at <= now => Err(Refusal::Expired),
            Some(c) => {
                diesel::update(auth_codes::table.find(&c.id))
                    .set(auth_codes::used_at.eq(Some(now)))
                    .execute(conn)?;
                super::outbox::code_verified(conn, &c)?;
                Ok(CheckedCode {
                    id: c.id,
                    user_id: c.user_id,
                    guest_id: c.guest_id,
                })
            }
            None => Err(Refusal::Invalid),
        };
        if checked.is_err() {
            let live: Vec<String> = of_holder()
                .filter(auth_codes::used_at.is_null())
                .filter(auth_codes::expires_at.gt(now))
                .select(auth_codes::id)
                .load(conn)?;
            diesel::update(auth_codes::table.filter(auth_codes::id.eq_any(live)))
                .set(auth_codes::attempts.eq(auth_codes::attempts + 1))
                .execute(conn)?;
        }
        Ok(checked)
    }
}
