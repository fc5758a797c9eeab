//! A behaviour's tasks, whatever runs them: `F` is the SDK's task function
//! (a plain method in `wasp-sdk`, an async one taking the user's client in
//! `wasp-sdk-async`).

/// One task: a name, a weight, optional tags, and the function that runs it.
pub struct Task<F> {
    pub name: String,
    pub weight: u32,
    pub tags: Vec<String>,
    pub run: F,
}

impl<F> Task<F> {
    /// A task with a name and a weight (relative to the other tasks' weights).
    pub fn new(name: &str, weight: u32, run: F) -> Task<F> {
        Task { name: name.to_string(), weight, tags: Vec::new(), run }
    }

    /// Adds a tag, for `wasp run --tags/--exclude-tags`.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_string());
        self
    }
}

/// The name a behaviour shows by default: its type's name, without the path.
pub fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full).to_string()
}

/// The `describe` record of user type `$user`, in the SDK's bindings: their
/// `Info`, `Task` and `Wait` types.
#[macro_export]
#[doc(hidden)]
macro_rules! __describe {
    ($user:ty, $info:ident, $task:ident, $wait:ident) => {{
        use $crate::wit_ms;
        let wait = match <$user>::wait() {
            $crate::Wait::None => $wait::None,
            $crate::Wait::Constant(d) => $wait::Constant(wit_ms(d)),
            $crate::Wait::Between(lo, hi) => $wait::Between((wit_ms(lo), wit_ms(hi))),
            $crate::Wait::Pacing(d) => $wait::Pacing(wit_ms(d)),
        };
        let tasks = <$user>::tasks().into_iter().map(|t| $task { name: t.name, weight: t.weight, tags: t.tags }).collect();
        $info { name: <$user>::name(), tasks, wait }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_take_tags_and_types_show_their_short_name() {
        let t = Task::new("index", 3, ()).tag("read").tag("home");
        assert_eq!((t.name.as_str(), t.weight, t.tags), ("index", 3, vec!["read".to_string(), "home".to_string()]));
        struct Shopper;
        assert_eq!(short_type_name::<Shopper>(), "Shopper");
    }
}
