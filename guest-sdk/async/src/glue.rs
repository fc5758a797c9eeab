//! The export side: turns a [`User`] type into the `behaviour` interface.
//! Each simulated user is one `user` resource holding its value of the
//! type and its [`Client`]; the task list is built once per instance.

use crate::bindings::exports::wasp::plugin::behaviour::{Guest, GuestUser, Info, Task as WitTask, Wait as WitWait};
use crate::bindings::wasp::plugin::session::Session;
use crate::{Client, Task, User};
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wasp_sdk_core::random::UserRng;

pub struct Glue<U>(PhantomData<U>);

/// One user: its value (gone after on-stop), its client and its random
/// generator.
pub struct UserGlue<U: User> {
    user: RefCell<Option<U>>,
    client: RefCell<Option<Client>>,
    tasks: Rc<Vec<Task<U>>>,
    rng: RefCell<UserRng>,
}

/// A user's call: while it runs (each poll), `wasp_sdk_core::random` draws
/// from that user's generator, so that other users' calls in between do not
/// change its numbers.
struct Seeded<'a, F> {
    rng: &'a RefCell<UserRng>,
    call: Pin<Box<F>>,
}

impl<F: Future> Future for Seeded<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.rng.borrow_mut().scope(|| this.call.as_mut().poll(cx))
    }
}

impl<U: User> UserGlue<U> {
    fn seeded<F: Future>(&self, call: F) -> Seeded<'_, F> {
        Seeded { rng: &self.rng, call: Box::pin(call) }
    }
}

thread_local! {
    static TASKS: RefCell<Option<Rc<dyn std::any::Any>>> = const { RefCell::new(None) };
}

/// The task list, built once per instance.
fn tasks<U: User>() -> Rc<Vec<Task<U>>> {
    TASKS.with(|t| {
        let mut t = t.borrow_mut();
        let any = t.get_or_insert_with(|| Rc::new(U::tasks()) as Rc<dyn std::any::Any>).clone();
        any.downcast::<Vec<Task<U>>>().unwrap_or_else(|_| Rc::new(U::tasks()))
    })
}

impl<U: User> Guest for Glue<U> {
    type User = UserGlue<U>;

    fn describe() -> Info {
        wasp_sdk_core::__describe!(U, Info, WitTask, WitWait)
    }
}

// The host calls one method of a user at a time, so the user's value is
// borrowed by one call at a time, across its awaits.
#[allow(clippy::await_holding_refcell_ref)]
impl<U: User> GuestUser for UserGlue<U> {
    fn new(s: Session) -> Self {
        let mut rng = UserRng::for_user(s.user_id());
        let user = rng.scope(U::default);
        let rng = RefCell::new(rng);
        UserGlue { user: RefCell::new(Some(user)), client: RefCell::new(Some(Client::new(s))), tasks: tasks::<U>(), rng }
    }

    async fn on_start(&self) -> Result<(), String> {
        let (Some(user), Some(client)) = (&mut *self.user.borrow_mut(), &*self.client.borrow()) else {
            return Err("the user has stopped".into());
        };
        self.seeded(user.on_start(client)).await.map_err(|e| e.to_string())
    }

    async fn run_task(&self, index: u32) -> Result<(), String> {
        let Some(task) = self.tasks.get(index as usize) else {
            return Err(format!("no task #{index}"));
        };
        let (Some(user), Some(client)) = (&mut *self.user.borrow_mut(), &*self.client.borrow()) else {
            return Err("the user has stopped".into());
        };
        self.seeded((task.run)(user, client)).await.map_err(|e| e.to_string())
    }

    /// The user's last call: its value and its session go once it returns,
    /// so that an instance holds only its live users.
    async fn on_stop(&self) {
        {
            let (Some(user), Some(client)) = (&mut *self.user.borrow_mut(), &*self.client.borrow()) else {
                return;
            };
            self.seeded(user.on_stop(client)).await;
        }
        self.user.borrow_mut().take();
        self.client.borrow_mut().take();
    }
}
