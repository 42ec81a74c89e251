//! Date/time stamp lines ("Updated 10:01 pm PST, Tuesday, November 19"), which
//! `postclean::postclean` drops from the article text.

#[rustfmt::skip]
const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december",
];

/// Other words of English date/time stamps.
#[rustfmt::skip]
const DATE_WORDS: &[&str] = &[
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "am", "pm", "a", "m",
    "p", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "gmt", "utc", "bst", "cet",
    "cest", "ist", "et", "pt", "updated", "published", "posted", "modified", "last", "on", "at",
    "by", "ago", "today", "yesterday", "hour", "hours", "hr", "hrs", "minute", "minutes", "min",
    "mins", "day", "days", "week", "weeks", "h", "first", "st", "nd", "rd", "th",
];

/// A short line that is a date/time stamp ("Updated 10:01 pm PST, Tuesday, November 19").
/// It needs a number plus a month name or a clock time, and at most two words that are
/// not date vocabulary; or a year and nothing but date vocabulary ("Posted 2019").
pub fn is_dateline(text: &str) -> bool {
    let tokens: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if tokens.is_empty() || tokens.len() > 16 {
        return false;
    }
    let numeric = tokens
        .iter()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    let months = tokens
        .iter()
        .filter(|w| MONTHS.contains(&w.as_str()))
        .count();
    let unknown = tokens
        .iter()
        .filter(|w| {
            !w.starts_with(|c: char| c.is_ascii_digit())
                && !MONTHS.contains(&w.as_str())
                && !DATE_WORDS.contains(&w.as_str())
        })
        .count();
    let clock = text
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit());
    let year = tokens.iter().any(|w| {
        w.len() == 4
            && (w.starts_with("19") || w.starts_with("20"))
            && w.chars().all(|c| c.is_ascii_digit())
    });
    let relative = tokens
        .iter()
        .any(|w| matches!(w.as_str(), "ago" | "today" | "yesterday"));
    // A year alone marks a date only among date words: "2019 Honda Civic" is a product.
    // "Today" makes a stamp with a number or alone ("Updated today"), not in a label
    // ("Best prices today:").
    numeric >= 1 && ((months >= 1 || clock || relative) && unknown <= 2 || year && unknown == 0)
        || relative && unknown == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datelines() {
        assert!(is_dateline(
            "Updated 10:01 pm PST, Tuesday, November 19, 2019"
        ));
        assert!(is_dateline("Nov. 20, 2019, 9:28 AM UTC"));
        assert!(is_dateline("PUBLISHED: 10:48, Tue, Nov 19, 2019"));
        assert!(is_dateline("Published 1 day ago"));
        assert!(!is_dateline(
            "The vote on November 19 was close, and 12 members abstained from it."
        ));
        assert!(!is_dateline(
            "Mix 2 cups of flour, 1 egg and 3 spoons of sugar."
        ));
        assert!(!is_dateline("In 2019 the company hired 300 people."));
        assert!(is_dateline("Updated today"));
        assert!(!is_dateline("Best Prices Today:"));
    }

    #[test]
    fn a_year_alone_makes_a_dateline_only_among_date_words() {
        for t in ["Posted 2019", "Updated March 5, 2024", "10:01 pm PST"] {
            assert!(is_dateline(t), "{t}");
        }
        for t in ["2019 Honda Civic", "2020 Mazda CX-5"] {
            assert!(!is_dateline(t), "{t}");
        }
    }
}
