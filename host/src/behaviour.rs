//! What a plugin says it does: its tasks, their weights and tags, and how long a
//! user waits between tasks. Plain data, shared by the runner and the plugin loader.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    pub weight: u32,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Start the next task at once.
    None,
    Constant(Duration),
    /// Uniformly random between the two bounds (inclusive).
    Between(Duration, Duration),
    /// Start a task every period: wait the period minus what the task took.
    Pacing(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    pub name: String,
    pub tasks: Vec<Task>,
    pub wait: Wait,
}

impl Behaviour {
    /// Indices of the tasks a run may pick, after `--tags` / `--exclude-tags`
    /// (Locust's rules: with `tags`, a task needs one of them; with
    /// `exclude`, a task with any of them is dropped) and weight 0.
    pub fn selectable(&self, tags: &[String], exclude: &[String]) -> Vec<usize> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.weight > 0)
            .filter(|(_, t)| tags.is_empty() || t.tags.iter().any(|x| tags.contains(x)))
            .filter(|(_, t)| !t.tags.iter().any(|x| exclude.contains(x)))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, weight: u32, tags: &[&str]) -> Task {
        Task { name: name.into(), weight, tags: tags.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn tags_select_and_exclude_like_locust() {
        let b = Behaviour {
            name: "b".into(),
            tasks: vec![task("a", 1, &["read"]), task("b", 1, &["write"]), task("c", 1, &[]), task("d", 0, &["read"])],
            wait: Wait::None,
        };
        assert_eq!(b.selectable(&[], &[]), vec![0, 1, 2]);
        assert_eq!(b.selectable(&["read".into()], &[]), vec![0]);
        assert_eq!(b.selectable(&[], &["write".into()]), vec![0, 2]);
        assert_eq!(b.selectable(&["read".into(), "write".into()], &["write".into()]), vec![0]);
    }
}
