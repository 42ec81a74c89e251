//! `tidings extract URL|FILE`: what the extractor keeps from one page, for a person checking a
//! site.

use anyhow::Context as _;

use crate::config::Config;
use crate::extract::{ExtractLimits, extract};
use crate::fetch::{FetchOutcome, FetchRequest, Fetcher};

pub async fn run(config: &Config, target: &str, json: bool) -> anyhow::Result<()> {
    let limits = ExtractLimits {
        max_bytes: config.extract.max_page_bytes as usize,
        timeout: config.extract.time_limit,
    };
    let (body, content_type, url) =
        if target.starts_with("http://") || target.starts_with("https://") {
            let fetcher = Fetcher::new(&crate::config::FetchConfig {
                max_body_bytes: config.extract.max_page_bytes,
                ..config.fetch.clone()
            })?;
            match fetcher
                .fetch(
                    target,
                    &FetchRequest {
                        trust_origin: true,
                        ..FetchRequest::default()
                    },
                )
                .await?
            {
                FetchOutcome::Fetched(b) => (b.body, b.content_type, Some(b.meta.final_url)),
                FetchOutcome::NotModified { meta }
                | FetchOutcome::SlowDown { meta, .. }
                | FetchOutcome::Gone { meta } => {
                    anyhow::bail!("extract {target}: HTTP {}", meta.status)
                }
            }
        } else {
            let bytes =
                std::fs::read(target).with_context(|| format!("extract: cannot read {target}"))?;
            let bytes = if target.ends_with(".gz") {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
                    .with_context(|| format!("extract: {target} is not gzip"))?;
                out
            } else {
                bytes
            };
            (bytes, Some("text/html".to_string()), None)
        };
    let article = extract(&body, content_type.as_deref(), url.as_deref(), &limits)
        .with_context(|| format!("extract {target}"))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "url": url, "title": article.title, "byline": article.byline, "published": article.published,
                "language": article.language, "lead_image_url": article.lead_image_url, "method": article.method,
                "words": article.text.split_whitespace().count(), "text": article.text,
            }))?
        );
    } else {
        println!("title:     {}", article.title.as_deref().unwrap_or("-"));
        println!("byline:    {}", article.byline.as_deref().unwrap_or("-"));
        println!("published: {}", article.published.as_deref().unwrap_or("-"));
        println!("language:  {}", article.language.as_deref().unwrap_or("-"));
        println!(
            "method:    {} ({} words)",
            article.method,
            article.text.split_whitespace().count()
        );
        println!();
        println!("{}", article.text);
    }
    Ok(())
}
