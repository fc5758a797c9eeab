//! Text on one line: error chains joined, and text from a plugin (which wasp
//! does not trust) made safe to print among wasp's own lines.

/// Joins an error and its sources on one line: "a: b: c".
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace('\n', " ")
}
