//! `tidings topics …` and `tidings matches …`: backtest, score (in sample and held out) and
//! train topics, list matches.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::{iso, write_table};
use crate::config::Config;
use crate::matcher::validation::{
    FoldBy, Prepared, Protocol, Scores, evaluate_as_configured, held_out, layer_for, learning_curve,
};
use crate::matcher::{LabelledExample, Topic, explain, read_labelled};
use crate::pipeline::matching::prepare_input;

pub(super) fn topic<'a>(config: &'a Config, name: &str) -> anyhow::Result<&'a Topic> {
    match config.topics.compiled.iter().find(|t| t.name == name) {
        Some(t) => Ok(t),
        None => {
            let known: Vec<&str> = config
                .topics
                .compiled
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            bail!(
                "no topic named `{name}` in the config (topics: {})",
                known.join(", ")
            )
        }
    }
}

/// Reads `--since`: a duration back from now (`30d`), a date (`2026-01-31`) or a time.
pub fn since_arg(text: &str) -> anyhow::Result<i64> {
    crate::query::parse_when(text, chrono::Utc::now().timestamp())
        .map_err(|e| anyhow::anyhow!("--since: {e}"))
}

/// `topics test NAME`: runs the topic over stored items and shows each hit.
pub fn test(
    config: &Config,
    store: &crate::store::Store,
    name: &str,
    since: &str,
    show_explain: bool,
    json: bool,
) -> anyhow::Result<()> {
    let topic = topic(config, name)?;
    let items = store.items_since(since_arg(since)?, 1_000_000)?;
    let mut out = std::io::stdout().lock();
    let mut hits = Vec::new();
    for input in &items {
        let doc = prepare_input(input);
        if let Some(result) = topic.matches(&doc) {
            if json {
                hits.push(serde_json::json!({
                    "item_id": input.item_id, "title": input.title, "url": input.url, "feed": input.feed_title,
                    "score": result.score, "terms": result.terms,
                }));
            } else {
                writeln!(
                    out,
                    "{:>6.2}  {}  [{}]",
                    result.score, input.title, input.feed_title
                )?;
                writeln!(out, "        {}", input.url)?;
                if show_explain {
                    for line in explain(topic.reporting_query(), &doc, &result).lines() {
                        writeln!(out, "        {line}")?;
                    }
                } else {
                    let terms: Vec<String> = result
                        .terms
                        .iter()
                        .take(6)
                        .map(|t| format!("{} in {}: {}", t.term, t.field, t.snippet))
                        .collect();
                    for t in terms {
                        writeln!(out, "        {t}")?;
                    }
                }
            }
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &hits)?;
        writeln!(out)?;
    } else {
        let count = items
            .iter()
            .filter(|i| topic.is_match(&prepare_input(i)))
            .count();
        writeln!(
            out,
            "{count} of {} items since {since} match topic {name}",
            items.len()
        )?;
    }
    Ok(())
}

/// How `topics eval` holds items out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitBy {
    /// Earlier items fit, later items score.
    Date,
}

/// What keeps `topics eval --folds` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FoldsBy {
    Source,
    Date,
}

/// The options of `topics eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    pub name: String,
    /// Labelled items, JSON lines (the shape of `topics labels NAME --format jsonl`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Held-out figure: fit on the earlier items (`--fit` of them), score the later ones.
    #[arg(long, value_enum)]
    pub split: Option<SplitBy>,
    /// Share of the items (by date) that fit, for `--split date` and `--simulate-feedback`.
    #[arg(long, default_value_t = 2.0 / 3.0)]
    pub fit: f64,
    /// Held-out figure: K folds, each scored by a model fitted on the others.
    #[arg(long)]
    pub folds: Option<usize>,
    /// What keeps the folds apart.
    #[arg(long, value_enum, default_value = "source")]
    pub by: FoldsBy,
    /// Learning curve: a simulated reader labels up to N items in date order; F1 on the
    /// later items after 0, 25, 50, 100, 200 … labels.
    #[arg(long, value_name = "N")]
    pub simulate_feedback: Option<usize>,
    /// List the items the topic (as configured) gets wrong.
    #[arg(long)]
    pub misses: bool,
    #[arg(long)]
    pub json: bool,
}

/// Reads every labelled file, naming the file and line of a bad one.
pub fn read_label_files(files: &[PathBuf]) -> anyhow::Result<Vec<LabelledExample>> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        out.extend(read_labelled(&text).with_context(|| format!("{}", file.display()))?);
    }
    Ok(out)
}

fn scores_row(label: &str, s: &Scores) -> Vec<String> {
    let mut row = vec![label.to_string(), s.all.items().to_string()];
    for c in [&s.all, &s.clear, &s.borderline] {
        row.push(format!("{:.3}", c.precision()));
        row.push(format!("{:.3}", c.recall()));
        row.push(format!("{:.3}", c.f1()));
    }
    row
}

const SCORE_HEADER: [&str; 11] = [
    "",
    "ITEMS",
    "P",
    "R",
    "F1",
    "CLEAR P",
    "R",
    "F1",
    "BORDERLINE P",
    "R",
    "F1",
];

/// The training items of a topic's own label files (for held-out protocols).
fn own_training_items(
    config: &Config,
    name: &str,
    layer: &crate::matcher::LearnedLayer,
) -> Vec<crate::matcher::learned::TrainingItem> {
    let own = config
        .topics
        .defs
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| d.learned.as_ref())
        .map(|s| s.examples.clone())
        .unwrap_or_default();
    let refs: Vec<&LabelledExample> = own.iter().collect();
    layer.training_items(&refs)
}

/// `topics eval NAME FILE…`: precision, recall and F1 against labelled items, as configured
/// and (with `--split`, `--folds`, `--simulate-feedback`) held out.
pub fn eval(config: &Config, args: &EvalArgs) -> anyhow::Result<()> {
    if !(args.fit > 0.0 && args.fit < 1.0) {
        bail!(
            "topics eval: --fit must be between 0 and 1, not {}",
            args.fit
        );
    }
    let mut config = config.clone();
    // The topic as it runs without a database: trained on its label files.
    config.topics.train(|_| Vec::new());
    let topic = topic(&config, &args.name)?;
    let examples = read_label_files(&args.files).context("topics eval")?;
    let items = Prepared::new(&examples);
    let layer = layer_for(topic, &config.topics.parsed_aliases);
    let own = own_training_items(&config, &args.name, &layer);
    let as_configured = evaluate_as_configured(topic, &items);
    let mut held = Vec::new();
    if args.split == Some(SplitBy::Date) {
        held.push(held_out(
            topic,
            &layer,
            &items,
            &own,
            Protocol::DateSplit {
                fit_share: args.fit,
            },
        ));
    }
    if let Some(k) = args.folds {
        if k < 2 || k > examples.len() {
            bail!(
                "topics eval: --folds must be between 2 and the number of items ({})",
                examples.len()
            );
        }
        let by = match args.by {
            FoldsBy::Source => FoldBy::Source,
            FoldsBy::Date => FoldBy::Date,
        };
        held.push(held_out(
            topic,
            &layer,
            &items,
            &own,
            Protocol::Folds { k, by },
        ));
    }
    let curve = args.simulate_feedback.map(|n| {
        let mut steps: Vec<usize> = [0, 25, 50, 100, 200, 400, 800, 1600]
            .into_iter()
            .filter(|s| *s <= n)
            .collect();
        if steps.last() != Some(&n) {
            steps.push(n);
        }
        learning_curve(&layer, &items, &own, args.fit, &steps)
    });
    let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    if args.json {
        let report = serde_json::json!({
            "topic": args.name,
            "files": files,
            "items": examples.len(),
            "positives": examples.iter().filter(|e| e.label).count(),
            "borderline": examples.iter().filter(|e| e.borderline).count(),
            "learned_layer": topic.learned.as_ref().map(|l| serde_json::json!({
                "candidates": l.candidates.to_string(),
                "threshold": l.fixed_threshold.unwrap_or(crate::matcher::learned::DEFAULT_THRESHOLD),
                "band": l.band,
                "trained_on": l.trained_on,
            })),
            "as_configured": as_configured,
            "held_out": held,
            "learning_curve": curve,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let positives = examples.iter().filter(|e| e.label).count();
    let borderline = examples.iter().filter(|e| e.borderline).count();
    writeln!(
        out,
        "topic {}: {} labelled items ({positives} relevant, {borderline} borderline) from {}",
        args.name,
        examples.len(),
        files.join(", ")
    )?;
    let model_key = config
        .topics
        .defs
        .iter()
        .find(|d| d.name == args.name)
        .and_then(|d| d.learned.as_ref())
        .and_then(|s| s.model.clone());
    match &topic.learned {
        Some(l) => writeln!(
            out,
            "learned layer: candidates {}; {}; model {} ({} weights), trained here on {} labelled candidates of its label files",
            l.candidates,
            l.band.describe(),
            model_key.as_deref().unwrap_or("none (the default prior)"),
            l.model.weights().len(),
            l.trained_on
        )?,
        None => writeln!(
            out,
            "no learned layer configured (held-out figures train a default one)"
        )?,
    }
    writeln!(out)?;
    writeln!(out, "as configured, on every item:")?;
    let mut rows = vec![scores_row("query alone", &as_configured.query)];
    if let Some(l) = &as_configured.learned {
        rows.push(scores_row("query + model", l));
    }
    write_table(&mut out, &SCORE_HEADER, &rows)?;
    for h in &held {
        writeln!(out)?;
        writeln!(out, "held out, {}:", h.protocol)?;
        for p in &h.parts {
            writeln!(
                out,
                "  fit {} items, score {} ({}); model trained on {} candidates, {}",
                p.fit,
                p.scored,
                p.scored_desc,
                p.trained_on,
                p.prior.describe()
            )?;
            writeln!(out, "    decides: {}", p.decision)?;
        }
        let rows = vec![
            scores_row("held out: query alone", &h.query),
            scores_row("held out: query + model", &h.learned),
            scores_row("in sample: query alone", &h.in_sample_query),
            scores_row("in sample: query + model", &h.in_sample_learned),
        ];
        write_table(&mut out, &SCORE_HEADER, &rows)?;
        writeln!(
            out,
            "held-out F1: query + model {:.3} vs query alone {:.3} ({:+.3})",
            h.learned.all.f1(),
            h.query.all.f1(),
            h.learned.all.f1() - h.query.all.f1()
        )?;
    }
    if let Some(c) = &curve {
        writeln!(out)?;
        writeln!(
            out,
            "learning curve: labels from {} items ({}), scored on {} later items never labelled ({}); {}:",
            c.stream,
            c.stream_dates,
            c.unseen,
            c.unseen_dates,
            c.prior.describe()
        )?;
        let rows: Vec<Vec<String>> = c
            .points
            .iter()
            .map(|p| {
                let mut row = scores_row(&p.labels.to_string(), &p.scores);
                row.insert(1, p.searched.to_string());
                row
            })
            .collect();
        let mut header = SCORE_HEADER.to_vec();
        header[0] = "LABELS";
        header.insert(1, "SEARCHED");
        write_table(&mut out, &header, &rows)?;
        if c.exhausted {
            writeln!(out, "(the items to label ran out before the last step)")?;
        }
        for p in &c.points {
            writeln!(out, "  after {} labels: {}", p.labels, p.decision)?;
        }
    }
    if args.misses {
        writeln!(out)?;
        for m in &as_configured.misses {
            let p = m.probability.map_or("-".to_string(), |p| format!("{p:.2}"));
            writeln!(
                out,
                "{} {} [{p}]{} {}",
                if m.relevant { "FN" } else { "FP" },
                m.id,
                if m.borderline { " borderline" } else { "" },
                m.title
            )?;
        }
    }
    Ok(())
}

/// `topics train NAME FILE… --out MODEL`: trains the topic's learned layer on labelled files
/// (from the default prior, not from a model the config names) and writes the model file.
pub fn train(config: &Config, name: &str, files: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let topic = topic(config, name)?;
    let examples = read_label_files(files).context("topics train")?;
    let mut layer = layer_for(topic, &config.topics.parsed_aliases);
    layer.prior = layer.default_prior();
    let refs: Vec<&LabelledExample> = examples.iter().collect();
    let started = std::time::Instant::now();
    let trained = layer.trained(&refs);
    let took = started.elapsed();
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
        .collect();
    let positives = examples.iter().filter(|e| e.label).count();
    let comments = vec![
        format!(
            "tidings topic model for `{name}`: logistic regression over the features of src/matcher/learned/features.rs"
        ),
        format!(
            "trained on {} labelled items ({positives} relevant) of {}; {} were candidates",
            examples.len(),
            names.join(", "),
            trained.trained_on
        ),
        format!("candidates: {}", trained.candidates),
        format!(
            "decides: {}",
            crate::matcher::validation::describe_decision(&trained)
        ),
        format!(
            "rebuild: tidings --config {} topics train {name} {} --out {}",
            config
                .path
                .as_ref()
                .map_or("<the config>".to_string(), |p| p.display().to_string()),
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            out.display()
        ),
    ];
    std::fs::write(out, trained.model.to_text(&comments))
        .with_context(|| format!("topics train: cannot write {}", out.display()))?;
    println!(
        "trained `{name}` on {} candidates of {} labelled items in {:.0} ms: {} weights; wrote {}",
        trained.trained_on,
        examples.len(),
        took.as_secs_f64() * 1000.0,
        trained.model.weights().len(),
        out.display()
    );
    println!(
        "decides: {}",
        crate::matcher::validation::describe_decision(&trained)
    );
    for (feature, weight) in trained.strongest_weights(15) {
        println!("  {weight:+.3}  {feature}");
    }
    Ok(())
}

/// `matches list`.
pub fn list(
    store: &crate::store::Store,
    topic: Option<&str>,
    since: &str,
    limit: usize,
    json: bool,
) -> anyhow::Result<()> {
    let matches = store.list_matches(topic, since_arg(since)?, limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&matches)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = matches
        .iter()
        .map(|m| {
            let terms: Vec<String> = crate::notify::payload::terms_of(&m.terms)
                .into_iter()
                .take(4)
                .collect();
            vec![
                m.id.to_string(),
                m.topic.clone(),
                format!("{:.2}", m.score),
                iso(Some(m.published_at)).unwrap_or_default(),
                m.feed.chars().take(24).collect(),
                m.title
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(70)
                    .collect(),
                terms.join(" "),
            ]
        })
        .collect();
    write_table(
        &mut std::io::stdout().lock(),
        &[
            "ID",
            "TOPIC",
            "SCORE",
            "PUBLISHED",
            "FEED",
            "TITLE",
            "TERMS",
        ],
        &rows,
    )?;
    Ok(())
}
