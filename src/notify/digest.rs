//! Digest grouping (topic → story, duplicates merged) and rendering to plain text, email-safe HTML and a subject line.
//!
//! All third-party text (titles, sources, excerpts, feed names, problems) is treated as plain
//! text: escaped in HTML, stripped of control characters in text. No third-party HTML is
//! rendered, so no sanitizer is needed. Links are kept only when they are http(s).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::fmt::Write as _;

/// Max characters of an excerpt before it is cut at a word boundary.
pub const EXCERPT_CHARS: usize = 300;

#[derive(Debug, Clone, PartialEq)]
pub struct DigestEntry {
    pub topic: String,
    pub topic_title: String,
    pub story_id: i64,
    pub title: String,
    pub link: String,
    /// Feed title.
    pub source: String,
    pub published: DateTime<Utc>,
    /// Plain text, may be long; cut to ~300 chars when rendered.
    pub excerpt: String,
    /// Other copies of the story: (source, link).
    pub also_in: Vec<(String, String)>,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedHealthNote {
    pub feed: String,
    pub url: String,
    /// e.g. "failing for 3 days: HTTP 500", "gone (410)", "silent for 12 days (usually daily)".
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub name: String,
    /// Rendered subject line, used as the heading (falls back to `name` when empty).
    pub subject: String,
    pub generated_at: DateTime<Utc>,
    /// Time zone for displayed times; `None` = UTC.
    pub timezone: Option<Tz>,
    pub entries: Vec<DigestEntry>,
    pub health: Vec<FeedHealthNote>,
}

/// One topic's stories, each story once, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicGroup {
    pub topic: String,
    pub topic_title: String,
    pub stories: Vec<DigestEntry>,
}

/// Groups entries by topic (in order of first appearance), merges entries with the same
/// `story_id` within a topic (the highest-scoring entry is kept, the others' sources and
/// `also_in` lists are merged into its `also_in`), and sorts stories by score desc, then
/// newest first.
pub fn group_entries(entries: &[DigestEntry]) -> Vec<TopicGroup> {
    let mut groups: Vec<TopicGroup> = Vec::new();
    for e in entries {
        let idx = match groups.iter().position(|g| g.topic == e.topic) {
            Some(i) => i,
            None => {
                groups.push(TopicGroup {
                    topic: e.topic.clone(),
                    topic_title: e.topic_title.clone(),
                    stories: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let stories = &mut groups[idx].stories;
        match stories.iter_mut().find(|s| s.story_id == e.story_id) {
            None => stories.push(e.clone()),
            Some(existing) => merge_into(existing, e),
        }
    }
    for g in &mut groups {
        for s in &mut g.stories {
            clean_also_in(s);
        }
        g.stories.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.published.cmp(&a.published))
        });
    }
    groups
}

fn merge_into(existing: &mut DigestEntry, other: &DigestEntry) {
    let (mut winner, loser) = if other.score > existing.score {
        (other.clone(), existing.clone())
    } else {
        (existing.clone(), other.clone())
    };
    winner.also_in.push((loser.source, loser.link));
    winner.also_in.extend(loser.also_in);
    *existing = winner;
}

/// Removes the story's own link and repeated links/sources from `also_in`.
fn clean_also_in(s: &mut DigestEntry) {
    let mut seen_links: Vec<String> = vec![s.link.clone()];
    let mut seen_sources: Vec<String> = vec![s.source.clone()];
    s.also_in.retain(|(source, link)| {
        let dup = if link.is_empty() {
            seen_sources.contains(source)
        } else {
            seen_links.contains(link)
        };
        if !dup {
            seen_links.push(link.clone());
            seen_sources.push(source.clone());
        }
        !dup
    });
}

/// Collapses whitespace and cuts to at most `max_chars` characters at a word boundary,
/// adding "…" when something was cut.
pub fn cut_excerpt(text: &str, max_chars: usize) -> String {
    let text = one_line(text);
    if text.chars().count() <= max_chars {
        return text;
    }
    // One extra character: if it is a space, the cut falls exactly on a word boundary.
    let head: String = text.chars().take(max_chars + 1).collect();
    let cut: String = match head.rfind(' ') {
        Some(i) if i >= head.len() / 2 => head[..i].to_string(),
        // No usable word boundary: hard cut.
        _ => head.chars().take(max_chars).collect(),
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
    )
}

/// Plain single line: control characters (including newlines, ESC) become spaces,
/// whitespace is collapsed.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn format_time(t: DateTime<Utc>, tz: Option<Tz>) -> String {
    match tz {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn format_date(t: DateTime<Utc>, tz: Option<Tz>) -> String {
    match tz {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        None => t.format("%Y-%m-%d").to_string(),
    }
}

fn count_label(n: usize) -> String {
    if n == 1 {
        "1 story".to_string()
    } else {
        format!("{n} stories")
    }
}

fn heading(d: &Digest) -> String {
    let s = one_line(&d.subject);
    if s.is_empty() { one_line(&d.name) } else { s }
}

/// True for absolute http(s) URLs without whitespace or control characters.
fn safe_url(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Word-wraps one line of text at `width` characters, prefixing each line with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if line_len > 0 && line_len + 1 + w > width {
            out.push('\n');
            line_len = 0;
        }
        if line_len == 0 {
            out.push_str(indent);
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += w;
    }
    out
}

/// Readable plain text: topics as headings with story counts, one block per story.
pub fn render_text(d: &Digest) -> String {
    let groups = group_entries(&d.entries);
    let total: usize = groups.iter().map(|g| g.stories.len()).sum();
    let mut out = String::new();
    let title = heading(d);
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "{}", "=".repeat(title.chars().count().min(72)));
    let _ = writeln!(
        out,
        "{} in {} · {}",
        count_label(total),
        if groups.len() == 1 {
            "1 topic".to_string()
        } else {
            format!("{} topics", groups.len())
        },
        format_time(d.generated_at, d.timezone)
    );
    if groups.is_empty() {
        let _ = writeln!(out, "\nNo new stories.");
    }
    for g in &groups {
        let _ = writeln!(
            out,
            "\n\n## {} ({})",
            one_line(&g.topic_title),
            count_label(g.stories.len())
        );
        for s in &g.stories {
            let _ = writeln!(out, "\n* {}", one_line(&s.title));
            let _ = writeln!(
                out,
                "  {} · {}",
                one_line(&s.source),
                format_time(s.published, d.timezone)
            );
            let excerpt = cut_excerpt(&s.excerpt, EXCERPT_CHARS);
            if !excerpt.is_empty() {
                let _ = writeln!(out, "{}", wrap(&excerpt, 72, "  "));
            }
            if safe_url(&s.link) {
                let _ = writeln!(out, "  {}", s.link.trim());
            }
            if !s.also_in.is_empty() {
                let names: Vec<String> = s.also_in.iter().map(|(src, _)| one_line(src)).collect();
                let _ = writeln!(
                    out,
                    "{}",
                    wrap(&format!("also in: {}", names.join(", ")), 72, "  ")
                );
            }
        }
    }
    if !d.health.is_empty() {
        let _ = writeln!(out, "\n\n## Feed health\n");
        for h in &d.health {
            let _ = writeln!(out, "- {}: {}", one_line(&h.feed), one_line(&h.problem));
            if safe_url(&h.url) {
                let _ = writeln!(out, "  {}", h.url.trim());
            }
        }
    }
    out
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const LINK_STYLE: &str = "color:#1a5fb4;text-decoration:none;";

/// `<a>` for http(s) URLs, otherwise just the escaped text.
fn link_html(text: &str, url: &str, style: &str) -> String {
    if safe_url(url) {
        format!(
            "<a href=\"{}\" style=\"{style}\">{}</a>",
            escape_html(url.trim()),
            escape_html(text)
        )
    } else {
        escape_html(text)
    }
}

/// Email-safe HTML: inline styles only, no scripts, no images, escaped third-party text.
pub fn render_html(d: &Digest) -> String {
    let groups = group_entries(&d.entries);
    let total: usize = groups.iter().map(|g| g.stories.len()).sum();
    let title = escape_html(&heading(d));
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{title}</title>\n</head>");
    out.push_str(
        "<body style=\"margin:0;padding:0;background:#f4f4f4;\">\n\
         <div style=\"max-width:640px;margin:0 auto;padding:16px;background:#ffffff;\
         font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45;color:#222222;\">\n",
    );
    let _ = writeln!(
        out,
        "<h1 style=\"font-size:22px;margin:0 0 4px 0;\">{title}</h1>"
    );
    let _ = writeln!(
        out,
        "<p style=\"margin:0 0 16px 0;color:#666666;font-size:13px;\">{} in {} · {}</p>",
        count_label(total),
        if groups.len() == 1 {
            "1 topic".to_string()
        } else {
            format!("{} topics", groups.len())
        },
        escape_html(&format_time(d.generated_at, d.timezone))
    );
    if groups.is_empty() {
        out.push_str("<p style=\"margin:0 0 16px 0;\">No new stories.</p>\n");
    }
    for g in &groups {
        let _ = writeln!(
            out,
            "<h2 style=\"font-size:18px;margin:24px 0 8px 0;padding-bottom:4px;\
             border-bottom:2px solid #dddddd;\">{} <span style=\"color:#888888;font-weight:normal;\
             font-size:14px;\">({})</span></h2>",
            escape_html(&g.topic_title),
            count_label(g.stories.len())
        );
        for s in &g.stories {
            out.push_str("<div style=\"margin:0 0 18px 0;\">\n");
            let _ = writeln!(
                out,
                "<p style=\"margin:0;font-size:16px;font-weight:bold;\">{}</p>",
                link_html(&s.title, &s.link, LINK_STYLE)
            );
            let _ = writeln!(
                out,
                "<p style=\"margin:2px 0 4px 0;color:#666666;font-size:13px;\">{} · {}</p>",
                escape_html(&s.source),
                escape_html(&format_time(s.published, d.timezone))
            );
            let excerpt = cut_excerpt(&s.excerpt, EXCERPT_CHARS);
            if !excerpt.is_empty() {
                let _ = writeln!(
                    out,
                    "<p style=\"margin:0 0 4px 0;\">{}</p>",
                    escape_html(&excerpt)
                );
            }
            if !s.also_in.is_empty() {
                let links: Vec<String> = s
                    .also_in
                    .iter()
                    .map(|(src, link)| link_html(src, link, LINK_STYLE))
                    .collect();
                let _ = writeln!(
                    out,
                    "<p style=\"margin:0;color:#666666;font-size:13px;\">also in: {}</p>",
                    links.join(", ")
                );
            }
            out.push_str("</div>\n");
        }
    }
    if !d.health.is_empty() {
        out.push_str(
            "<h2 style=\"font-size:16px;margin:28px 0 8px 0;color:#8a4b00;\">Feed health</h2>\n\
             <ul style=\"margin:0;padding-left:20px;font-size:13px;color:#444444;\">\n",
        );
        for h in &d.health {
            let _ = writeln!(
                out,
                "<li>{}: {}</li>",
                link_html(&h.feed, &h.url, LINK_STYLE),
                escape_html(&h.problem)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

/// Fills `{count}` (stories after merging; `{count} stories` agrees with it: "1 story",
/// "2 stories"), `{name}`, `{date}` (generated_at in the digest's time zone, YYYY-MM-DD) and
/// `{topics}` (topic titles, comma separated). Unknown placeholders stay as they are. The
/// result is one line (safe for a mail header).
pub fn subject(template: &str, d: &Digest) -> String {
    let groups = group_entries(&d.entries);
    let count: usize = groups.iter().map(|g| g.stories.len()).sum();
    let topics: Vec<String> = groups.iter().map(|g| one_line(&g.topic_title)).collect();
    let filled = fill_count(template, count)
        .replace("{name}", &one_line(&d.name))
        .replace("{date}", &format_date(d.generated_at, d.timezone))
        .replace("{topics}", &topics.join(", "));
    one_line(&filled)
}

/// Replaces `{count}` with the number; followed by the word "stories" (or "story") it becomes
/// the counted phrase with the noun in the right number: "0 stories", "1 story", "2 stories"
/// (issue 17: a digest of one story said "1 stories").
fn fill_count(template: &str, count: usize) -> String {
    const PLACEHOLDER: &str = "{count}";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find(PLACEHOLDER) {
        out.push_str(&rest[..at]);
        rest = &rest[at + PLACEHOLDER.len()..];
        let noun = [" stories", " story"].into_iter().find(|noun| {
            rest.strip_prefix(noun)
                .is_some_and(|after| !after.starts_with(char::is_alphanumeric))
        });
        match noun {
            Some(noun) => {
                out.push_str(&count_label(count));
                rest = &rest[noun.len()..];
            }
            None => out.push_str(&count.to_string()),
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(topic: &str, story: i64, title: &str, source: &str, score: f64) -> DigestEntry {
        DigestEntry {
            topic: topic.to_string(),
            topic_title: format!("Topic {topic}"),
            story_id: story,
            title: title.to_string(),
            link: format!(
                "https://{}.example/{story}",
                source.to_lowercase().replace(' ', "")
            ),
            source: source.to_string(),
            published: Utc
                .with_ymd_and_hms(2026, 11, 25, 8, story as u32, 0)
                .unwrap(),
            excerpt: format!("Excerpt of {title}."),
            also_in: Vec::new(),
            score,
        }
    }

    fn digest(entries: Vec<DigestEntry>) -> Digest {
        Digest {
            name: "Morning brief".to_string(),
            subject: "Morning brief: 3 stories".to_string(),
            generated_at: Utc.with_ymd_and_hms(2026, 11, 25, 23, 30, 0).unwrap(),
            timezone: None,
            entries,
            health: Vec::new(),
        }
    }

    #[test]
    fn groups_by_topic_and_merges_stories() {
        let mut a2 = entry("nk", 1, "Copy from AP", "AP", 0.9);
        a2.also_in = vec![("Yonhap".into(), "https://yonhap.example/1".into())];
        let entries = vec![
            entry("nk", 1, "Copy from Reuters", "Reuters", 0.5),
            entry("ru", 7, "Other topic", "BBC", 0.3),
            a2,
            entry("nk", 2, "Second story", "BBC", 0.7),
            entry("nk", 1, "Copy from BBC", "BBC", 0.2),
        ];
        let groups = group_entries(&entries);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].topic, "nk");
        assert_eq!(groups[1].topic, "ru");
        let nk = &groups[0].stories;
        assert_eq!(nk.len(), 2);
        // highest score kept, sorted by score
        assert_eq!(nk[0].title, "Copy from AP");
        assert_eq!(nk[0].score, 0.9);
        assert_eq!(nk[1].story_id, 2);
        let sources: Vec<&str> = nk[0].also_in.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sources, vec!["Yonhap", "Reuters", "BBC"]);
    }

    #[test]
    fn also_in_drops_own_link_and_duplicates() {
        let mut a = entry("nk", 1, "T", "AP", 0.9);
        a.also_in = vec![
            ("AP".into(), a.link.clone()),
            ("Yonhap".into(), "https://y.example/1".into()),
        ];
        let mut b = entry("nk", 1, "T", "Yonhap", 0.1);
        b.link = "https://y.example/1".into();
        let groups = group_entries(&[a, b]);
        assert_eq!(
            groups[0].stories[0].also_in,
            vec![("Yonhap".to_string(), "https://y.example/1".to_string())]
        );
    }

    #[test]
    fn ties_sorted_newest_first() {
        let groups = group_entries(&[
            entry("nk", 1, "Older", "AP", 0.5),
            entry("nk", 5, "Newer", "AP", 0.5),
        ]);
        assert_eq!(groups[0].stories[0].title, "Newer");
    }

    #[test]
    fn excerpt_cut_at_word_boundary() {
        let long = "word ".repeat(100);
        let cut = cut_excerpt(&long, 300);
        assert!(cut.chars().count() <= 301);
        assert!(cut.ends_with("word…"));
        assert_eq!(cut_excerpt("  short\ntext ", 300), "short text");
        let unbroken = "x".repeat(400);
        assert_eq!(cut_excerpt(&unbroken, 300).chars().count(), 301);
        assert_eq!(cut_excerpt("ab, cd, ef", 7), "ab, cd…");
    }

    #[test]
    fn text_rendering() {
        let mut e = entry("nk", 1, "Kim visits\nMoscow", "AP", 0.9);
        e.also_in = vec![("Reuters".into(), "https://r.example/1".into())];
        let mut d = digest(vec![e, entry("nk", 2, "Second", "BBC", 0.5)]);
        d.health.push(FeedHealthNote {
            feed: "Old feed".into(),
            url: "https://old.example/rss".into(),
            problem: "gone (410)".into(),
        });
        let t = render_text(&d);
        assert!(t.starts_with("Morning brief: 3 stories\n"));
        assert!(t.contains("## Topic nk (2 stories)"));
        assert!(t.contains("* Kim visits Moscow\n  AP · 2026-11-25 08:01 UTC"));
        assert!(t.contains("  https://ap.example/1\n  also in: Reuters\n"));
        assert!(t.contains("## Feed health"));
        assert!(t.contains("- Old feed: gone (410)"));
        assert!(t.find("Kim visits").unwrap() < t.find("Second").unwrap());
    }

    #[test]
    fn time_zone_applies() {
        let mut d = digest(vec![entry("nk", 1, "T", "AP", 0.9)]);
        d.timezone = Some(chrono_tz::Asia::Seoul);
        let t = render_text(&d);
        assert!(t.contains("AP · 2026-11-25 17:01 KST"), "{t}");
        assert_eq!(subject("{date}", &d), "2026-11-26");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let mut e = entry(
            "nk",
            1,
            "<script>alert(1)</script>\" onload=\"x",
            "<img src=https://evil.example/p.gif>",
            0.9,
        );
        e.excerpt = "<b onmouseover='x'>hi</b> & <img src=\"https://t.example/pixel.gif\">".into();
        e.link = "javascript:alert(1)".into();
        e.topic_title = "<iframe>".into();
        e.also_in = vec![
            (
                "Evil\" onclick=\"x".into(),
                "https://ok.example/\"><script>".into(),
            ),
            (
                "Data".into(),
                "data:text/html,<script>alert(1)</script>".into(),
            ),
        ];
        let mut d = digest(vec![e]);
        d.subject = "<title>hi".into();
        d.health.push(FeedHealthNote {
            feed: "<svg onload=x>".into(),
            url: "javascript:void(0)".into(),
            problem: "moved to <a href=x>".into(),
        });
        let h = render_html(&d);
        let lower = h.to_lowercase();
        for bad in [
            "<script",
            "<img",
            "<iframe",
            "<svg",
            "<b ",
            "javascript:",
            "data:",
            "<title>hi",
            "\" onload=",
            "\" onclick=",
            "<a href=x",
        ] {
            assert!(!lower.contains(bad), "found {bad} in\n{h}");
        }
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&quot;x"));
        assert!(h.contains("href=\"https://ok.example/&quot;&gt;&lt;script&gt;\""));
    }

    #[test]
    fn html_has_no_images_or_scripts_and_keeps_links() {
        let mut e = entry("nk", 1, "Kim visits Moscow", "AP", 0.9);
        e.also_in = vec![("Reuters".into(), "http://r.example/1".into())];
        let h = render_html(&digest(vec![e]));
        assert!(!h.contains("<img") && !h.contains("<script") && !h.contains("<style"));
        assert!(!h.contains("class="));
        assert!(h.contains("<a href=\"https://ap.example/1\""));
        assert!(h.contains("<a href=\"http://r.example/1\""));
        assert!(h.contains("Topic nk <span"));
        assert!(!h.contains("Feed health"));
    }

    #[test]
    fn subject_template() {
        let d = digest(vec![
            entry("nk", 1, "A", "AP", 0.9),
            entry("nk", 1, "A", "BBC", 0.2),
            entry("ru", 2, "B", "AP", 0.5),
        ]);
        assert_eq!(
            subject("[{name}] {count} stories on {date}: {topics} {other}", &d),
            "[Morning brief] 2 stories on 2026-11-25: Topic nk, Topic ru {other}"
        );
        let mut evil = d.clone();
        evil.name = "x\r\nBcc: victim@example.com".into();
        assert_eq!(subject("{name}", &evil), "x Bcc: victim@example.com");
    }

    /// Issue 17: "1 stories". The noun after `{count}` agrees with the number.
    #[test]
    fn issue_17_subject_count_agrees_with_its_noun() {
        let one = digest(vec![
            entry("nk", 1, "A", "AP", 0.9),
            entry("nk", 1, "A", "BBC", 0.2),
        ]);
        let default = "tidings {name}: {count} stories on {topics}";
        assert_eq!(
            subject(default, &one),
            "tidings Morning brief: 1 story on Topic nk"
        );
        assert_eq!(subject("{count} story", &one), "1 story");
        let two = digest(vec![
            entry("nk", 1, "A", "AP", 0.9),
            entry("ru", 2, "B", "AP", 0.5),
        ]);
        assert_eq!(
            subject(default, &two),
            "tidings Morning brief: 2 stories on Topic nk, Topic ru"
        );
        assert_eq!(subject("{count} story", &two), "2 stories");
        assert_eq!(subject("{count} stories", &digest(Vec::new())), "0 stories");
        // Only the word itself: other words and bare counts keep the number alone.
        assert_eq!(subject("{count} storylines", &one), "1 storylines");
        assert_eq!(subject("[{count}] {count} stories.", &one), "[1] 1 story.");
    }

    #[test]
    fn empty_digest() {
        let d = digest(Vec::new());
        assert!(render_text(&d).contains("No new stories."));
        assert!(render_html(&d).contains("No new stories."));
        assert_eq!(subject("{count} {topics}", &d), "0");
    }
}
