// Included by the chaos (0.1) and shared (0.2) test plugins, each with its
// SDK's `Response` in scope.

/// What `/headers` of the tests' target sends, as the SDK must show it (the
/// same checks in the 0.1 and the 0.2 test plugin).
fn check_headers(r: &Response) -> Result<(), String> {
    let h = &r.headers;
    let want = |what: &str, got: Option<&str>, want: &str| if got == Some(want) { Ok(()) } else { Err(format!("{what}: {got:?}, not {want:?}")) };
    want("x-first", h.get("X-First"), "1")?;
    want("x-colon", h.get("x-colon"), "a: b")?;
    want("x-latin", h.get("x-latin"), "caf\u{fffd}")?;
    want("x-empty", h.get("x-empty"), "")?;
    want("header()", r.header("SET-COOKIE"), "a=1; Path=/headers")?;
    let cookies: Vec<&str> = h.get_all("set-cookie").collect();
    if cookies != ["a=1; Path=/headers", "b=2; Path=/headers"] {
        return Err(format!("set-cookie: {cookies:?}"));
    }
    let order: Vec<&str> = h.iter().map(|(k, _)| k).filter(|k| k.starts_with("x-")).collect();
    if order != ["x-first", "x-colon", "x-latin", "x-empty"] {
        return Err(format!("order: {order:?}"));
    }
    // The slice of owned pairs (what `headers` was before 0.1.2) agrees.
    let pairs = h.to_vec();
    if pairs.len() != h.len() || !pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).eq(h.iter()) || h.get("content-length") != Some("7") {
        return Err(format!("pairs: {pairs:?} against {h:?}"));
    }
    Ok(())
}
