//! Server-rendered React pages that stream their content: the article arrives at the end
//! of the body in a hidden `<div hidden id="S:n">`, and a script moves it into the place
//! held by `<template id="B:n">` (a Suspense boundary) or `<template id="P:n">` (a
//! segment); `n` is a number in hex. Without scripts it stays hidden, and readability finds
//! nothing. Here each such block is moved to its placeholder and shown, as the script
//! would.

use dom_query::Document;

/// Whether the page may hold streamed blocks (a cheap test before any tree walk).
pub fn may_stream(html: &str) -> bool {
    html.contains("id=\"S:")
}

/// Move every hidden `S:n` block to its `B:n` template and show it. Returns how many
/// blocks were moved.
pub fn reveal(doc: &Document) -> usize {
    let mut moved = 0;
    for block in doc.select("div[hidden][id^='S:']").nodes() {
        let Some(n) = block
            .attr("id")
            .and_then(|id| id.strip_prefix("S:").map(str::to_string))
        else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        // a boundary's content replaces `B:n`, a segment's replaces `P:n`
        let Some(slot) = ["B", "P"].iter().find_map(|kind| {
            doc.select_single(&format!("template[id='{kind}:{n}']"))
                .nodes()
                .first()
                .copied()
        }) else {
            continue;
        };
        slot.insert_before(block);
        block.remove_attr("hidden");
        moved += 1;
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_block_takes_its_placeholder() {
        let html = "<html><body><header>Top</header><template id=\"B:0\"></template><p>loading</p>\
                    <footer>Foot</footer><div hidden id=\"S:0\"><article><p>The story.</p></article></div>\
                    <template id=\"P:1f\"></template><div hidden id=\"S:1f\"><p>A segment.</p></div>\
                    <div hidden id=\"S:-\"><p>not a stream block</p></div></body></html>";
        assert!(may_stream(html));
        let doc = Document::from(html);
        assert_eq!(reveal(&doc), 2);
        let body = doc.select("body").html().to_string();
        let story = body.find("The story.").expect("story");
        assert!(
            body.find("Top").unwrap() < story && story < body.find("Foot").unwrap(),
            "{body}"
        );
        assert!(!doc.select("div[id='S:0']").has_attr("hidden"));
        assert!(!doc.select("div[id='S:1f']").has_attr("hidden"));
        assert!(doc.select("div[id='S:-']").has_attr("hidden"));
    }
}
