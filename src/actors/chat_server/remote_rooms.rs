//! Cluster mode: who is in which room, and typing there, on the other nodes. Learnt
//! from the presence and typing events they publish; a node that goes takes its
//! members and typing states with it, and this node tells its own rooms.

use std::collections::HashMap;

use crate::actors::cluster::Member;
use crate::domain::Event;

use super::Participant;

/// By node, by room, by participant id.
type Members = HashMap<String, HashMap<String, HashMap<String, Participant>>>;

#[derive(Default)]
pub(super) struct RemoteRooms {
    members: Members,
    /// By node: (room, participant id) → name.
    typing: HashMap<String, HashMap<(String, String), String>>,
}

/// What a node that went had: its rooms' members and who was typing.
pub(super) struct Departed {
    pub members: Vec<(String, Participant)>,
    pub typing: Vec<((String, String), String)>,
}

/// A role as ChatServer names it (another node's event names one of these).
fn role(name: &str) -> &'static str {
    match name {
        "admin" => "admin",
        "agent" => "agent",
        "guest" => "guest",
        _ => "customer",
    }
}

impl RemoteRooms {
    /// Note a presence or typing event from `node`.
    pub fn observe(&mut self, node: &str, event: &Event) {
        match event {
            Event::Presence {
                conversation_id,
                participant_id,
                role: r,
                name,
                joined,
            } => {
                let rooms = self.members.entry(node.to_owned()).or_default();
                let room = rooms.entry(conversation_id.clone()).or_default();
                if *joined {
                    let p = Participant {
                        id: participant_id.clone(),
                        role: role(r),
                        name: name.clone(),
                    };
                    room.insert(participant_id.clone(), p);
                } else {
                    room.remove(participant_id);
                    if room.is_empty() {
                        rooms.remove(conversation_id);
                    }
                }
            }
            Event::Typing {
                conversation_id,
                participant_id,
                name,
                typing,
                ..
            } => {
                let states = self.typing.entry(node.to_owned()).or_default();
                let key = (conversation_id.clone(), participant_id.clone());
                if *typing {
                    states.insert(key, name.clone());
                } else {
                    states.remove(&key);
                }
            }
            _ => {}
        }
    }

    /// Everything `node` has in its rooms now (it shared it whole).
    pub fn replace(&mut self, node: &str, rooms: Vec<(String, Vec<Member>)>) {
        let rooms = rooms
            .into_iter()
            .map(|(room, members)| {
                let members = members
                    .into_iter()
                    .map(|m| {
                        let p = Participant {
                            id: m.id.clone(),
                            role: role(&m.role),
                            name: m.name,
                        };
                        (m.id, p)
                    })
                    .collect();
                (room, members)
            })
            .collect();
        self.members.insert(node.to_owned(), rooms);
    }

    /// The room's members on other nodes (once per node they are on).
    pub fn in_room<'a>(&'a self, room: &'a str) -> impl Iterator<Item = &'a Participant> + 'a {
        self.members
            .values()
            .filter_map(move |rooms| rooms.get(room))
            .flat_map(|members| members.values())
    }

    /// Forget a node that went.
    pub fn depart(&mut self, node: &str) -> Departed {
        let members = self.members.remove(node).unwrap_or_default();
        Departed {
            members: members
                .into_iter()
                .flat_map(|(room, m)| m.into_values().map(move |p| (room.clone(), p)))
                .collect(),
            typing: self
                .typing
                .remove(node)
                .unwrap_or_default()
                .into_iter()
                .collect(),
        }
    }
}
