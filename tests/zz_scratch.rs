use std::collections::BTreeMap;
#[test]
fn survey() {
    std::panic::set_hook(Box::new(|_| {}));
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    for dir in ["../shared/feeds-corpus", "fuzz/corpus/parse_feed"] {
        let out = std::process::Command::new("find")
            .args([dir, "-type", "f"])
            .output()
            .unwrap();
        files.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(String::from),
        );
    }
    for f in files {
        if f.ends_with(".tsv")
            || f.ends_with(".txt")
            || f.ends_with(".json") && f.contains("expected")
        {
            continue;
        }
        let body = std::fs::read(&f).unwrap();
        let parser = feed_rs::parser::Builder::new()
            .base_uri(Some("http://x/"))
            .build();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parser.parse(body.as_slice())
        }));
        let raw = match r {
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(p) => format!(
                "PANIC {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or(p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            ),
        };
        let ours = match tidings::parse::parse_feed(&body, "http://x/") {
            Ok(p) => format!(
                "ok items={} skipped={} repairs={:?}",
                p.items.len(),
                p.skipped.len(),
                p.repairs
            ),
            Err(e) => format!("ERR {e}"),
        };
        let kind: String = raw
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        kinds
            .entry(kind)
            .or_default()
            .push(format!("{f} => {ours}"));
    }
    for (k, v) in kinds {
        println!("== {k} ({})", v.len());
        for x in v.iter().take(6) {
            println!("   {x}");
        }
    }
}
