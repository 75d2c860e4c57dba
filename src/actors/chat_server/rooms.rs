//! Who is where: customers registering on their session (which may claim it, or bind
//! an anonymous one to a browser), staff, joining and leaving conversations' rooms.

use actix::prelude::*;

use super::*;
use crate::db::reads;
use crate::domain::writes::BindAnonymous;
use crate::domain::{anonymous, text};

/// A customer registration, once its conversation (if any) has been read.
enum Admission {
    Now(JoinAsCustomer),
    /// A session from before bindings: this browser binds it first.
    Bind(JoinAsCustomer, String),
}

impl ChatServer {
    /// May this customer register on the session? Claims new sessions, and says when
    /// an unbound anonymous one is to be bound.
    fn admit_customer(
        &mut self,
        stored: Option<crate::domain::conversation::Conversation>,
        mut msg: JoinAsCustomer,
    ) -> Result<Admission, AppError> {
        let room = msg.session_id.clone();
        let owner = match &stored {
            Some(conversation) => Some(conversation.owner.clone()),
            None => self.claims.get(&room).cloned(),
        };
        msg.caller = anonymous::acting_for(
            msg.caller,
            msg.browser.as_deref(),
            &room,
            owner.as_ref(),
            msg.session_secret.as_deref(),
            &self.secrets,
        );
        match (owner, &msg.caller) {
            // A stored session from before bindings: this browser binds it.
            (Some(Owner::Anonymous(None)), Caller::Anonymous(Some(binding)))
                if stored.is_some() =>
            {
                let binding = binding.clone();
                return Ok(Admission::Bind(msg, binding));
            }
            // Nothing stored yet: a signed-in customer from another browser takes a
            // session over from browsers that only claimed it (their listeners go).
            (Some(Owner::Anonymous(_)), Caller::User(_)) if stored.is_none() => {
                self.claim(&room, Owner::for_caller(&msg.caller));
            }
            (Some(owner), caller) if !caller.may_access(&owner) => {
                return Err(AppError::access_denied())
            }
            (Some(_), _) => {}
            // The first customer on a new session claims it.
            (None, caller) if !caller.is_staff() => {
                let owner = Owner::for_caller(caller);
                self.claim(&room, owner);
            }
            (None, _) => {}
        }
        Ok(Admission::Now(msg))
    }

    fn claim(&mut self, room: &str, owner: Owner) {
        self.decide_owner(room, &owner);
        self.claims.insert(room.to_owned(), owner);
    }

    /// Register the admitted customer.
    fn seat_customer(&mut self, msg: JoinAsCustomer) -> Seated {
        let session_secret = match &msg.caller {
            Caller::Anonymous(Some(binding)) => Some(self.secrets.issue(&msg.session_id, binding)),
            _ => None,
        };
        self.attach(msg.conn, msg.recipient, msg.caller.clone());
        self.join_room(msg.conn, &msg.session_id);
        Seated {
            caller: msg.caller,
            session_secret,
        }
    }

    /// Bind an anonymous session to the registering browser, then seat it, unless
    /// another browser bound it first.
    fn bind_and_seat(
        &mut self,
        ctx: &mut Context<Self>,
        msg: JoinAsCustomer,
        binding: String,
    ) -> ResponseFuture<Result<Seated, AppError>> {
        let bind = BindAnonymous {
            conversation_id: msg.session_id.clone(),
            binding,
        };
        let seated = self.request(ctx, bind, move |act, _, conversation| {
            if !msg.caller.may_access(&conversation.owner) {
                return Err(AppError::access_denied());
            }
            // Now that it is bound, listeners from other browsers go.
            act.decide_owner(&msg.session_id, &conversation.owner);
            Ok(act.seat_customer(msg))
        });
        Box::pin(async move { seated.await? })
    }
}

impl Handler<JoinAsCustomer> for ChatServer {
    type Result = ResponseActFuture<Self, Result<Seated, AppError>>;

    fn handle(&mut self, msg: JoinAsCustomer, _: &mut Context<Self>) -> Self::Result {
        if msg.caller.is_anonymous() {
            if let Err(e) = text::anonymous_session_id(&msg.session_id) {
                return Box::pin(fut::ready(Err(e)));
            }
        }
        let db = self.db.clone();
        let id = msg.session_id.clone();
        let found = async move { db.query(move |c| reads::find_conversation(c, &id)).await };
        Box::pin(found.into_actor(self).then(move |found, act, ctx| {
            let seated: ResponseFuture<Result<Seated, AppError>> =
                match found.and_then(|stored| act.admit_customer(stored, msg)) {
                    Err(e) => Box::pin(async move { Err(e) }),
                    Ok(Admission::Now(msg)) => {
                        let seated = act.seat_customer(msg);
                        Box::pin(async move { Ok(seated) })
                    }
                    Ok(Admission::Bind(msg, binding)) => act.bind_and_seat(ctx, msg, binding),
                };
            fut::wrap_future(seated)
        }))
    }
}

impl Handler<JoinAsStaff> for ChatServer {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: JoinAsStaff, _: &mut Context<Self>) -> Self::Result {
        if !msg.caller.is_staff() {
            return Err(AppError::insufficient_permissions());
        }
        self.attach(msg.conn, msg.recipient, msg.caller);
        Ok(())
    }
}

impl Handler<Attach> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Attach, _: &mut Context<Self>) {
        self.attach(msg.conn, msg.recipient, msg.caller);
    }
}

impl Handler<JoinConversation> for ChatServer {
    type Result = ResponseActFuture<Self, Result<Joined, AppError>>;

    fn handle(&mut self, msg: JoinConversation, _: &mut Context<Self>) -> Self::Result {
        let Some(caller) = self.conns.get(&msg.conn).map(|c| c.caller.clone()) else {
            return Box::pin(fut::ready(Err(AppError::not_registered())));
        };
        let view =
            super::reads::conversation_for(self.db.clone(), msg.conversation_id.clone(), caller);
        Box::pin(view.into_actor(self).map(move |view, act, _| {
            let conversation = view?;
            act.join_room(msg.conn, &msg.conversation_id);
            Ok(Joined {
                conversation,
                participants: act.participants(&msg.conversation_id),
            })
        }))
    }
}

impl Handler<LeaveConversation> for ChatServer {
    type Result = Result<(), AppError>;
    fn handle(&mut self, msg: LeaveConversation, _: &mut Context<Self>) -> Self::Result {
        self.leave_room(msg.conn, &msg.conversation_id);
        Ok(())
    }
}

impl Handler<Leave> for ChatServer {
    type Result = ();
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        self.detach(msg.conn);
    }
}
