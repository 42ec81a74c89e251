//! Extraction benchmark: our extractor beside plain dom_smoothie on the page sets
//! (`extraction-bench`, `extraction-dev/wcxb-dev`, `extraction-dev/dragnet-dev`).
//!
//! Usage: cargo bench --bench extraction -- [--set NAME|DIR]... [--only ours|baseline]
//!        [--reps N] [--per-page] [--page ID] [--dump DIR] [--out DIR]
//!        [--rules -FAMILY,...] [--ablate] [--fast]
//!
//! * `--set` picks a set by name (`extraction-bench`, `wcxb-dev`, `dragnet-dev`, or the
//!   short `bench`, `wcxb`, `dragnet`) or by directory; repeat it for several. Without it
//!   every set found under `../shared` (or `$EXTRACTION_SHARED`) runs. `--bench DIR` is the
//!   old spelling of `--set DIR`; a bare `--bench` (cargo appends one) is ignored.
//! * Each page is timed `--reps` times (default 3), alternating ours and the baseline; the
//!   fastest run counts, and the table gives the median over pages.
//! * Peak memory: the process's high-water mark is reset (`/proc/self/clear_refs`), every
//!   page is extracted once, and VmHWM is read; once for each extractor. The figure is the
//!   growth over the resident size at the reset (the loaded pages are not counted).
//! * Site folds: a page's site is the host of its URL; fold = FNV-1a(host) % 5.
//! * Preclean losses: pages where one element removed by `preclean` held more than half of
//!   the gold text (by 4-word shingles) are listed.
//! * `--rules -figure,-phrases` runs ours with those rule families off; `--ablate` measures
//!   every family switched off alone, per set and per site fold. `--fast` skips the
//!   peak-memory and preclean-loss passes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tidings::extract::metric::{self, PageScore};
use tidings::extract::{ExtractLimits, Rules, baseline_text, extract_with};

/// Number of site folds.
const FOLDS: usize = 5;

/// Share of a page's gold shingles one preclean removal may hold before the page is listed.
const LOSS_SHARE: f64 = 0.5;

struct Args {
    sets: Vec<PathBuf>,
    only: Option<String>,
    reps: usize,
    per_page: bool,
    page: Option<String>,
    dump: Option<PathBuf>,
    out: Option<PathBuf>,
    rules: Rules,
    ablate: bool,
    /// Skip the peak-memory and preclean-loss passes.
    fast: bool,
}

const SET_NAMES: &[(&str, &str)] = &[
    ("extraction-bench", "extraction-bench"),
    ("bench", "extraction-bench"),
    ("wcxb-dev", "extraction-dev/wcxb-dev"),
    ("wcxb", "extraction-dev/wcxb-dev"),
    ("dragnet-dev", "extraction-dev/dragnet-dev"),
    ("dragnet", "extraction-dev/dragnet-dev"),
];

fn shared_dir() -> PathBuf {
    std::env::var_os("EXTRACTION_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A set by name or directory; exits with a message when it has no `ground-truth.json`.
fn resolve_set(arg: &str) -> PathBuf {
    let dir = SET_NAMES
        .iter()
        .find(|(name, _)| *name == arg)
        .map_or_else(|| PathBuf::from(arg), |(_, rel)| shared_dir().join(rel));
    if !dir.join("ground-truth.json").is_file() {
        fail(&format!(
            "set {arg:?}: no ground-truth.json in {} (names: extraction-bench, wcxb-dev, dragnet-dev)",
            dir.display()
        ));
    }
    dir
}

fn fail(msg: &str) -> ! {
    eprintln!("extraction bench: {msg}");
    std::process::exit(2);
}

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> String {
    it.next()
        .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
}

fn args() -> Args {
    let mut a = Args {
        sets: Vec::new(),
        only: None,
        reps: 3,
        per_page: false,
        page: None,
        dump: None,
        out: None,
        rules: Rules::default(),
        ablate: false,
        fast: false,
    };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--set" => a.sets.push(resolve_set(&value(&mut it, "--set"))),
            // cargo appends a bare `--bench` of its own: only a following value makes it ours
            "--bench" => {
                if let Some(dir) = it.next_if(|v| !v.starts_with("--")) {
                    a.sets.push(resolve_set(&dir));
                }
            }
            "--only" => {
                let v = value(&mut it, "--only");
                if v != "ours" && v != "baseline" {
                    fail(&format!("--only {v:?}: expected ours or baseline"));
                }
                a.only = Some(v);
            }
            "--reps" => {
                let v = value(&mut it, "--reps");
                a.reps = v
                    .parse::<usize>()
                    .unwrap_or_else(|_| fail(&format!("--reps {v:?}: not a number")))
                    .max(1);
            }
            "--per-page" => a.per_page = true,
            "--page" => a.page = Some(value(&mut it, "--page")),
            "--dump" => a.dump = Some(PathBuf::from(value(&mut it, "--dump"))),
            "--out" => a.out = Some(PathBuf::from(value(&mut it, "--out"))),
            "--ablate" => a.ablate = true,
            "--fast" => a.fast = true,
            "--rules" => {
                for item in value(&mut it, "--rules").split(',') {
                    let (name, on) = match item.strip_prefix('-') {
                        Some(n) => (n, false),
                        None => (item.strip_prefix('+').unwrap_or(item), true),
                    };
                    if !a.rules.set(name, on) {
                        fail(&format!(
                            "--rules: no family {name:?} (families: {})",
                            Rules::FAMILIES.join(", ")
                        ));
                    }
                }
            }
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    if a.sets.is_empty() {
        a.sets = ["extraction-bench", "wcxb-dev", "dragnet-dev"]
            .iter()
            .map(|n| resolve_set(n))
            .collect();
    }
    a
}

fn read_gz(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    out
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reset the process's VmHWM to its current RSS (Linux `clear_refs` value 5).
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The site of a page: the host of its URL, without `www.`.
fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let h = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let h = h.rsplit_once('@').map_or(h, |(_, h)| h);
    let h = h.split(':').next().unwrap_or(h).to_ascii_lowercase();
    h.strip_prefix("www.").map(str::to_string).unwrap_or(h)
}

/// Fold of a site: FNV-1a of the host, modulo [`FOLDS`].
fn fold_of(host: &str) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in host.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % FOLDS as u64) as usize
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Page {
    id: String,
    url: String,
    truth: String,
    body: Vec<u8>,
    fold: usize,
}

struct Set {
    name: String,
    pages: Vec<Page>,
}

fn load_set(dir: &Path, only_page: Option<&str>) -> Set {
    let path = dir.join("ground-truth.json");
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let truth: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&raw).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let pages = truth
        .iter()
        .filter(|(id, _)| only_page.is_none_or(|p| p == id.as_str()))
        .map(|(id, t)| {
            let url = t["url"].as_str().unwrap_or("").to_string();
            Page {
                id: id.clone(),
                body: read_gz(&dir.join("html").join(format!("{id}.html.gz"))),
                truth: t["articleBody"].as_str().unwrap_or("").to_string(),
                fold: fold_of(&host(&url)),
                url,
            }
        })
        .collect();
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    Set { name, pages }
}

fn ours(page: &Page, rules: &Rules, removed: Option<&mut Vec<String>>) -> String {
    let limits = ExtractLimits::default();
    match extract_with(
        &page.body,
        Some("text/html"),
        Some(&page.url),
        &limits,
        rules,
        removed,
    ) {
        Ok(art) => art.text,
        Err(e) => {
            eprintln!("{}: {e}", page.id);
            String::new()
        }
    }
}

fn baseline(page: &Page) -> String {
    baseline_text(&String::from_utf8_lossy(&page.body), Some(&page.url))
}

/// One extractor's output on a set.
struct Run {
    name: &'static str,
    texts: Vec<String>,
    scores: Vec<PageScore>,
    ms: Vec<f64>,
    peak_mib: Option<f64>,
}

impl Run {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            texts: Vec::new(),
            scores: Vec::new(),
            ms: Vec::new(),
            peak_mib: None,
        }
    }
}

/// (P, R, F1) over the pages of `scores` whose fold passes `keep`.
fn prf(scores: &[PageScore], set: &Set, keep: impl Fn(usize) -> bool) -> (f64, f64, f64) {
    metric::aggregate(
        scores
            .iter()
            .zip(&set.pages)
            .filter(|(_, p)| keep(p.fold))
            .map(|(s, _)| s),
    )
}

/// Time both extractors on every page (alternating, fastest of `reps` counts).
fn timed_runs(set: &Set, a: &Args) -> (Run, Run) {
    let want = |n: &str| a.only.as_deref().is_none_or(|o| o == n);
    let (mut o, mut b) = (Run::new("ours"), Run::new("dom_smoothie"));
    for page in &set.pages {
        let (mut best_o, mut best_b) = (f64::MAX, f64::MAX);
        let (mut text_o, mut text_b) = (String::new(), String::new());
        for _ in 0..a.reps {
            if want("ours") {
                let t0 = Instant::now();
                text_o = ours(page, &a.rules, None);
                best_o = best_o.min(t0.elapsed().as_secs_f64() * 1000.0);
            }
            if want("baseline") {
                let t0 = Instant::now();
                text_b = baseline(page);
                best_b = best_b.min(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        for (run, text, ms, on) in [
            (&mut o, text_o, best_o, want("ours")),
            (&mut b, text_b, best_b, want("baseline")),
        ] {
            if on {
                run.scores.push(metric::score(&text, &page.truth));
                run.texts.push(text);
                run.ms.push(ms);
            }
        }
    }
    for run in [&mut o, &mut b] {
        if a.fast || run.texts.is_empty() || !reset_hwm() {
            continue;
        }
        let at_reset = vm_hwm_kib();
        for page in &set.pages {
            let _ = if run.name == "ours" {
                ours(page, &a.rules, None)
            } else {
                baseline(page)
            };
        }
        run.peak_mib = vm_hwm_kib()
            .zip(at_reset)
            .map(|(peak, base)| peak.saturating_sub(base) as f64 / 1024.0);
    }
    (o, b)
}

/// Pages where one preclean removal held more than [`LOSS_SHARE`] of the gold shingles.
fn preclean_losses(set: &Set, rules: &Rules) -> Vec<(String, f64, String)> {
    let mut out = Vec::new();
    for page in &set.pages {
        let mut removed = Vec::new();
        let _ = ours(page, rules, Some(&mut removed));
        let worst = removed
            .iter()
            .map(|t| (gold_share(t, &page.truth), t))
            .max_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((share, text)) = worst.filter(|(s, _)| *s > LOSS_SHARE) {
            let head: String = text
                .split_whitespace()
                .take(12)
                .collect::<Vec<_>>()
                .join(" ");
            out.push((page.id.clone(), share, head));
        }
    }
    out
}

/// Share of `truth`'s shingles found in `text` (multiset recall of `text` against `truth`).
fn gold_share(text: &str, truth: &str) -> f64 {
    metric::score(text, truth).recall.unwrap_or(0.0)
}

fn print_set(set: &Set, o: &Run, b: &Run, losses: &[(String, f64, String)]) {
    let sites: BTreeSet<String> = set.pages.iter().map(|p| host(&p.url)).collect();
    println!(
        "\n== {} ({} pages, {} sites, {FOLDS} site folds)",
        set.name,
        set.pages.len(),
        sites.len()
    );
    println!(
        "{:<13} {:>6} {:>6} {:>6}  {:>9} {:>8} {:>9}   F1 by site fold",
        "extractor", "P", "R", "F1", "median_ms", "p90_ms", "peak+MiB"
    );
    for run in [o, b] {
        if run.scores.is_empty() {
            continue;
        }
        let (p, r, f) = prf(&run.scores, set, |_| true);
        let mut ms = run.ms.clone();
        ms.sort_by(f64::total_cmp);
        let p90 = ms[((ms.len() - 1) as f64 * 0.9).round() as usize];
        let folds: Vec<String> = (0..FOLDS)
            .map(|k| format!("{:.3}", prf(&run.scores, set, |f| f == k).2))
            .collect();
        println!(
            "{:<13} {p:>6.3} {r:>6.3} {f:>6.3}  {:>9.2} {p90:>8.2} {:>9}   {}",
            run.name,
            median(&run.ms),
            run.peak_mib.map_or("-".into(), |m| format!("{m:.1}")),
            folds.join(" ")
        );
    }
    if !o.ms.is_empty() && !b.ms.is_empty() {
        let (fo, fb) = (
            prf(&o.scores, set, |_| true).2,
            prf(&b.scores, set, |_| true).2,
        );
        println!(
            "ours - dom_smoothie: F1 {:+.3}; median time ratio {:.2}",
            fo - fb,
            median(&o.ms) / median(&b.ms)
        );
    }
    if losses.is_empty() {
        println!("preclean losses (one removal holding > half the gold): none");
    } else {
        println!(
            "preclean losses (one removal holding > half the gold): {}",
            losses.len()
        );
        for (id, share, head) in losses {
            println!("  {id} {share:.2} {head}");
        }
    }
}

fn print_per_page(set: &Set, o: &Run, b: &Run) {
    let mut rows: Vec<usize> = (0..set.pages.len()).collect();
    let key = |i: usize| o.scores.get(i).or(b.scores.get(i)).map_or(0.0, |s| s.f1);
    rows.sort_by(|x, y| key(*x).total_cmp(&key(*y)));
    let fmt = |x: Option<f64>| x.map_or("  -  ".into(), |v| format!("{v:.3}"));
    for i in rows {
        let (s, base) = (o.scores.get(i), b.scores.get(i));
        println!(
            "  {:<40} P={} R={} F1={}  base P={} R={} F1={}",
            set.pages[i].id,
            fmt(s.and_then(|s| s.precision)),
            fmt(s.and_then(|s| s.recall)),
            fmt(s.map(|s| s.f1)),
            fmt(base.and_then(|b| b.precision)),
            fmt(base.and_then(|b| b.recall)),
            fmt(base.map(|b| b.f1)),
        );
    }
}

fn write_outputs(set: &Set, o: &Run, b: &Run, a: &Args) {
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
        for run in [o, b] {
            if run.texts.is_empty() {
                continue;
            }
            let obj: BTreeMap<&str, serde_json::Value> = set
                .pages
                .iter()
                .zip(&run.texts)
                .map(|(p, t)| (p.id.as_str(), serde_json::json!({ "articleBody": t })))
                .collect();
            let path = dir.join(format!("{}-{}.json", set.name, run.name));
            std::fs::write(&path, serde_json::to_string_pretty(&obj).expect("json"))
                .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
            println!("predictions written to {}", path.display());
        }
    }
    if let Some(dir) = &a.dump {
        for run in [o, b] {
            let d = dir.join(&set.name).join(run.name);
            std::fs::create_dir_all(&d).unwrap_or_else(|e| fail(&format!("{}: {e}", d.display())));
            for (p, t) in set.pages.iter().zip(&run.texts) {
                std::fs::write(d.join(format!("{}.txt", p.id)), t).expect("write");
            }
        }
    }
}

/// Every rule family switched off alone: F1 change per set and in how many of the site
/// folds the family pays (switching it off lowers F1).
fn ablate(sets: &[Set], a: &Args) {
    let all: Vec<Vec<PageScore>> = sets
        .iter()
        .map(|s| {
            s.pages
                .iter()
                .map(|p| metric::score(&ours(p, &a.rules, None), &p.truth))
                .collect()
        })
        .collect();
    println!("\n== ablation: F1 change when the family is switched off (negative = it pays)");
    let header: Vec<String> = sets
        .iter()
        .map(|s| format!("{:>22}", format!("{} dF1 (dP/dR) pays", short(&s.name))))
        .collect();
    println!("{:<13} {}", "family", header.join(" "));
    for family in Rules::FAMILIES {
        let mut rules = a.rules;
        if !rules.set(family, false) || rules == a.rules {
            continue;
        }
        let mut cells = Vec::new();
        for (set, base) in sets.iter().zip(&all) {
            let scores: Vec<PageScore> = set
                .pages
                .iter()
                .map(|p| metric::score(&ours(p, &rules, None), &p.truth))
                .collect();
            let (p0, r0, f0) = prf(base, set, |_| true);
            let (p1, r1, f1) = prf(&scores, set, |_| true);
            let pays = (0..FOLDS)
                .filter(|k| prf(&scores, set, |f| f == *k).2 < prf(base, set, |f| f == *k).2)
                .count();
            cells.push(format!(
                "{:>22}",
                format!(
                    "{:+.4} ({:+.3}/{:+.3}) {pays}/{FOLDS}",
                    f1 - f0,
                    p1 - p0,
                    r1 - r0
                )
            ));
        }
        println!("{family:<13} {}", cells.join(" "));
    }
}

fn short(name: &str) -> &str {
    name.split('-').next().unwrap_or(name)
}

fn main() {
    let a = args();
    println!(
        "extraction bench: {} set(s), reps {}, rules {:?}",
        a.sets.len(),
        a.reps,
        a.rules
    );
    let mut loaded = Vec::new();
    for dir in &a.sets {
        let set = load_set(dir, a.page.as_deref());
        if a.ablate {
            loaded.push(set);
            continue;
        }
        let (o, b) = timed_runs(&set, &a);
        let losses = if o.texts.is_empty() || a.fast {
            Vec::new()
        } else {
            preclean_losses(&set, &a.rules)
        };
        print_set(&set, &o, &b, &losses);
        if a.per_page {
            print_per_page(&set, &o, &b);
        }
        write_outputs(&set, &o, &b, &a);
    }
    if a.ablate {
        ablate(&loaded, &a);
    }
}
