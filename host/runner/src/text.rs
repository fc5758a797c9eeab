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

/// Text from a plugin (names, messages, log lines), made safe to print among
/// wasp's own lines: control characters (newlines included) and the Unicode
/// controls that reorder text become visible escapes (`\n`, `\u{1b}`), and
/// anything past `max` bytes is cut, marked with `…`.
pub fn printable(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 4);
    for c in s.chars() {
        if out.len() >= max {
            out.push('…');
            return out;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_reordering(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// True when `s` needs no change by [`printable`] (the common case, cheap).
pub fn is_printable(s: &str, max: usize) -> bool {
    s.len() <= max && !s.chars().any(|c| c.is_control() || is_reordering(c))
}

/// Bidirectional overrides and isolates, marks: they can make a line read
/// differently from what it holds.
fn is_reordering(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_cannot_forge_lines() {
        assert_eq!(printable("ok", 100), "ok");
        assert_eq!(printable("a\nwasp: error: forged", 100), "a\\nwasp: error: forged");
        assert_eq!(printable("\x1b[2Jx\r", 100), "\\u{1b}[2Jx\\r");
        assert_eq!(printable("abc\u{202e}def", 100), "abc\\u{202e}def");
        assert_eq!(printable("ééééé", 4), "éé…");
        assert!(!printable(&"x\n".repeat(1000), 64).contains('\n'));
        assert!(printable(&"x".repeat(1000), 64).len() <= 64 + '…'.len_utf8());
        assert!(is_printable("GET /api/cart", 64) && !is_printable("a\nb", 64) && !is_printable(&"x".repeat(65), 64));
    }
}
