//! `tidings feeds …`: add (with discovery from a page), remove, list, OPML import and export.

mod common;

use std::collections::BTreeMap;

use common::{FeedServer, Route, Workspace, shared_dir};

#[test]
fn opml_round_trip_keeps_every_feed_title_and_category() {
    let ws = Workspace::new();
    ws.write_config("", &[]);
    let opml =
        shared_dir().join("feeds-corpus/opml/feedjira-2009-google-reader-subscriptions.opml");
    let source = tidings::opml::parse_opml(&std::fs::read(&opml).unwrap()).unwrap();
    assert!(source.len() > 200);
    let out = ws.run_ok(&["feeds", "import", opml.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("imported {} feeds", source.len()))
    );

    let exported = ws.dir.path().join("out.opml");
    ws.run_ok(&["feeds", "export", exported.to_str().unwrap()]);
    let back = tidings::opml::parse_opml(&std::fs::read(&exported).unwrap()).unwrap();
    let by_url =
        |feeds: &[tidings::opml::OpmlFeed]| -> BTreeMap<String, (Option<String>, Vec<String>)> {
            feeds
                .iter()
                .map(|f| (f.xml_url.clone(), (f.title.clone(), f.tags.clone())))
                .collect()
        };
    let (a, b) = (by_url(&source), by_url(&back));
    assert_eq!(a.len(), b.len(), "feeds lost in the round trip");
    for (url, (title, tags)) in &a {
        // URLs are stored normalised by the url crate (e.g. a trailing slash on a bare host).
        let stored_url = url::Url::parse(url).unwrap().to_string();
        let (back_title, back_tags) = b
            .get(url)
            .or_else(|| b.get(&stored_url))
            .unwrap_or_else(|| panic!("{url} lost"));
        assert_eq!(
            back_title.as_ref().or(Some(url)),
            title.as_ref().or(Some(url)),
            "{url}"
        );
        assert_eq!(back_tags, tags, "{url}");
    }
    // Imported feeds are in the database with their tags.
    let list: serde_json::Value =
        serde_json::from_slice(&ws.run_ok(&["feeds", "list", "--json"]).stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), source.len());
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|f| f["source"] == "opml")
    );
}

#[test]
fn add_finds_the_feed_of_a_page_and_remove_keeps_items() {
    let server = FeedServer::start();
    let feed = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Found</title><item><guid>1</guid><title>One</title></item></channel></rss>";
    server.set("/feed.xml", Route::feed(feed.to_vec()));
    let page = String::from(
        "<!doctype html><html><head><title>Site</title><link rel=\"alternate\" type=\"application/rss+xml\" title=\"News\" href=\"/feed.xml\"></head><body>Hello</body></html>",
    );
    server.set(
        "/",
        Route {
            content_type: "text/html".into(),
            ..Route::feed(page.into_bytes())
        },
    );
    server.set(
        "/plain",
        Route {
            content_type: "text/html".into(),
            ..Route::feed(b"<html><body>no feed</body></html>".to_vec())
        },
    );
    let ws = Workspace::new();
    ws.write_config("", &[]);

    let out = ws.run_ok(&["feeds", "add", &server.url("/"), "--tag", "korea"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&server.url("/feed.xml")), "{text}");
    ws.run_ok(&["poll"]);
    let list: serde_json::Value =
        serde_json::from_slice(&ws.run_ok(&["feeds", "list", "--json"]).stdout).unwrap();
    assert_eq!(list[0]["url"], server.url("/feed.xml"));
    assert_eq!(list[0]["tags"][0], "korea");
    assert_eq!(list[0]["items"], 1);

    let out = ws
        .command(&["feeds", "add", &server.url("/plain")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&server.url("/plain")));

    ws.run_ok(&["feeds", "remove", &server.url("/feed.xml")]);
    let list: serde_json::Value =
        serde_json::from_slice(&ws.run_ok(&["feeds", "list", "--json"]).stdout).unwrap();
    assert_eq!(list[0]["state"], "disabled");
    assert_eq!(list[0]["items"], 1);
    ws.run_ok(&["poll", "--all"]);
    assert_eq!(
        server.requests_for("/feed.xml").len(),
        1,
        "a removed feed is not polled"
    );
    let out = ws
        .command(&["feeds", "remove", "https://nowhere.example/"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
