//! The block scorer: gradient-boosted decision trees over [`blocks::FEATURES`], saying
//! which blocks of a page are article text. Pure Rust and deterministic; trained by the
//! extraction benchmark (`cargo bench --bench extraction -- --train`) on the development
//! pages with site-grouped folds, and committed as `model.txt`, which is read once at the
//! first extraction.

use std::sync::OnceLock;

use super::blocks::{self, Block, N_CONTEXT, N_FEATURES};

/// A trained block scorer. The first ensemble scores each block from its own features;
/// the second (when present) scores it again with its neighbours' first scores added
/// ([`blocks::CONTEXT`]), so a short line between kept paragraphs can be told from one
/// between menus. A block is kept when its last score reaches `threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    first: Ensemble,
    second: Option<Ensemble>,
    threshold: f32,
}

/// Trees whose leaves add up to a log-odds.
#[derive(Debug, Clone, PartialEq)]
struct Ensemble {
    base: f32,
    trees: Vec<Tree>,
}

impl Ensemble {
    fn score(&self, x: &[f32]) -> f32 {
        let raw = self.base + self.trees.iter().map(|t| t.eval(x)).sum::<f32>();
        1.0 / (1.0 + (-raw).exp())
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    /// `x[feature] <= threshold` goes to `left`, else to `right` (indices into the tree).
    Split {
        feature: u16,
        threshold: f32,
        left: u32,
        right: u32,
    },
    Leaf(f32),
}

impl Tree {
    fn eval(&self, x: &[f32]) -> f32 {
        let mut i = 0usize;
        loop {
            match self.nodes[i] {
                Node::Leaf(v) => return v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if x[feature as usize] <= threshold {
                        left
                    } else {
                        right
                    } as usize;
                }
            }
        }
    }
}

/// Why a model file cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("model file line {line}: {why}")]
pub struct ModelError {
    line: usize,
    why: String,
}

/// Features the second ensemble reads: a block's own, then its context.
const N_STACKED: usize = N_FEATURES + N_CONTEXT;

impl Model {
    /// The committed model (`model.txt`).
    pub fn builtin() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            Model::parse(include_str!("model.txt")).expect("the committed model.txt is valid")
        })
    }

    /// Probability that each block of a page is article text.
    pub fn scores(&self, page: &[Block]) -> Vec<f32> {
        let first: Vec<f32> = page.iter().map(|b| self.first.score(&b.features)).collect();
        let Some(second) = &self.second else {
            return first;
        };
        let context = blocks::context(page, &first);
        let mut x = [0f32; N_STACKED];
        page.iter()
            .zip(context)
            .map(|(b, c)| {
                x[..N_FEATURES].copy_from_slice(&b.features);
                x[N_FEATURES..].copy_from_slice(&c);
                second.score(&x)
            })
            .collect()
    }

    /// Which blocks of a page are kept.
    pub fn keeps(&self, page: &[Block]) -> Vec<bool> {
        self.scores(page)
            .into_iter()
            .map(|s| s >= self.threshold)
            .collect()
    }

    /// The text form of the model (what `model.txt` holds).
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# tidings block scorer: gradient-boosted trees, written by\n\
             # `cargo bench --bench extraction -- --write-model` (do not edit by hand)"
        );
        let _ = writeln!(s, "features {}", blocks::FEATURES.join(" "));
        let _ = writeln!(s, "context {}", blocks::CONTEXT.join(" "));
        let _ = writeln!(s, "threshold {}", self.threshold);
        for (k, e) in std::iter::once(&self.first).chain(&self.second).enumerate() {
            let _ = writeln!(s, "ensemble {} {}", k + 1, e.base);
            for t in &e.trees {
                let _ = writeln!(s, "tree {}", t.nodes.len());
                for n in &t.nodes {
                    match n {
                        Node::Split {
                            feature,
                            threshold,
                            left,
                            right,
                        } => {
                            let _ = writeln!(s, "s {feature} {threshold} {left} {right}");
                        }
                        Node::Leaf(v) => {
                            let _ = writeln!(s, "l {v}");
                        }
                    }
                }
            }
        }
        s
    }

    /// Read the text form; its feature lists must be this build's [`blocks::FEATURES`]
    /// and [`blocks::CONTEXT`].
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let mut ensembles: Vec<Ensemble> = Vec::new();
        let mut threshold = 0.5;
        let (mut features_seen, mut context_seen) = (false, false);
        let mut open: Option<(Tree, usize)> = None;
        for (k, line) in text.lines().enumerate() {
            let err = |why: String| ModelError { line: k + 1, why };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let head = parts.next().unwrap_or("");
            let rest: Vec<&str> = parts.collect();
            let num = |s: &str| s.parse::<f32>().map_err(|e| err(format!("{s:?}: {e}")));
            let idx = |s: &str| s.parse::<u32>().map_err(|e| err(format!("{s:?}: {e}")));
            if open.is_some() && !matches!(head, "s" | "l") {
                return Err(err("a tree ends early".into()));
            }
            match head {
                "features" | "context" => {
                    let want = if head == "features" {
                        blocks::FEATURES
                    } else {
                        blocks::CONTEXT
                    };
                    if rest != want {
                        return Err(err(format!(
                            "{head} {rest:?} are not this build's {want:?}"
                        )));
                    }
                    features_seen |= head == "features";
                    context_seen |= head == "context";
                }
                "threshold" if rest.len() == 1 => threshold = num(rest[0])?,
                "ensemble" if rest.len() == 2 && ensembles.len() < 2 => {
                    if idx(rest[0])? as usize != ensembles.len() + 1 {
                        return Err(err(format!("ensemble {} out of order", rest[0])));
                    }
                    ensembles.push(Ensemble {
                        base: num(rest[1])?,
                        trees: Vec::new(),
                    });
                }
                "tree" if rest.len() == 1 && !ensembles.is_empty() => {
                    let n = idx(rest[0])? as usize;
                    open = Some((Tree { nodes: Vec::new() }, n));
                }
                "s" | "l" => {
                    let Some((tree, n)) = open.as_mut() else {
                        return Err(err("node outside a tree".into()));
                    };
                    let width = if ensembles.len() == 1 {
                        N_FEATURES
                    } else {
                        N_STACKED
                    };
                    let node = match (head, rest.as_slice()) {
                        ("l", [v]) => Node::Leaf(num(v)?),
                        ("s", [f, t, l, r]) => {
                            let (f, l, r) = (idx(f)?, idx(l)?, idx(r)?);
                            let at = tree.nodes.len() as u32;
                            if f as usize >= width
                                || l as usize >= *n
                                || r as usize >= *n
                                || l <= at
                                || r <= at
                            {
                                return Err(err(format!("index out of range in {line:?}")));
                            }
                            Node::Split {
                                feature: f as u16,
                                threshold: num(t)?,
                                left: l,
                                right: r,
                            }
                        }
                        _ => return Err(err(format!("bad node {line:?}"))),
                    };
                    tree.nodes.push(node);
                    if tree.nodes.len() == *n {
                        let (t, _) = open.take().expect("open tree");
                        ensembles.last_mut().expect("an ensemble").trees.push(t);
                    }
                }
                _ => return Err(err(format!("unexpected line {line:?}"))),
            }
        }
        let end = |why: &str| ModelError {
            line: text.lines().count(),
            why: why.into(),
        };
        if open.is_some() {
            return Err(end("the last tree ends early"));
        }
        if !features_seen || !context_seen {
            return Err(end("no features or context line"));
        }
        let mut it = ensembles.into_iter();
        let first = it.next().ok_or_else(|| end("no ensemble"))?;
        Ok(Model {
            first,
            second: it.next(),
            threshold,
        })
    }
}

/// Settings of [`train`].
#[derive(Debug, Clone, Copy)]
pub struct TrainParams {
    pub rounds: usize,
    pub depth: usize,
    pub learning_rate: f32,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Least hessian weight in a leaf.
    pub min_leaf: f64,
    /// Most distinct thresholds tried per feature.
    pub bins: usize,
    pub threshold: f32,
    /// Fit the second (context) ensemble too.
    pub stacked: bool,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            rounds: 200,
            depth: 5,
            learning_rate: 0.1,
            lambda: 1.0,
            min_leaf: 0.05,
            bins: 48,
            threshold: 0.5,
            stacked: true,
        }
    }
}

/// One page of training data: its blocks, their labels (0 or 1) and weights, and its
/// site (any number that is the same for the pages of one site).
pub struct TrainPage<'a> {
    pub blocks: &'a [Block],
    pub labels: &'a [f32],
    pub weights: &'a [f32],
    pub site: u64,
}

/// Folds of the pages the second ensemble learns from: its inputs are first scores from
/// a first ensemble fitted on the other folds' sites, as at extraction time.
const INNER_FOLDS: u64 = 3;

/// Fit a block scorer (logistic loss, second-order boosting). Deterministic: the same
/// pages give the same model.
pub fn train(pages: &[TrainPage], p: &TrainParams) -> Model {
    let rows = |pick: &dyn Fn(&TrainPage) -> bool| {
        let mut x = Vec::new();
        let (mut y, mut w) = (Vec::new(), Vec::new());
        for pg in pages.iter().filter(|pg| pick(pg)) {
            for b in pg.blocks {
                x.extend_from_slice(&b.features);
            }
            y.extend_from_slice(pg.labels);
            w.extend_from_slice(pg.weights);
        }
        (x, y, w)
    };
    let (x, y, w) = rows(&|_| true);
    let first = fit(&x, N_FEATURES, &y, &w, p);
    let second = p.stacked.then(|| {
        let inner = |pg: &TrainPage| pg.site.rotate_left(17) % INNER_FOLDS;
        let mut oof: Vec<Vec<f32>> = vec![Vec::new(); pages.len()];
        for k in 0..INNER_FOLDS {
            let (x, y, w) = rows(&|pg| inner(pg) != k);
            let e = fit(&x, N_FEATURES, &y, &w, p);
            for (pg, scores) in pages.iter().zip(oof.iter_mut()) {
                if inner(pg) == k {
                    *scores = pg.blocks.iter().map(|b| e.score(&b.features)).collect();
                }
            }
        }
        let mut x2 = Vec::new();
        for (pg, scores) in pages.iter().zip(&oof) {
            for (b, c) in pg.blocks.iter().zip(blocks::context(pg.blocks, scores)) {
                x2.extend_from_slice(&b.features);
                x2.extend_from_slice(&c);
            }
        }
        fit(&x2, N_STACKED, &y, &w, p)
    });
    Model {
        first,
        second,
        threshold: p.threshold,
    }
}

/// One ensemble on rows of `dim` features (`x` row after row).
fn fit(x: &[f32], dim: usize, y: &[f32], w: &[f32], p: &TrainParams) -> Ensemble {
    let n = y.len();
    assert!(x.len() == n * dim && n == w.len(), "fit: x, y and w differ in length");
    let cuts: Vec<Vec<f32>> = (0..dim).map(|f| cut_points(x, dim, f, p.bins)).collect();
    let binned: Vec<Vec<u8>> = (0..dim)
        .map(|f| {
            (0..n)
                .map(|i| cuts[f].partition_point(|t| *t < x[i * dim + f]) as u8)
                .collect()
        })
        .collect();
    let wsum: f64 = w.iter().map(|v| f64::from(*v)).sum();
    let pos: f64 = w.iter().zip(y).map(|(w, y)| f64::from(*w * *y)).sum();
    let prior = (pos / wsum.max(1e-12)).clamp(1e-4, 1.0 - 1e-4);
    let base = (prior / (1.0 - prior)).ln() as f32;
    let mut raw = vec![base; n];
    let mut trees = Vec::with_capacity(p.rounds);
    let mut g = vec![0f64; n];
    let mut h = vec![0f64; n];
    for _ in 0..p.rounds {
        for i in 0..n {
            let prob = 1.0 / (1.0 + (-f64::from(raw[i])).exp());
            g[i] = f64::from(w[i]) * (prob - f64::from(y[i]));
            h[i] = f64::from(w[i]) * (prob * (1.0 - prob)).max(1e-6);
        }
        let mut builder = TreeBuilder {
            binned: &binned,
            cuts: &cuts,
            g: &g,
            h: &h,
            p,
            nodes: Vec::new(),
        };
        let all: Vec<u32> = (0..n as u32).collect();
        builder.grow(all, 0, &mut raw);
        trees.push(Tree {
            nodes: builder.nodes,
        });
    }
    Ensemble { base, trees }
}

/// Up to `bins - 1` thresholds for feature `f`: midpoints between distinct values, at
/// evenly spaced ranks when there are more distinct values than bins.
fn cut_points(x: &[f32], dim: usize, f: usize, bins: usize) -> Vec<f32> {
    let mut v: Vec<f32> = x.iter().skip(f).step_by(dim).copied().collect();
    v.sort_by(f32::total_cmp);
    let mut distinct: Vec<f32> = v.clone();
    distinct.dedup();
    let picks: Vec<f32> = if distinct.len() <= bins {
        distinct
    } else {
        let mut out: Vec<f32> = (1..bins).map(|k| v[k * (v.len() - 1) / bins]).collect();
        out.dedup();
        out
    };
    picks
        .windows(2)
        .map(|w| w[0] + (w[1] - w[0]) / 2.0)
        .collect()
}

struct TreeBuilder<'a> {
    binned: &'a [Vec<u8>],
    cuts: &'a [Vec<f32>],
    g: &'a [f64],
    h: &'a [f64],
    p: &'a TrainParams,
    nodes: Vec<Node>,
}

impl TreeBuilder<'_> {
    /// Grow the subtree over samples `idx`, returning its node index; leaves add their
    /// value to `raw` of their samples.
    fn grow(&mut self, idx: Vec<u32>, depth: usize, raw: &mut [f32]) -> u32 {
        let (gs, hs) = idx.iter().fold((0.0, 0.0), |(a, b), &i| {
            (a + self.g[i as usize], b + self.h[i as usize])
        });
        let me = self.nodes.len() as u32;
        let leaf = (-gs / (hs + self.p.lambda)) as f32 * self.p.learning_rate;
        self.nodes.push(Node::Leaf(leaf));
        let split = if depth < self.p.depth {
            self.best_split(&idx, gs, hs)
        } else {
            None
        };
        let Some((feature, bin)) = split else {
            for &i in &idx {
                raw[i as usize] += leaf;
            }
            return me;
        };
        let col = &self.binned[feature];
        let (l, r): (Vec<u32>, Vec<u32>) = idx.iter().partition(|&&i| col[i as usize] <= bin);
        drop(idx);
        let left = self.grow(l, depth + 1, raw);
        let right = self.grow(r, depth + 1, raw);
        self.nodes[me as usize] = Node::Split {
            feature: feature as u16,
            threshold: self.cuts[feature][bin as usize],
            left,
            right,
        };
        me
    }

    /// The split of `idx` with the largest gain: (feature, last bin going left).
    fn best_split(&self, idx: &[u32], gs: f64, hs: f64) -> Option<(usize, u8)> {
        let lambda = self.p.lambda;
        let parent = gs * gs / (hs + lambda);
        let mut best: Option<(f64, usize, u8)> = None;
        for (f, cuts) in self.cuts.iter().enumerate() {
            let nb = cuts.len();
            if nb == 0 {
                continue;
            }
            let mut hg = vec![0f64; nb + 1];
            let mut hh = vec![0f64; nb + 1];
            let col = &self.binned[f];
            for &i in idx {
                let b = col[i as usize] as usize;
                hg[b] += self.g[i as usize];
                hh[b] += self.h[i as usize];
            }
            let (mut gl, mut hl) = (0.0, 0.0);
            for b in 0..nb {
                gl += hg[b];
                hl += hh[b];
                let (gr, hr) = (gs - gl, hs - hl);
                if hl < self.p.min_leaf || hr < self.p.min_leaf {
                    continue;
                }
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > 1e-9 && best.is_none_or(|(bg, _, _)| gain > bg) {
                    best = Some((gain, f, b as u8));
                }
            }
        }
        best.map(|(_, f, b)| (f, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::text::Para;

    fn block(a: f32, b: f32) -> Block {
        let mut features = [0f32; N_FEATURES];
        features[0] = a;
        features[1] = b;
        Block {
            para: Para {
                text: "a few words of text".into(),
                ..Default::default()
            },
            features,
        }
    }

    #[test]
    fn learns_an_interaction_and_round_trips_through_text() {
        // label = a xor b: needs two levels of splits
        let mut pages = Vec::new();
        for site in 0..40u64 {
            let mut bs = Vec::new();
            let mut ys = Vec::new();
            for k in 0..10 {
                let (a, b) = ((k % 2) as f32, ((k / 2) % 2) as f32);
                bs.push(block(a, b));
                ys.push(if (a > 0.5) != (b > 0.5) { 1.0 } else { 0.0 });
            }
            pages.push((bs, ys, vec![1.0f32; 10], site));
        }
        let data: Vec<TrainPage> = pages
            .iter()
            .map(|(b, y, w, s)| TrainPage {
                blocks: b,
                labels: y,
                weights: w,
                site: *s,
            })
            .collect();
        let p = TrainParams {
            rounds: 30,
            depth: 2,
            ..Default::default()
        };
        let m = train(&data, &p);
        for pg in &data {
            let keep = m.keeps(pg.blocks);
            for (k, y) in keep.iter().zip(pg.labels) {
                assert_eq!(*k, *y > 0.5);
            }
        }
        assert_eq!(train(&data, &p), m, "deterministic");
        let back = Model::parse(&m.to_text()).expect("parse");
        assert_eq!(back.scores(data[0].blocks), m.scores(data[0].blocks));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let head = format!(
            "features {}\ncontext {}\n",
            blocks::FEATURES.join(" "),
            blocks::CONTEXT.join(" ")
        );
        assert!(Model::parse(&head).is_err(), "no ensemble");
        let e = Model::parse(&format!("{head}ensemble 1 0\ntree 2\ns 0 0.5 1 7\nl 1\n")).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(Model::parse(&format!("{head}ensemble 1 0\ntree 3\ns 0 0.5 1 2\nl 1\n")).is_err());
        assert!(Model::parse("features a b\n").is_err());
        assert!(Model::parse(&format!("{head}ensemble 1 0\ntree 1\nl 1\n")).is_ok());
    }

    #[test]
    fn the_committed_model_loads() {
        assert!(!Model::builtin().first.trees.is_empty());
    }
}
