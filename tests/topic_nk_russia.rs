//! The shipped nk-russia topic: loads it from `config/tidings.example.toml`, checks P/R on the dev set and on a
//! handful of hand-written headlines (written from the subject, not from the dev set).

use tidings::matcher::{Aliases, Document, Topic, eval_labelled, prepare};

/// The dev set in the shared data folder; a missing file fails the test.
fn dev_set() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/topics-dev/nk-russia-dev.jsonl"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The shipped topic, from the example config itself.
fn load() -> (Aliases, Topic) {
    let config = tidings::config::Config::load(Some(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/tidings.example.toml"
    ))))
    .unwrap();
    let aliases = Aliases::parse(&config.topics.aliases).unwrap();
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
    (aliases, topic)
}

fn load_topic() -> Topic {
    load().1
}

#[test]
fn dev_set_precision_and_recall() {
    let jsonl = dev_set();
    let topic = load_topic();
    let report = eval_labelled(&topic, &jsonl).unwrap();
    println!("{report}");
    assert_eq!(report.items, 140);
    assert!(report.precision >= 0.90, "{report}");
    assert!(report.recall >= 0.90, "{report}");
}

#[test]
fn canonical_form_round_trips() {
    let (aliases, topic) = load();
    let printed = topic.query.to_string();
    assert_eq!(
        tidings::matcher::parse_query(&printed, &aliases).unwrap(),
        topic.query
    );
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
        if topic.is_match(&doc) != (sign == "+") {
            wrong.push(line);
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

/// The bar, through the binary: `tidings topics eval nk-russia` with the example
/// config on the dev set.
#[test]
fn topics_eval_cli_on_the_dev_set() {
    let dev = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/topics-dev/nk-russia-dev.jsonl"
    );
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/config/tidings.example.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args([
            "--config",
            config,
            "topics",
            "eval",
            "nk-russia",
            dev,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (p, r, f1) = (
        report["precision"].as_f64().unwrap(),
        report["recall"].as_f64().unwrap(),
        report["f1"].as_f64().unwrap(),
    );
    eprintln!("nk-russia on the dev set: precision {p:.3}, recall {r:.3}, F1 {f1:.3}");
    assert!(p >= 0.90 && r >= 0.90, "precision {p}, recall {r}");
}
