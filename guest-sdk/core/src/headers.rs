//! A response's headers, read where they lie: a host of `wasp:plugin@0.1.2`
//! hands them over packed into one string (`name: value\n` per header), and
//! lookups scan it without copying. A list of owned pairs is made only when
//! a plugin asks for one (`&headers[..]`, `headers.to_vec()`).

use std::cell::OnceCell;
use std::fmt;
use std::ops::Deref;

/// The headers of a response, in the order received (a name's later values
/// next to its first). Names are lower case.
#[derive(Clone, Default)]
pub struct Headers {
    /// `name: value\n` lines (empty when the headers came as pairs).
    packed: String,
    /// The same as owned pairs, made on first use of the slice view (or
    /// given, by a host that sends pairs).
    pairs: OnceCell<Vec<(String, String)>>,
}

impl Headers {
    /// Headers as `wasp:plugin@0.1.2`'s `send-packed` gives them.
    pub fn from_packed(packed: String) -> Headers {
        Headers { packed, pairs: OnceCell::new() }
    }

    /// The first value of this header (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Every value of this header, in order (e.g. each `set-cookie`).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Whether a header of this name is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Name and value of each header, in order, borrowed.
    pub fn iter(&self) -> Iter<'_> {
        match self.pairs.get() {
            Some(pairs) => Iter::Pairs(pairs.iter()),
            None => Iter::Packed(self.packed.split_terminator('\n')),
        }
    }

    pub fn len(&self) -> usize {
        match self.pairs.get() {
            Some(pairs) => pairs.len(),
            None => self.packed.bytes().filter(|b| *b == b'\n').count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One packed line: the name before the first `": "` (a name holds no
/// colon), the value after it.
fn split_line(line: &str) -> (&str, &str) {
    line.split_once(": ").unwrap_or((line, ""))
}

/// The iterator of [`Headers::iter`].
pub enum Iter<'a> {
    Packed(std::str::SplitTerminator<'a, char>),
    Pairs(std::slice::Iter<'a, (String, String)>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed(lines) => lines.next().map(split_line),
            Iter::Pairs(pairs) => pairs.next().map(|(k, v)| (k.as_str(), v.as_str())),
        }
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The headers as a slice of owned pairs, as `Response::headers` was before
/// 0.1.2: made once, on first use.
impl Deref for Headers {
    type Target = [(String, String)];

    fn deref(&self) -> &[(String, String)] {
        self.pairs.get_or_init(|| self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(pairs: Vec<(String, String)>) -> Headers {
        Headers { packed: String::new(), pairs: OnceCell::from(pairs) }
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed() -> Headers {
        Headers::from_packed("content-type: text/html\nset-cookie: a=1\nset-cookie: b=2; Path=/\nx-empty: \nx-colon: a: b\n".into())
    }

    #[test]
    fn lookups_read_the_packed_lines_in_order() {
        let h = packed();
        assert_eq!(h.get("Content-Type"), Some("text/html"));
        assert_eq!(h.get_all("SET-COOKIE").collect::<Vec<_>>(), ["a=1", "b=2; Path=/"]);
        assert_eq!(h.get("x-empty"), Some(""));
        assert_eq!(h.get("x-colon"), Some("a: b"));
        assert_eq!(h.get("x-missing"), None);
        assert!(h.contains("x-empty") && !h.contains("x-missing"));
        assert_eq!(h.len(), 5);
        let names: Vec<&str> = h.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["content-type", "set-cookie", "set-cookie", "x-empty", "x-colon"]);
    }

    #[test]
    fn the_slice_view_is_the_same_headers_as_owned_pairs() {
        let h = packed();
        let pairs = h.to_vec();
        assert_eq!(pairs[2], ("set-cookie".to_string(), "b=2; Path=/".to_string()));
        assert_eq!(pairs.len(), 5);
        // Once made, lookups agree with it.
        assert_eq!(h.get_all("set-cookie").count(), 2);
        assert_eq!(Headers::from(pairs.clone()), h);
        assert_eq!(Headers::from(pairs).get("x-colon"), Some("a: b"));
    }

    #[test]
    fn no_headers_is_empty() {
        let h = Headers::from_packed(String::new());
        assert!(h.is_empty());
        assert_eq!(h.iter().count(), 0);
        assert!(h.to_vec().is_empty());
        assert!(Headers::default().is_empty());
    }
}
