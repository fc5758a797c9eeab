//! The shards' barrier addresses: `host:port` entries, comma separated, where
//! `{A..B}` stands for every number from A to B — `wasp-{0..3}.wasp-peers:7357`
//! is the four pods of an Indexed Job behind a headless Service.

/// The most peers a barrier waits for.
pub const MAX_PEERS: usize = 10_000;

/// Expands the list into one `host:port` per peer, in order.
pub fn expand(list: &str) -> Result<Vec<String>, String> {
    let mut out = vec![];
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match (entry.find('{'), entry.find('}')) {
            (None, None) => out.push(entry.to_string()),
            (Some(open), Some(close)) if open < close => {
                let (lo, hi) =
                    entry[open + 1..close].split_once("..").ok_or_else(|| format!("'{entry}': write a range as {{A..B}}, e.g. wasp-{{0..3}}.peers:7357"))?;
                let num = |x: &str| x.trim().parse::<usize>().map_err(|_| format!("'{entry}': '{x}' is not a whole number"));
                let (lo, hi) = (num(lo)?, num(hi)?);
                if hi < lo || hi - lo >= MAX_PEERS {
                    return Err(format!("'{entry}': the range must go up, over at most {MAX_PEERS} numbers"));
                }
                let (head, tail) = (&entry[..open], &entry[close + 1..]);
                if tail.contains('{') {
                    return Err(format!("'{entry}': one range per entry"));
                }
                out.extend((lo..=hi).map(|i| format!("{head}{i}{tail}")));
            }
            _ => return Err(format!("'{entry}': unbalanced braces")),
        }
        if out.len() > MAX_PEERS {
            return Err(format!("more than {MAX_PEERS} peers"));
        }
    }
    for p in &out {
        port(p)?;
    }
    if out.is_empty() {
        return Err("no peer: give host:port entries, e.g. wasp-{0..3}.wasp-peers:7357".into());
    }
    Ok(out)
}

/// The port of a `host:port` entry.
pub fn port(entry: &str) -> Result<u16, String> {
    let (host, port) = entry.rsplit_once(':').ok_or_else(|| format!("peer '{entry}' has no port: write host:port"))?;
    if host.is_empty() {
        return Err(format!("peer '{entry}' has no host"));
    }
    port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("peer '{entry}': '{port}' is not a port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_in_order() {
        assert_eq!(expand("wasp-{0..2}.peers:7357").unwrap(), ["wasp-0.peers:7357", "wasp-1.peers:7357", "wasp-2.peers:7357"]);
        assert_eq!(expand("10.0.0.1:1, 10.0.0.{5..6}:2").unwrap(), ["10.0.0.1:1", "10.0.0.5:2", "10.0.0.6:2"]);
        assert_eq!(expand("[::1]:80").unwrap(), ["[::1]:80"]);
        for (bad, why) in [
            ("", "no peer"),
            ("a", "no port"),
            ("a:x", "not a port"),
            ("a-{3..1}:1", "must go up"),
            ("a-{1-3}:1", "{A..B}"),
            ("a-{1..3:1", "unbalanced"),
            ("a{0..1}b{0..1}:1", "one range"),
            ("a-{0..99999}:1", "at most"),
        ] {
            let e = expand(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
