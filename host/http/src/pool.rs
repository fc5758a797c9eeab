//! Idle keep-alive connections: a user's own few (one per origin it talks
//! to; a user has one request in flight at a time) or, with
//! `--shared-connections`, one pool for every user.

use crate::conn::{Conn, Origin};
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;

/// Origins a user keeps an idle connection to; the oldest goes first.
pub(crate) const USER_ORIGINS: usize = 4;
/// Idle connections the shared pool keeps per origin.
const SHARED_PER_ORIGIN: usize = 4096;

/// One user's idle connections.
#[derive(Default)]
pub(crate) struct Own {
    idle: Vec<(Origin, Conn)>,
}

impl Own {
    /// The idle connection to `url`'s origin, if it is still open.
    pub fn take(&mut self, url: &Url) -> Option<(Origin, Conn)> {
        let i = self.idle.iter().position(|(o, _)| o.serves(url))?;
        let (o, c) = self.idle.remove(i);
        (!c.is_closed()).then_some((o, c))
    }

    pub fn put(&mut self, origin: Origin, conn: Conn) {
        if conn.is_closed() {
            return;
        }
        if self.idle.len() >= USER_ORIGINS {
            self.idle.remove(0);
        }
        self.idle.push((origin, conn));
    }
}

/// The pool all users share.
#[derive(Default)]
pub(crate) struct Shared {
    idle: Mutex<HashMap<Origin, Vec<Conn>>>,
}

impl Shared {
    pub fn take(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some(c) = list.pop() {
            if !c.is_closed() {
                return Some(c);
            }
        }
        None
    }

    pub fn put(&self, origin: Origin, conn: Conn) {
        if conn.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(origin).or_default();
        if list.len() < SHARED_PER_ORIGIN {
            list.push(conn);
        }
    }
}
