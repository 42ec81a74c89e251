//! Property tests: the canonical printer round-trips through the parser; normalization is
//! idempotent; NEAR agrees with a brute-force check over token positions; the prefilter never
//! refuses an item a topic matches; an untrained learned layer decides as its query does.

use proptest::prelude::*;
use tidings::matcher::normalize::is_prefix_script;
use tidings::matcher::{
    Aliases, Document, Field, LearnedLayer, Node, Prefilter, Topic, Word, normalize, parse_query,
    prepare,
};

fn aliases() -> Aliases {
    Aliases::parse(&[
        ("dprk".into(), "\"north korea\" OR pyongyang OR 북한".into()),
        ("ru".into(), "russia* OR title:moscow^2".into()),
        ("both".into(), "NEAR/5(@dprk, @ru)".into()),
    ])
    .unwrap()
}

fn field() -> impl Strategy<Value = Option<Field>> {
    prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(Field::ALL.to_vec()).prop_map(Some),
    ]
}

fn weight() -> impl Strategy<Value = f64> {
    proptest::sample::select(vec![1.0, 1.0, 2.0, 0.5, 3.0])
}

fn word() -> impl Strategy<Value = Word> {
    prop_oneof![
        ("[a-z][a-z0-9]{0,7}", any::<bool>()).prop_map(|(text, prefix)| Word { text, prefix }),
        proptest::sample::select(vec!["북한", "러시아", "러", "кндр", "pjongjang", "北"]).prop_map(
            |w| Word {
                prefix: is_prefix_script(w),
                text: w.to_string(),
            }
        ),
    ]
}

fn leaf() -> impl Strategy<Value = Node> {
    let names = vec!["dprk", "ru", "both"];
    prop_oneof![
        (field(), word(), weight()).prop_map(|(field, w, weight)| Node::Term {
            field,
            word: w.text,
            prefix: w.prefix,
            weight,
        }),
        (field(), proptest::collection::vec(word(), 2..4), weight()).prop_map(
            |(field, words, weight)| Node::Phrase {
                field,
                words,
                weight
            }
        ),
        (field(), proptest::sample::select(names), weight()).prop_map(|(field, name, weight)| {
            Node::Alias {
                name: name.to_string(),
                field: None,
                weight: 1.0,
                expr: Box::new(aliases().get(name).unwrap().clone()),
            }
            .scoped(field, weight)
        }),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Node::Or),
            inner.clone().prop_map(|n| Node::Not(Box::new(n))),
            (1u32..40, inner.clone(), inner).prop_map(|(n, a, b)| Node::Near {
                n,
                a: Box::new(a),
                b: Box::new(b),
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parse_print_roundtrip(root in node()) {
        let aliases = aliases();
        let q = tidings::matcher::Query { root };
        let printed = q.to_string();
        let back = parse_query(&printed, &aliases)
            .unwrap_or_else(|e| panic!("{printed}: {e}"));
        prop_assert_eq!(&back, &q, "printed: {}", printed);
        prop_assert_eq!(back.to_string(), printed);
    }

    #[test]
    fn normalize_is_idempotent(s in "\\PC{0,40}") {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once.clone());
    }

    #[test]
    fn near_matches_brute_force(
        words in proptest::collection::vec(
            proptest::sample::select(vec!["a", "b", "c", "d", "a.", "b,", "x\n", "c;"]), 0..40),
        n in 1u32..8,
    ) {
        let text = words.join(" ");
        let toks = tidings::matcher::normalize::tokenize(&text);
        let pos = |w: &str| -> Vec<u32> {
            (0..toks.tokens.len()).filter(|&i| toks.text(i) == w).map(|i| toks.tokens[i].pos).collect()
        };
        let (pa, pb) = (pos("a"), pos("b"));
        let expected = pa.iter().any(|&x| pb.iter().any(|&y| x.abs_diff(y) - 1 <= n));
        let doc = tidings::matcher::prepare(&tidings::matcher::Document { text: &text, ..Default::default() });
        let q = parse_query(&format!("NEAR/{n}(a, b)"), &Aliases::default()).unwrap();
        prop_assert_eq!(tidings::matcher::evaluate(&q, &doc).is_some(), expected, "{}", text);
    }

    #[test]
    fn parsed_text_prints_canonically(
        s in "([a-zé북러-]{1,6}|AND|OR|NOT|NEAR/3|title:|@dprk|@ru|\\^2|[ ()\",*])*"
    ) {
        // Whatever parses prints to a form that parses back to the same query.
        if let Ok(q) = parse_query(&s, &aliases()) {
            let printed = q.to_string();
            let back = parse_query(&printed, &aliases());
            prop_assert_eq!(back.as_ref(), Ok(&q), "{} -> {}", s, printed);
        }
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = parse_query(&s, &aliases());
    }

    /// Any query, any document: a topic the prefilter calls impossible does not match, and a
    /// learned layer with the default prior (no labels) decides exactly as the query alone.
    #[test]
    fn prefilter_is_sound_and_untrained_layer_is_the_query(
        roots in proptest::collection::vec(node(), 1..4),
        title in document_text(),
        summary in document_text(),
        text in document_text(),
        min_score in proptest::sample::select(vec![0.5, 2.0, 6.0]),
    ) {
        let aliases = aliases();
        let topics: Vec<Topic> = roots
            .into_iter()
            .enumerate()
            .map(|(i, root)| {
                let query = tidings::matcher::Query { root };
                let topic = Topic::new(&format!("t{i}"), &query.to_string(), min_score, &aliases).unwrap();
                if i % 2 == 0 {
                    return topic;
                }
                let candidates = tidings::matcher::learned::default_candidates(&topic.query);
                let layer = LearnedLayer::new(&topic.query, min_score, candidates, &aliases, None, None);
                topic.with_learned(layer)
            })
            .collect();
        let refs: Vec<&Topic> = topics.iter().collect();
        let prefilter = Prefilter::new(&refs);
        let doc = prepare(&Document { title: &title, summary: &summary, text: &text, ..Default::default() });
        for (topic, possible) in topics.iter().zip(prefilter.possible(&doc)) {
            let matched = topic.is_match(&doc);
            prop_assert!(possible || !matched, "{}: refused but matches", topic.query);
            prop_assert_eq!(matched, topic.query_matches(&doc), "{}", topic.query);
            prop_assert_eq!(topic.matches(&doc).is_some(), matched, "{}", topic.query);
        }
    }
}

/// Short texts over the words the generated queries use (so they match now and then).
fn document_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(vec![
            "north",
            "korea",
            "North Korea",
            "pyongyang",
            "북한이",
            "russia",
            "Russians",
            "moscow",
            "러시아",
            "러",
            "кндр",
            "pjongjang",
            "北",
            "a",
            "b",
            "c.",
            "x\n",
            "Kim Jong-un",
        ]),
        0..14,
    )
    .prop_map(|w| w.join(" "))
}
