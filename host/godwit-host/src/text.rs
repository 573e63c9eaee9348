//! Text from plugins, made safe to show: bounded and escaped before it
//! reaches a terminal, a report or a log.
//!
//! A plugin chooses every byte of its log lines, error messages, findings
//! and rejection reasons. Unbounded, they flood disks and terminals; with
//! control characters they forge log lines (a newline) or drive a terminal
//! (escape sequences). Every such text passes through [`plugin_text`].

/// Longest plugin text kept in one message (log line, error, finding
/// field, rejection reason): enough for any real explanation.
pub const MAX_PLUGIN_TEXT: usize = 4096;

/// Longest cell of a table printed on the terminal; the full value is in
/// `report.json`.
pub const MAX_TERMINAL_CELL: usize = 200;

/// `text` with control characters escaped (`\n`, `\t`, `\u{1b}`, ...) and
/// cut after `max` characters with a marker saying how much was left out.
pub fn plugin_text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 16);
    let mut chars = text.chars();
    for (shown, c) in chars.by_ref().enumerate() {
        if shown >= max {
            let rest = 1 + chars.count();
            out.push_str(&format!("… ({rest} more characters)"));
            return out;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Unicode bidirectional controls, which can reorder what a terminal shows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// The first line of a statement, for messages.
pub fn first_line(stmt: &str) -> String {
    let line = stmt.trim().lines().next().unwrap_or_default();
    plugin_text(line, 200)
}

/// `±HH`, `±HH:MM` or `±HHMM` in seconds east of UTC.
pub fn parse_offset(o: &str) -> Option<i64> {
    let sign = match o.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::plugin_text;

    #[test]
    fn escapes_and_bounds() {
        assert_eq!(plugin_text("a\nb\x1b[31m", 100), "a\\nb\\u{1b}[31m");
        assert_eq!(plugin_text("ok", 100), "ok");
        let long = "x".repeat(70_000);
        let cut = plugin_text(&long, 10);
        assert_eq!(cut, format!("{}… (69990 more characters)", "x".repeat(10)));
        assert_eq!(plugin_text("\u{202e}abc", 10), "\\u{202e}abc");
        // Exactly at the bound: nothing cut.
        assert_eq!(plugin_text("abc", 3), "abc");
    }
}
