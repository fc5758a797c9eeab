//! The origins a run's users may reach: `--host` and `--allow-host`.

use url::Url;

/// Origins guests may reach.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    origins: Vec<url::Origin>,
    /// Entries given as a bare host name: any scheme and port.
    hosts: Vec<String>,
}

impl AllowList {
    /// Adds `http://h:p`, `https://h`, `h:p` (http) or a bare host `h`.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err("empty host".into());
        }
        if entry.contains("://") {
            let u = Url::parse(entry).map_err(|e| format!("bad origin '{entry}': {e}"))?;
            if u.host_str().is_none() {
                return Err(format!("bad origin '{entry}': no host"));
            }
            self.origins.push(u.origin());
        } else {
            let u = Url::parse(&format!("http://{entry}")).map_err(|e| format!("bad host '{entry}': {e}"))?;
            match (u.port(), u.host_str()) {
                (Some(_), _) => self.origins.push(u.origin()),
                (None, Some(h)) => self.hosts.push(h.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase()),
                (None, None) => return Err(format!("bad host '{entry}'")),
            }
        }
        Ok(())
    }

    pub fn allows(&self, url: &Url) -> bool {
        let origin = url.origin();
        self.origins.contains(&origin)
            || url.host_str().is_some_and(|h| {
                let h = h.trim_matches(|c| c == '[' || c == ']');
                self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_origins_and_bare_hosts() {
        let mut a = AllowList::default();
        a.add("http://127.0.0.1:8080").unwrap();
        a.add("localhost:9000").unwrap();
        a.add("example.com").unwrap();
        let ok = |s: &str| a.allows(&Url::parse(s).unwrap());
        assert!(ok("http://127.0.0.1:8080/x?y"));
        assert!(!ok("http://127.0.0.1:8081/"));
        assert!(!ok("https://127.0.0.1:8080/"));
        assert!(ok("http://localhost:9000/"));
        assert!(!ok("http://localhost:9001/"));
        assert!(ok("https://example.com:444/"));
        assert!(!ok("https://sub.example.com/"));
        assert!(a.add("http://").is_err());
        assert!(a.add("").is_err());
    }
}
