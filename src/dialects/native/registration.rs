//! Registering a native connection: as a customer of a session (signed in, a guest,
//! or anonymous, i.e. its browser), or as staff; and the token's expiry, which ends
//! the connection.

use actix::prelude::*;
use actix_web_actors::ws::CloseCode;

use super::{Ctx, NativeSocket, Order, Registration, Reply, MAX_REGISTRATIONS};
use crate::actors::chat_server::{JoinAsCustomer, JoinAsStaff, VerifyGuest};
use crate::actors::live_stream::Watch;
use crate::domain::Caller;
use crate::error::AppError;
use crate::transport::ws_connection;

impl NativeSocket {
    /// Registration with a token lasts until the token expires; then the connection ends.
    pub(super) fn set_registration(&mut self, registration: Registration, ctx: &mut Ctx) {
        if let Some(handle) = self.expiry.take() {
            ctx.cancel_future(handle);
        }
        self.registration = registration;
        let expires_at = self.identity().map(|i| i.expires_at);
        // Every registered connection watches the live stream (seed 002).
        let watch = Watch {
            conn: self.id,
            staff: self.caller().is_staff(),
            who: self.writer(),
            lane: self.lane.clone(),
            recipient: ctx.address().recipient(),
        };
        self.state.live.do_send(watch);
        if let Some(exp) = expires_at {
            let left_ms = (exp * 1000 - chrono::Utc::now().timestamp_millis()).max(0) as u64;
            let left = std::time::Duration::from_millis(left_ms);
            self.expiry = Some(ws_connection::later(ctx, left, |s, ctx| s.expire(ctx)));
        }
    }

    /// The token ran out: say so, and end the connection.
    pub(super) fn expire(&mut self, ctx: &mut Ctx) {
        log::info!("connection {}: token expired; closing it", self.id);
        self.ending = Some(crate::metrics::Ended::TokenExpired);
        self.error(ctx, &AppError::token_expired());
        ws_connection::close(ctx, CloseCode::Policy, Some("token expired"));
    }

    /// The token behind the registration, if it was made with one.
    pub(super) fn identity(&self) -> Option<&crate::auth::Identity> {
        match &self.registration {
            Registration::Customer {
                caller: Caller::User(i) | Caller::Staff(i),
                ..
            }
            | Registration::Staff {
                caller: Caller::Staff(i),
            } => Some(i),
            _ => None,
        }
    }

    /// Has the registered token run out (the timer may not have fired yet)?
    pub(super) fn token_expired(&self) -> bool {
        self.identity().is_some_and(|i| i.expired())
    }

    /// The identity behind this connection's requests.
    pub(super) fn caller(&self) -> Caller {
        match &self.registration {
            // Not registered: this browser, which may read its own sessions.
            Registration::None => Caller::Anonymous(Some(self.binding.clone())),
            Registration::Customer { caller, .. } | Registration::Staff { caller } => {
                caller.clone()
            }
        }
    }

    /// Verify a token, if any: `None` for no token, `Err` for a bad one.
    pub(super) fn verify(&self, token: Option<&str>) -> Option<Result<Caller, AppError>> {
        let token = token.map(str::trim).filter(|t| !t.is_empty())?;
        Some(
            self.state
                .keys
                .verify(token)
                .map(|i| Caller::from_identity(Some(i))),
        )
    }

    /// Is the connection registered? If not, say so.
    pub(super) fn registered(&self, ctx: &mut Ctx) -> bool {
        let ok = !matches!(self.registration, Registration::None);
        if !ok {
            self.error(ctx, &AppError::not_registered());
        }
        ok
    }

    /// A command this registration may not send: not registered, or the wrong role.
    pub(super) fn refuse_role(&self, ctx: &mut Ctx, e: AppError) {
        if self.registered(ctx) {
            self.error(ctx, &e);
        }
    }

    /// A customer registers on a session, signed in by token, as a guest by the id we
    /// issued it, or anonymously. Later frames wait until it has taken effect.
    pub(super) fn register_customer(
        &mut self,
        session_id: String,
        token: Option<String>,
        guest_id: Option<String>,
        session_secret: Option<String>,
        ctx: &mut Ctx,
    ) {
        if let Err(e) = crate::domain::text::session_id(&session_id) {
            return self.error(ctx, &e);
        }
        self.registrations += 1;
        if self.registrations > MAX_REGISTRATIONS {
            let e =
                AppError::rate_limited().with_detail("too many registrations on this connection");
            return self.error(ctx, &e);
        }
        // Seed 000: an invalid optional token falls back to anonymous, which is this
        // browser (its key's binding) unless a guest id is given.
        let anonymous = Caller::Anonymous(Some(self.binding.clone()));
        let caller = match self.verify(token.as_deref()) {
            Some(Ok(caller)) => caller,
            Some(Err(_)) => {
                log::info!(
                    "connection {}: invalid customer token, continuing anonymously",
                    self.id
                );
                anonymous
            }
            None => anonymous,
        };
        let (chat, conn, recipient) = (self.state.chat.clone(), self.id, ctx.address().recipient());
        let room = session_id.clone();
        let browser = self.binding.clone();
        let join = async move {
            let caller = match (caller, guest_id) {
                (Caller::Anonymous(_), Some(g)) => chat.send(VerifyGuest(g)).await??,
                (caller, _) => caller,
            };
            let seated = chat
                .send(JoinAsCustomer {
                    conn,
                    session_id: room,
                    caller,
                    recipient,
                    session_secret,
                    browser: Some(browser),
                })
                .await??;
            Ok::<_, AppError>(seated)
        };
        ws_connection::wait(ctx, join, move |s, ctx, res| match res {
            Ok(seated) => {
                s.reply(
                    ctx,
                    Reply::Registered {
                        session_id: &session_id,
                        session_secret: seated.session_secret.as_deref(),
                    },
                );
                let caller = seated.caller;
                s.set_registration(Registration::Customer { session_id, caller }, ctx);
            }
            Err(e) => s.error(ctx, &e),
        });
    }

    pub(super) fn register_staff(
        &mut self,
        user_id: Option<String>,
        token: Option<String>,
        ctx: &mut Ctx,
    ) {
        let caller = match self.verify(token.as_deref()) {
            None => return self.error(ctx, &AppError::token_required()),
            Some(Err(e)) => return self.error(ctx, &e),
            Some(Ok(c)) => c,
        };
        let Caller::Staff(identity) = &caller else {
            return self.error(ctx, &AppError::insufficient_permissions());
        };
        if user_id.as_deref().is_some_and(|u| u != identity.user_id) {
            return self.error(ctx, &AppError::forbidden("userId does not match the token"));
        }
        let user_id = identity.user_id.clone();
        let join = JoinAsStaff {
            conn: self.id,
            caller: caller.clone(),
            recipient: ctx.address().recipient(),
        };
        self.ask(join, Order::Wait, ctx, move |act, ctx, ()| {
            act.reply(ctx, Reply::AdminRegistered { user_id: &user_id });
            act.set_registration(Registration::Staff { caller }, ctx);
        });
    }
}
