//! The export side: turns a [`User`] type into the `behaviour` interface.
//! One instance of the plugin is one simulated user, so the user value and
//! its task list live in per-instance statics.

use crate::bindings::exports::wasp::plugin::behaviour::{Guest, Info, Task as WitTask, Wait as WitWait};
use crate::{Task, User};
use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

thread_local! {
    static USER: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    static TASKS: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

pub struct Glue<U>(PhantomData<U>);

fn with_user<U: User, R>(f: impl FnOnce(&mut U) -> R) -> R {
    let mut user = USER.with(|u| u.borrow_mut().take()).unwrap_or_else(|| Box::new(U::default()));
    let r = f(user.downcast_mut::<U>().expect("one user type per plugin"));
    USER.with(|u| *u.borrow_mut() = Some(user));
    r
}

fn task_fn<U: User>(index: u32) -> Option<fn(&mut U) -> crate::TaskResult> {
    TASKS.with(|t| {
        let mut t = t.borrow_mut();
        let tasks = t.get_or_insert_with(|| Box::new(U::tasks()));
        let tasks = tasks.downcast_ref::<Vec<Task<U>>>().expect("one user type per plugin");
        tasks.get(index as usize).map(|t| t.run)
    })
}

impl<U: User> Guest for Glue<U> {
    fn describe() -> Info {
        wasp_sdk_core::__describe!(U, Info, WitTask, WitWait)
    }

    fn on_start() -> Result<(), String> {
        with_user::<U, _>(|u| u.on_start()).map_err(|e| e.to_string())
    }

    fn run_task(index: u32) -> Result<(), String> {
        let Some(run) = task_fn::<U>(index) else {
            return Err(format!("no task #{index}"));
        };
        with_user::<U, _>(|u| run(u)).map_err(|e| e.to_string())
    }

    fn on_stop() {
        with_user::<U, _>(|u| u.on_stop());
    }
}
