//! The shipped nk-russia topic: loads it from `config/tidings.example.toml` (its query and
//! its shipped model, `config/models/nk-russia.model`), checks the held-out figures on the
//! development sets (date split, folds by source, learning curve) through the binary, the
//! in-sample ones, that the committed model is what its rebuild command produces, and a
//! handful of hand-written headlines (written from the subject, not from the dev sets).

use tidings::matcher::validation::{Prepared, evaluate_as_configured};
use tidings::matcher::{Aliases, Document, LabelledExample, Topic, prepare, read_labelled};

const DEV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/topics-dev/nk-russia-dev.jsonl"
);
const MORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/topics-dev/nk-russia-more.jsonl"
);
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/tidings.example.toml");
const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/models/nk-russia.model");

/// The labelled development sets in the shared data folder; a missing file fails the test.
fn dev_sets() -> Vec<LabelledExample> {
    let mut out = Vec::new();
    for path in [DEV, MORE] {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        out.extend(read_labelled(&text).unwrap());
    }
    out
}

/// The shipped topic, from the example config itself (with its learned layer).
fn load() -> (Aliases, Topic) {
    let config = tidings::config::Config::load(Some(std::path::Path::new(CONFIG))).unwrap();
    let topic = config
        .topics
        .compiled
        .iter()
        .find(|t| t.name == "nk-russia")
        .expect("nk-russia topic")
        .clone();
    assert_eq!(
        config.topics.title_of("nk-russia"),
        "North Korea–Russia relations"
    );
    assert!(
        topic.learned.is_some(),
        "the shipped topic has a learned layer"
    );
    (config.topics.parsed_aliases.clone(), topic)
}

fn load_topic() -> Topic {
    load().1
}

fn eval_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args([
            "--config",
            CONFIG,
            "topics",
            "eval",
            "nk-russia",
            DEV,
            MORE,
            "--json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (precision, recall, F1) of a confusion object of the JSON report.
fn prf(c: &serde_json::Value) -> (f64, f64, f64) {
    let n = |k: &str| c[k].as_f64().unwrap();
    let (tp, fp, fne) = (
        n("true_positives"),
        n("false_positives"),
        n("false_negatives"),
    );
    let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let r = if tp + fne > 0.0 { tp / (tp + fne) } else { 0.0 };
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

/// The protocol, through the binary: fit on the earlier two thirds of the dev sets,
/// score the last third (2025-07-30 … 2026-08-21, mostly Korean and Vietnamese outlets the
/// earlier part hardly has); and five folds by source. The shipped model was trained on
/// these items, so the held-out models start from the default prior instead (the report
/// says so); the figures asserted are the held-out ones.
#[test]
fn held_out_figures_on_the_dev_sets() {
    let report = eval_json(&[
        "--split",
        "date",
        "--folds",
        "5",
        "--by",
        "source",
        "--simulate-feedback",
        "100",
    ]);
    assert_eq!(report["items"], 1390);
    let split = &report["held_out"][0];
    let folds = &report["held_out"][1];
    for part in split["parts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(folds["parts"].as_array().unwrap())
    {
        assert_eq!(part["prior"], "default_model_saw_scored_items", "{part}");
    }
    let (qp, qr, qf) = prf(&split["query"]["all"]);
    let (lp, lr, lf) = prf(&split["learned"]["all"]);
    let (cp, cr, _) = prf(&split["learned"]["clear"]);
    let (bp, br, _) = prf(&split["learned"]["borderline"]);
    eprintln!(
        "date split, held out: query alone P {qp:.3} R {qr:.3} F1 {qf:.3}; with the model P {lp:.3} R {lr:.3} F1 {lf:.3} \
         (clear P {cp:.3} R {cr:.3}; borderline P {bp:.3} R {br:.3})"
    );
    assert!(
        lf >= 0.90 && lf >= qf - 0.005,
        "date split: {lf} vs query {qf}"
    );
    // The goal for the clear items, held out.
    assert!(cr >= 0.93 && cp >= 0.93, "clear items: P {cp} R {cr}");
    let (fq, fl) = (prf(&folds["query"]["all"]).2, prf(&folds["learned"]["all"]));
    eprintln!(
        "5 folds by source, held out: query alone F1 {fq:.3}; with the model P {:.3} R {:.3} F1 {:.3}",
        fl.0, fl.1, fl.2
    );
    assert!(
        fl.2 >= 0.92 && fl.2 >= fq - 0.005,
        "folds: {} vs query {fq}",
        fl.2
    );
    // Every held-out model says how it decides: a band chosen by inner cross-validation on
    // its own fit items, or the query.
    for part in split["parts"].as_array().unwrap() {
        let decision = part["decision"].as_str().unwrap();
        assert!(decision.contains("inner cross-validation"), "{decision}");
    }
    // In sample the inner cross-validation finds no gain either, so the model decides as
    // the query does (P 0.952 R 0.929).
    let (ip, ir, inf) = prf(&split["in_sample_learned"]["all"]);
    let (_, _, iqf) = prf(&split["in_sample_query"]["all"]);
    assert!(
        ip >= 0.93 && ir >= 0.92 && inf >= iqf - 1e-9,
        "in sample: P {ip} R {ir} F1 {inf} vs query {iqf}"
    );
    // The learning curve: every point scored on the same later items; more labels, no worse.
    let points = report["learning_curve"]["points"].as_array().unwrap();
    let labels: Vec<u64> = points
        .iter()
        .map(|p| p["labels"].as_u64().unwrap())
        .collect();
    assert_eq!(labels, vec![0, 25, 50, 100]);
    let f1 = |i: usize| prf(&points[i]["scores"]["all"]).2;
    eprintln!(
        "learning curve F1: {:?}",
        (0..points.len()).map(f1).collect::<Vec<_>>()
    );
    assert!(
        (f1(0) - qf).abs() < 1e-9,
        "with no labels the topic is its query"
    );
    // Early labels cannot make the topic worse than its query: the gate keeps the query
    // until items the model never saw show a gain.
    for i in 1..points.len() {
        assert!(
            f1(i) >= f1(0) - 1e-9,
            "point {i}: {} vs none: {}",
            f1(i),
            f1(0)
        );
    }
}

/// The shipped topic as configured (its model was trained on these items: in sample).
#[test]
fn dev_sets_in_sample() {
    let examples = dev_sets();
    let items = Prepared::new(&examples);
    let topic = load_topic();
    let r = evaluate_as_configured(&topic, &items);
    let learned = r.learned.unwrap();
    eprintln!(
        "in sample: query alone P {:.3} R {:.3}; with the model P {:.3} R {:.3}",
        r.query.all.precision(),
        r.query.all.recall(),
        learned.all.precision(),
        learned.all.recall()
    );
    assert!(r.query.all.precision() >= 0.90 && r.query.all.recall() >= 0.90);
    // The shipped model's band is the one its training's inner cross-validation chose.
    assert!(learned.all.precision() >= 0.93 && learned.all.recall() >= 0.92);
    assert!(learned.all.f1() >= r.query.all.f1() - 1e-9);
    // The first dev set alone (the one the old query was written against).
    let first: Vec<LabelledExample> = examples
        .iter()
        .filter(|e| e.id.starts_with('d'))
        .cloned()
        .collect();
    assert_eq!(first.len(), 140);
    let r = evaluate_as_configured(&topic, &Prepared::new(&first));
    assert!(
        r.query.all.precision() >= 0.90 && r.query.all.recall() >= 0.90,
        "{:?}",
        r.query
    );
}

/// The committed model is what its rebuild command writes (training is deterministic).
#[test]
fn shipped_model_is_rebuilt_by_its_command() {
    let committed = std::fs::read_to_string(MODEL).unwrap();
    let rebuild = committed
        .lines()
        .find_map(|l| l.strip_prefix("# rebuild: tidings "))
        .expect("a rebuild line");
    assert!(rebuild.contains("topics train nk-russia"), "{rebuild}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nk-russia.model");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--config",
            CONFIG,
            "topics",
            "train",
            "nk-russia",
            DEV,
            MORE,
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let rebuilt = std::fs::read_to_string(&out).unwrap();
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(
        body(&rebuilt) == body(&committed),
        "the committed model differs from a rebuild"
    );
}

#[test]
fn canonical_form_round_trips() {
    let (aliases, topic) = load();
    for query in [&topic.query, &topic.learned.as_ref().unwrap().candidates] {
        let printed = query.to_string();
        assert_eq!(
            &tidings::matcher::parse_query(&printed, &aliases).unwrap(),
            query
        );
    }
}

/// Hand-written headlines: `+` must match, `-` must not; `title | summary`.
const HAND_WRITTEN: &str = "
+ Putin arrives in Pyongyang for first visit in 24 years
+ Kim Jong Un and Putin sign mutual defence treaty
+ North Korean troops deployed to Kursk region, Seoul says
+ Ukraine says it captured two North Korean soldiers | The men were taken prisoner in the Kursk region, Kyiv said.
+ Lavrov hails 'invincible brotherhood' with Pyongyang during Wonsan visit
+ Shoigu meets Kim Jong Un in Pyongyang for second time in weeks
+ Choe Son Hui holds talks with Lavrov in Moscow
+ Russia and North Korea open road bridge across the Tumen river
+ US sanctions ships carrying North Korean munitions to Russian ports
+ Kim Jong Un inspects drone factory built with Russian help
+ Moscow and Pyongyang resume direct passenger flights
+ Kremlin says Kim Jong Un invited to visit Russia
+ Seoul summons Russian ambassador over North Korea arms deal
+ Where Russia gets its shells | Moscow has bought millions of artillery rounds from North Korea, officials say.
+ North Korea recognises independence of Donetsk and Luhansk
+ Ukraine cuts ties with North Korea after it recognises separatist regions
+ Russia-Ukraine war live: North Korean troops suffer heavy losses in Kursk
+ Russian tourists return to North Korea's Wonsan beach resort
+ Putin signs law ratifying defence pact with Pyongyang
+ Iran, North Korea are Russia's allies in the war, Kyiv says
+ Kim Jong Un and Putin hold talks in Beijing after military parade
+ 김정은, 쇼이구 접견…북러 조약 이행 논의
+ 북한군, 쿠르스크 전선에 추가 파병
+ 라브로프 러시아 외무장관, 원산서 최선희와 회담
+ 푸틴 방북 1주년…북러 밀착 가속
+ 北·러, 두만강 자동차 다리 착공
+ 러 외무장관 라브로프, 北 원산 방문
+ 김정은, 푸틴과 베이징서 정상회담
+ 北 최선희, 모스크바서 라브로프와 회담
+ 조·러 친선 강조한 北…러 대표단 평양 도착
+ Nordkoreanische Soldaten kämpfen für Russland in Kursk
+ Putin empfängt Kim Jong Un im Kreml
+ Russland und Nordkorea vertiefen Militärkooperation
+ Kim Jong Un sichert Putin volle Unterstützung zu
+ Korea Północna wysłała kolejnych żołnierzy do Rosji
+ Ławrow: współpraca z Pjongjangiem rozwija się
+ Kim Dzong Un spotkał się z Putinem
+ Korea Północna dostarcza broń dla Grupy Wagnera
+ Ławrow w Pjongjangu. Rosja i Korea Północna zacieśniają współpracę
+ Nga và Triều Tiên ký hiệp ước đối tác chiến lược toàn diện
+ Binh sĩ Triều Tiên tham chiến ở Kursk
+ Ông Kim Jong-un gửi thư chúc mừng ông Putin
+ Triều Tiên xác nhận điều quân sang Nga
- North Korea fires ballistic missile into East Sea
- Kim Jong Un oversees artillery drills near border
- Russia launches massive drone attack on Kyiv
- China, Russia, Iran and North Korea: the new axis worrying the West
- G7 condemns China, Russia and North Korea over cyber attacks
- Iran, Russia, North Korea: the threats facing the next president
- Russia and China veto UN resolution on North Korea sanctions
- Russia and China block UN statement on North Korea missile launch
- South Korea and Russia hold consular talks in Seoul
- Kim Kardashian launches new brand
- Kim Min-jae scores for Bayern
- Kim Jong-kook marries in private ceremony
- Putin, Xi and Kim Jong Un watch Beijing military parade
- Morning briefing: North Korea tests missile; Russia strikes Ukraine grid
- Election night live: results as they come in | Russia and North Korea are not on the ballot.
- Trump says he will meet Kim Jong Un
- North Korean hackers stole $1.5bn in crypto, FBI says
- Russia's economy slows as sanctions bite
- Kim Jong Un says North Korea learned lessons from Ukraine war
- China's Xi meets Kim Jong Un in Beijing
- Russia's Victory Day parade: Putin hosts Xi in Moscow
- North Korean defector warns of regime's cruelty
- Gen. Milley: Russia is a threat. North Korea too
- 北, 동해상으로 탄도미사일 발사
+ 北·러 밀착 가속…중국은 주시 | 중·러 관계에 미칠 영향도 관심
- 러시아, 우크라이나 에너지 시설 공습
- 한러 외교차관 통화…북한 문제 논의
- 한·러 외교장관 통화…북한 비핵화 협의
- 北 미사일 발사…러, 美에 책임 전가
- 美·러 정상회담 임박…北 비핵화 의제 오를까
- 김정은, 시진핑·푸틴과 천안문 망루에…북중러 연대 과시
- Nordkorea testet neue Rakete
- Hàn Quốc và Nga thảo luận hợp tác
- Triều Tiên phóng tên lửa đạn đạo
- NGA satellite images show North Korea expanding launch site
+ Kim Jong-un thăm Nga
+ Russo-North Korean pact alarms Tokyo
+ NK troops spotted near Kursk front
- Is Putin turning Russia into North Korea?
- Russia passes North Korea-style law on foreign agents
+ Kim Jong Un arrives at Vostochny cosmodrome for talks
+ First Russian tour group arrives in Wonsan
";

#[test]
fn hand_written_headlines() {
    let topic = load_topic();
    let mut wrong = Vec::new();
    for line in HAND_WRITTEN.lines().filter(|l| !l.trim().is_empty()) {
        let (sign, rest) = line.split_at(1);
        let (title, summary) = rest.split_once('|').unwrap_or((rest, ""));
        let doc = prepare(&Document {
            title: title.trim(),
            summary: summary.trim(),
            ..Document::default()
        });
        if topic.query_matches(&doc) != (sign == "+") {
            wrong.push(format!("query alone: {line}"));
        }
        if topic.is_match(&doc) != (sign == "+") {
            wrong.push(format!("with the model: {line}"));
        }
        // The fast score-only path agrees with the explained evaluation.
        let fast = tidings::matcher::score(&topic.query, &doc);
        let full = tidings::matcher::evaluate(&topic.query, &doc).map(|r| r.score);
        assert_eq!(
            fast.map(|s| (s * 1e6).round()),
            full.map(|s| (s * 1e6).round()),
            "{line}"
        );
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn article_text_needs_more_than_one_passing_co_mention() {
    let topic = load_topic();
    let title = "Ukraine-Krieg: Putin droht dem Westen";
    let summary = "Der Kremlchef äußerte sich am Abend im Fernsehen.";
    let once = "Putin sprach lange. Er lobte auch Nordkorea und Russland als Partner. Dann ging es um Gas.";
    let often = "Nordkorea und Russland rücken zusammen. Russland bekommt Granaten aus Nordkorea. \
                 Nordkorea schickt Soldaten nach Russland.";
    let doc = |text| {
        prepare(&Document {
            title,
            summary,
            text,
            ..Document::default()
        })
    };
    assert!(!topic.is_match(&doc(once)));
    assert!(topic.is_match(&doc(often)));
}
