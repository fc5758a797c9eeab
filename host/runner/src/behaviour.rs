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

impl std::str::FromStr for Wait {
    type Err = String;

    /// `none`, `500ms` (constant), `1s..10s` (uniformly between), `pacing:1s`.
    fn from_str(s: &str) -> Result<Wait, String> {
        use crate::units::parse_duration;
        let s = s.trim();
        if s == "none" {
            return Ok(Wait::None);
        }
        if let Some(p) = s.strip_prefix("pacing:") {
            return Ok(Wait::Pacing(parse_duration(p)?));
        }
        if let Some((lo, hi)) = s.split_once("..") {
            let (lo, hi) = (parse_duration(lo)?, parse_duration(hi)?);
            if lo > hi {
                return Err(format!("'{s}': the lower bound is over the upper one"));
            }
            return Ok(Wait::Between(lo, hi));
        }
        parse_duration(s).map(Wait::Constant).map_err(|_| format!("'{s}' is not a wait: none, 500ms, 1s..10s or pacing:1s"))
    }
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

    #[test]
    fn waits_parse() {
        let w = |s: &str| s.parse::<Wait>();
        assert_eq!(w("none").unwrap(), Wait::None);
        assert_eq!(w("500ms").unwrap(), Wait::Constant(Duration::from_millis(500)));
        assert_eq!(w("1s..10s").unwrap(), Wait::Between(Duration::from_secs(1), Duration::from_secs(10)));
        assert_eq!(w("pacing:2s").unwrap(), Wait::Pacing(Duration::from_secs(2)));
        assert!(w("10s..1s").is_err());
        assert!(w("sometimes").is_err());
    }

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
