//! The end of a failed command's output, as an error shows it.
//!
//! An error quotes the last lines a command printed, because that is where a tool
//! says what went wrong. Lines are not bounded, though: a workload that prints a
//! 64 KiB line (a minified file, a dumped value, a progress bar redrawn with `\r`)
//! would make the error that line. So each line is cut to [`LINE_WIDTH`]
//! characters with a marker that says how much was cut, and the tail as a whole is
//! capped at [`TAIL_BYTES`] by leaving out its earliest lines, which a marker says
//! too. Nothing is cut silently: the full output is in the log the error names.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How many lines of a failed command's output an error shows.
pub const TAIL_LINES: usize = 20;
/// How many characters of one line an error shows.
const LINE_WIDTH: usize = 400;
/// How many bytes of output an error shows at most, markers included.
const TAIL_BYTES: usize = 4 * 1024;
/// How much of a log file is read for its tail.
const FILE_WINDOW: u64 = 64 * 1024;

/// The last `n` lines of a text, each cut to a readable width, at most
/// [`TAIL_BYTES`] in all.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let shown: Vec<Cow<str>> = lines[lines.len().saturating_sub(n)..].iter().map(|l| cut_line(l)).collect();
    // Fill the budget from the last line back: the end of the output matters most.
    // 64 bytes are kept for the marker of the lines left out.
    let budget = TAIL_BYTES - 64;
    let mut used = 0;
    let mut first = shown.len();
    while first > 0 {
        let cost = shown[first - 1].len() + "\n".len();
        if used + cost > budget {
            break;
        }
        used += cost;
        first -= 1;
    }
    let mut out: Vec<Cow<str>> = Vec::with_capacity(shown.len() - first + 1);
    if first > 0 {
        let s = if first == 1 { "" } else { "s" };
        out.push(Cow::Owned(format!("[… {first} earlier line{s} left out]")));
    }
    out.extend(shown.into_iter().skip(first));
    out.join("\n")
}

/// One line, cut to [`LINE_WIDTH`] characters with a marker naming the bytes cut.
///
/// The start is kept: tools say what went wrong first ("error: …", "thread 'main'
/// panicked at …") and what makes a line long comes after it (the value dumped,
/// the input quoted). A line redrawn with `\r` loses its last state this way, but
/// is unreadable in a log anyway.
fn cut_line(line: &str) -> Cow<'_, str> {
    match line.char_indices().nth(LINE_WIDTH) {
        None => Cow::Borrowed(line),
        Some((end, _)) => Cow::Owned(format!("{}… [{} bytes cut]", &line[..end], thousands(line.len() - end))),
    }
}

/// `61,234`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The last `n` lines of a log file, as [`last_lines`] shows them (reading at most
/// its last 64 KiB: a line that began before them is marked as partial).
pub fn tail_of_file(path: &Path, n: usize) -> String {
    let Ok(mut file) = File::open(path) else { return String::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let partial = len > FILE_WINDOW && file.seek(SeekFrom::Start(len - FILE_WINDOW)).is_ok();
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    if partial { last_lines(&format!("[… earlier output not read] {text}"), n) } else { last_lines(&text, n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_64_kib_line_is_cut_with_a_marker() {
        let long = format!("error: bad input {}", "x".repeat(64 * 1024));
        let shown = last_lines(&format!("first\n{long}\nlast"), TAIL_LINES);
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3, "{shown}");
        assert!(lines[1].starts_with("error: bad input xxx"), "the start of the line is kept");
        assert!(lines[1].ends_with(&format!("… [{} bytes cut]", thousands(long.len() - LINE_WIDTH))), "{}", lines[1]);
        assert_eq!(lines[1].chars().count(), LINE_WIDTH + "… [65,153 bytes cut]".chars().count());
        assert_eq!(lines[2], "last");

        // The same line at the end of a log file, as a failed workload leaves it.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("w.log");
        std::fs::write(&log, format!("{long}\n")).unwrap();
        let shown = tail_of_file(&log, TAIL_LINES);
        assert!(shown.len() < 1024, "{shown}");
        // The file is a little longer than the window read: the line's start is not.
        assert!(shown.starts_with("[… earlier output not read] xxx"), "{shown}");
        assert!(shown.ends_with("bytes cut]"), "{shown}");
    }

    #[test]
    fn the_whole_tail_is_capped_from_its_start() {
        let line = "y".repeat(1000);
        let text = vec![line.as_str(); 30].join("\n");
        let shown = last_lines(&text, TAIL_LINES);
        assert!(shown.len() <= TAIL_BYTES, "{} bytes", shown.len());
        assert!(shown.starts_with("[… "), "{shown}");
        assert!(shown.lines().next().unwrap().ends_with("earlier lines left out]"), "{shown}");
        assert!(shown.lines().last().unwrap().ends_with("bytes cut]"));
    }

    #[test]
    fn short_output_is_shown_as_it_is() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("", 2), "");
        assert_eq!(cut_line("é".repeat(LINE_WIDTH).as_str()), "é".repeat(LINE_WIDTH));
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(61_234), "61,234");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
