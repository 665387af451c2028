//! Cleaning text that comes from outside (mail headers, the ingest API)
//! before it is stored or shown.

/// Bidirectional embedding, override and isolate controls (U+202A–U+202E,
/// U+2066–U+2069): invisible, they reorder what is shown around them, e.g.
/// make `exe.txt` read as `txt.exe`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show as nothing: the bidi controls and Unicode's
/// default-ignorable code points (zero-width spaces and joiners, direction
/// marks, word joiners, the byte-order mark, variation selectors, tags,
/// fillers). An identifier holding one could sit beside its look-alike
/// ("V\u{200B}IP" beside "VIP"), so identifiers (userIDs, deviceIDs, event
/// ids, segment names) refuse them. Display text keeps the joiners, which
/// emoji sequences and some scripts need.
pub fn is_invisible(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// One line of display text: control characters (CR, LF, NUL, BEL, ESC…)
/// and bidi controls removed, runs of whitespace folded to one space, trimmed,
/// and cut to `max` characters.
pub fn single_line(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len().min(max * 4));
    let mut count = 0;
    let mut pending_space = false;
    for c in value.chars() {
        if c.is_whitespace() || c.is_control() {
            // A control inside a word (NUL, BEL) just goes; a line break is a space.
            pending_space |= c.is_whitespace();
            continue;
        }
        if is_bidi_control(c) {
            continue;
        }
        if pending_space && !out.is_empty() {
            if count + 1 >= max {
                break;
            }
            out.push(' ');
            count += 1;
        }
        pending_space = false;
        if count >= max {
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Multi-line text (a message body): line breaks and tabs kept, other
/// control and bidi characters removed.
pub fn multi_line(value: &str) -> String {
    value.chars().filter(|&c| matches!(c, '\n' | '\t') || !(c.is_control() || is_bidi_control(c))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_drops_controls_and_folds_breaks() {
        assert_eq!(single_line("Admin\r\nX-Injected: yes", 200), "Admin X-Injected: yes");
        assert_eq!(single_line("a\u{0}b\u{7}c\u{1b}[31md", 200), "abc[31md");
        assert_eq!(single_line("  evil\u{202e}txt.exe  ", 200), "eviltxt.exe");
        assert_eq!(single_line("Zoë   Ana", 200), "Zoë Ana");
        assert_eq!(single_line("abcdef", 3), "abc");
        assert_eq!(single_line("ab cdef", 3), "ab");
    }

    #[test]
    fn multi_line_keeps_line_breaks() {
        assert_eq!(multi_line("one\ntwo\r\n\tthree\u{0}\u{202e}"), "one\ntwo\n\tthree");
    }
}
