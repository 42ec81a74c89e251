//! Text helpers for tests and benches that make edited copies of real news items.

/// Splits `text` into sentences at words ending in `.`, `!` or `?` (longer than three
/// characters, so "U.S." and "Mr." do not end one); the rest is the last sentence.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        if word.ends_with(['.', '!', '?']) && word.len() > 3 {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
