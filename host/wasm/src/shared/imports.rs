//! The 0.2.0 imports: each finds the calling user's [`UserCtx`] by its
//! session handle and does what the 0.1 import does for that user (the same
//! code, in `crate::imports`). `http.send` and the flags let go of the store
//! while they wait, so the instance's other users run meanwhile.

use super::bindings::wasp::plugin as v2;
use super::instance::InstanceState;
use crate::bindings::wasp::plugin as v1;
use crate::bindings::wasp::plugin::types::{HttpError, PackedResponse, Request, Response};
use crate::imports::http::Answered;
use crate::imports::UserCtx;
use open_feature::EvaluationContext;
use wasmtime::component::{Accessor, HasData, Resource};
use wasp_flags::FlagType;

impl HasData for InstanceState {
    type Data<'a> = &'a mut InstanceState;
}

impl InstanceState {
    /// The user behind a session handle. The handle is the guest's: one the
    /// host never gave (or took back) traps the instance.
    pub(crate) fn user(&mut self, s: &Resource<UserCtx>) -> wasmtime::Result<&mut UserCtx> {
        Ok(self.table.get_mut(s)?)
    }
}

impl v2::session::HostSession for InstanceState {
    async fn user_id(&mut self, s: Resource<UserCtx>) -> wasmtime::Result<u64> {
        Ok(self.user(&s)?.id)
    }

    /// The guest let go of its session (its user ended): the user's state
    /// goes, at once when it is between calls, else once the call has ended
    /// (its span and responses are counted first).
    async fn drop(&mut self, s: Resource<UserCtx>) -> wasmtime::Result<()> {
        if self.user(&s)?.phase == crate::imports::Phase::Idle {
            self.table.delete(s)?;
        } else {
            self.released.push(s.rep());
        }
        Ok(())
    }
}

impl v2::session::Host for InstanceState {
    async fn host(&mut self) -> wasmtime::Result<String> {
        Ok(self.run.host.clone())
    }

    async fn elapsed_ms(&mut self) -> wasmtime::Result<u64> {
        Ok(self.run.start.elapsed().as_millis() as u64)
    }
}

impl v1::types::Host for InstanceState {}

impl v2::http::Host for InstanceState {
    async fn fail(&mut self, s: Resource<UserCtx>, id: u64, message: String) -> wasmtime::Result<()> {
        v1::http::Host::fail(self.user(&s)?, id, message).await;
        Ok(())
    }

    async fn pass(&mut self, s: Resource<UserCtx>, id: u64) -> wasmtime::Result<()> {
        v1::http::Host::pass(self.user(&s)?, id).await;
        Ok(())
    }
}

impl<T> v2::http::HostWithStore<T> for InstanceState {
    async fn send(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, req: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        Ok(exchange(accessor, s, req).await?.map(Answered::response))
    }

    async fn send_packed(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, req: Request) -> wasmtime::Result<Result<PackedResponse, HttpError>> {
        Ok(exchange(accessor, s, req).await?.map(Answered::packed))
    }
}

/// `http.send` and `http.send-packed` for the session's user: the request
/// goes out away from the store, so the instance's other users run meanwhile.
async fn exchange<T>(accessor: &Accessor<T, InstanceState>, s: Resource<UserCtx>, req: Request) -> wasmtime::Result<Result<Answered, HttpError>> {
    let prepared = accessor.with(|mut a| -> wasmtime::Result<_> {
        let state = a.get();
        state.ticks = 0;
        let user = state.user(&s)?;
        if user.gone {
            return Ok(Err(HttpError::Denied("the user has stopped".into())));
        }
        Ok(user.outgoing(req).map(|(out, flight)| (out, flight, user.http.session(), user.run.clone())))
    })?;
    let (outgoing, flight, session, run) = match prepared {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let result = run.http.send(&session, outgoing).await;
    accessor.with(|mut a| {
        let user = a.get().user(&s)?;
        if user.gone {
            // Stopped meanwhile: its request was counted as interrupted.
            return Ok(Err(HttpError::Denied("the user has stopped".into())));
        }
        Ok(user.answered(flight, result))
    })
}

/// Evaluates a flag for the session's user, away from the store.
async fn flag<T, D: FlagType>(accessor: &Accessor<T, InstanceState>, s: Resource<UserCtx>, key: String, default: D) -> wasmtime::Result<D> {
    let (run, ctx, parent) = accessor.with(|mut a| -> wasmtime::Result<_> {
        let state = a.get();
        state.ticks = 0;
        let user = state.user(&s)?;
        let ctx = EvaluationContext::default().with_targeting_key(user.id.to_string());
        Ok((user.run.clone(), ctx, user.telemetry.current()))
    })?;
    Ok(run.flags.get(&key, default, &ctx, &parent).await)
}

impl v2::flags::Host for InstanceState {}

impl<T> v2::flags::HostWithStore<T> for InstanceState {
    async fn get_bool(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, key: String, default: bool) -> wasmtime::Result<bool> {
        flag(accessor, s, key, default).await
    }

    async fn get_int(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, key: String, default: i64) -> wasmtime::Result<i64> {
        flag(accessor, s, key, default).await
    }

    async fn get_float(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, key: String, default: f64) -> wasmtime::Result<f64> {
        flag(accessor, s, key, default).await
    }

    async fn get_string(accessor: &Accessor<T, Self>, s: Resource<UserCtx>, key: String, default: String) -> wasmtime::Result<String> {
        flag(accessor, s, key, default).await
    }
}

impl v2::baggage::Host for InstanceState {
    async fn set(&mut self, s: Resource<UserCtx>, key: String, value: String) -> wasmtime::Result<()> {
        v1::baggage::Host::set(self.user(&s)?, key, value).await
    }

    async fn get(&mut self, s: Resource<UserCtx>, key: String) -> wasmtime::Result<Option<String>> {
        Ok(v1::baggage::Host::get(self.user(&s)?, key).await)
    }

    async fn remove(&mut self, s: Resource<UserCtx>, key: String) -> wasmtime::Result<()> {
        v1::baggage::Host::remove(self.user(&s)?, key).await;
        Ok(())
    }

    async fn entries(&mut self, s: Resource<UserCtx>) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(v1::baggage::Host::entries(self.user(&s)?).await)
    }
}

fn level(l: v2::log::Level) -> v1::log::Level {
    use v2::log::Level as L;
    match l {
        L::Trace => v1::log::Level::Trace,
        L::Debug => v1::log::Level::Debug,
        L::Info => v1::log::Level::Info,
        L::Warn => v1::log::Level::Warn,
        L::Error => v1::log::Level::Error,
    }
}

impl v2::log::Host for InstanceState {
    async fn log(&mut self, s: Resource<UserCtx>, l: v2::log::Level, message: String, attributes: Vec<(String, String)>) -> wasmtime::Result<()> {
        v1::log::Host::log(self.user(&s)?, level(l), message, attributes).await;
        Ok(())
    }
}

fn value(v: v2::telemetry::Value) -> v1::telemetry::Value {
    use v2::telemetry::Value as V;
    match v {
        V::Str(s) => v1::telemetry::Value::Str(s),
        V::Int(i) => v1::telemetry::Value::Int(i),
        V::Float(f) => v1::telemetry::Value::Float(f),
        V::Boolean(b) => v1::telemetry::Value::Boolean(b),
    }
}

impl v2::telemetry::Host for InstanceState {
    async fn set_attribute(&mut self, s: Resource<UserCtx>, key: String, v: v2::telemetry::Value) -> wasmtime::Result<()> {
        v1::telemetry::Host::set_attribute(self.user(&s)?, key, value(v)).await
    }

    async fn set_span_name(&mut self, s: Resource<UserCtx>, name: String) -> wasmtime::Result<()> {
        v1::telemetry::Host::set_span_name(self.user(&s)?, name).await;
        Ok(())
    }

    async fn start_span(&mut self, s: Resource<UserCtx>, name: String) -> wasmtime::Result<()> {
        v1::telemetry::Host::start_span(self.user(&s)?, name).await
    }

    async fn end_span(&mut self, s: Resource<UserCtx>) -> wasmtime::Result<()> {
        v1::telemetry::Host::end_span(self.user(&s)?).await;
        Ok(())
    }

    async fn add_event(&mut self, s: Resource<UserCtx>, name: String, attributes: Vec<(String, v2::telemetry::Value)>) -> wasmtime::Result<()> {
        let attributes = attributes.into_iter().map(|(k, v)| (k, value(v))).collect();
        v1::telemetry::Host::add_event(self.user(&s)?, name, attributes).await
    }

    async fn record_exception(&mut self, s: Resource<UserCtx>, message: String) -> wasmtime::Result<()> {
        v1::telemetry::Host::record_exception(self.user(&s)?, message).await
    }

    async fn discard_span(&mut self, s: Resource<UserCtx>) -> wasmtime::Result<()> {
        v1::telemetry::Host::discard_span(self.user(&s)?).await;
        Ok(())
    }
}
