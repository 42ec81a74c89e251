//! The one HTTP client: conditional GET, connect/idle/total timeouts, a streamed body cap on
//! decoded bytes, redirects followed by hand (so a permanent one can be learned), and the
//! server's hints about when to come back.

pub mod policy;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::config::FetchConfig;
use crate::scheduler::ServerHints;
use policy::{AddressPolicy, GuardedResolver};

/// A request for a feed (or page): where, and what we already have.
#[derive(Debug, Clone, Default)]
pub struct FetchRequest<'a> {
    /// The URL is one the owner named (a feed): trusted at exactly its host and port. Other
    /// hosts it redirects to, and every URL chosen by content, must be public addresses.
    pub trust_origin: bool,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub headers: &'a [(String, String)],
    /// Nothing else is queued for this host: ask for the connection to be closed after the
    /// answer (`Connection: close`) instead of keeping it idle in the pool.
    pub last_for_host: bool,
}

/// What a fetch gave, when the server answered.
#[derive(Debug)]
pub enum FetchOutcome {
    /// 2xx with a body.
    Fetched(FetchedBody),
    /// 304: what we have is current.
    NotModified { meta: ResponseMeta },
    /// 429 or 503: the server asks us to slow down.
    SlowDown { status: u16, meta: ResponseMeta },
    /// 410: the feed is gone for good.
    Gone { meta: ResponseMeta },
}

/// A 2xx response body and its metadata.
#[derive(Debug)]
pub struct FetchedBody {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub meta: ResponseMeta,
}

/// What every answer carries besides the body.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    pub status: u16,
    /// The URL that finally answered.
    pub final_url: String,
    /// Where the first hop pointed if it was a permanent redirect (301/308).
    pub permanent_redirect: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub hints: ServerHints,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("fetch {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("fetch {url}: timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("fetch {url}: body larger than the {limit}-byte cap")]
    TooLarge { url: String, limit: u64 },
    #[error("fetch {url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },
    #[error("fetch {url}: refused by the address policy: {reason}")]
    Refused { url: String, reason: String },
    #[error("fetch {url}: redirect with a bad Location `{location}`")]
    BadRedirect { url: String, location: String },
    #[error("fetch {url}: request header {name}: {reason}")]
    Header {
        url: String,
        name: String,
        reason: String,
    },
    #[error("fetch {url}: {detail}")]
    Network {
        url: String,
        /// The error and every cause, e.g. "… dns error: failed to lookup address information".
        detail: String,
    },
}

impl FetchError {
    /// A short name for the kind of error, for counters and status output.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Status { .. } => "http-status",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => "redirect",
            FetchError::Network { .. } => "network",
            FetchError::Header { .. } => "header",
            FetchError::Refused { .. } => "address-policy",
        }
    }
}

/// How long a connection is kept open after its answer, for the next request to its host.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// The shared HTTP clients and their limits: one for owner-named origins, one whose DNS
/// resolver enforces the address policy for everything else.
#[derive(Clone)]
pub struct Fetcher {
    trusted: reqwest::Client,
    guarded: reqwest::Client,
    policy: Arc<AddressPolicy>,
    config: FetchConfig,
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> Result<Fetcher, reqwest::Error> {
        let policy = Arc::new(config.policy.clone());
        let builder = || {
            reqwest::Client::builder()
                .user_agent(&config.user_agent)
                .connect_timeout(config.connect_timeout)
                .read_timeout(config.read_timeout)
                .timeout(config.timeout)
                .redirect(reqwest::redirect::Policy::none())
                // Proxies only when configured: the *_PROXY variables would bypass the address policy.
                .no_proxy()
                // An idle connection keeps its read buffer, grown to the bodies it read (tens of
                // KiB); requests that leave nothing queued for their host close theirs
                // (`FetchRequest::last_for_host`), and the rest wait in the pool this long.
                .pool_idle_timeout(POOL_IDLE)
                .pool_max_idle_per_host(config.per_host)
        };
        Ok(Fetcher {
            trusted: builder().build()?,
            guarded: builder()
                .dns_resolver(Arc::new(GuardedResolver {
                    policy: policy.clone(),
                }))
                .build()?,
            policy,
            config: config.clone(),
        })
    }

    /// GETs `url`, following up to `max_redirects` redirects, and reads the body up to the cap.
    pub async fn fetch(
        &self,
        url: &str,
        request: &FetchRequest<'_>,
    ) -> Result<FetchOutcome, FetchError> {
        let mut current = url.to_string();
        let origin = Url::parse(url).ok().map(|u| origin_of(&u));
        let mut permanent_redirect = None;
        for hop in 0..=self.config.max_redirects {
            let parsed = Url::parse(&current).map_err(|e| FetchError::BadRedirect {
                url: url.to_string(),
                location: format!("{current} ({e})"),
            })?;
            let trusted = request.trust_origin && origin.as_ref() == Some(&origin_of(&parsed));
            if !trusted && let Some(reason) = self.policy.refuse_url(&parsed) {
                return Err(FetchError::Refused {
                    url: current,
                    reason,
                });
            }
            let response = self.send(&current, request, trusted).await?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let next = Url::parse(&current)
                    .and_then(|base| base.join(&location))
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| FetchError::BadRedirect {
                        url: current.clone(),
                        location: location.clone(),
                    })?;
                if hop == 0
                    && matches!(
                        status,
                        StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                    )
                {
                    permanent_redirect = Some(next.to_string());
                }
                current = next.to_string();
                continue;
            }
            let meta = ResponseMeta {
                status: status.as_u16(),
                final_url: current.clone(),
                permanent_redirect,
                etag: header_string(response.headers(), header::ETAG),
                last_modified: header_string(response.headers(), header::LAST_MODIFIED),
                hints: hints_from_headers(response.headers(), chrono::Utc::now()),
            };
            return match status {
                StatusCode::NOT_MODIFIED => Ok(FetchOutcome::NotModified { meta }),
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    Ok(FetchOutcome::SlowDown {
                        status: status.as_u16(),
                        meta,
                    })
                }
                StatusCode::GONE => Ok(FetchOutcome::Gone { meta }),
                s if s.is_success() => {
                    let content_type = header_string(response.headers(), header::CONTENT_TYPE);
                    let body = self.read_capped(&current, response).await?;
                    Ok(FetchOutcome::Fetched(FetchedBody {
                        body,
                        content_type,
                        meta,
                    }))
                }
                s => Err(FetchError::Status {
                    url: current,
                    status: s.as_u16(),
                }),
            };
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            limit: self.config.max_redirects,
        })
    }

    async fn send(
        &self,
        url: &str,
        request: &FetchRequest<'_>,
        trusted: bool,
    ) -> Result<reqwest::Response, FetchError> {
        let client = if trusted {
            &self.trusted
        } else {
            &self.guarded
        };
        let mut builder = client.get(url);
        if let Some(etag) = request.etag {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = request.last_modified {
            builder = builder.header(header::IF_MODIFIED_SINCE, modified);
        }
        for (name, value) in request.headers {
            // `env:NAME` and `file:PATH` are read now, as the feed is fetched.
            let value =
                crate::config::resolve_secret(value).map_err(|reason| FetchError::Header {
                    url: url.to_string(),
                    name: name.clone(),
                    reason,
                })?;
            builder = builder.header(name.as_str(), value);
        }
        if request.last_for_host {
            builder = builder.header(header::CONNECTION, "close");
        }
        builder.send().await.map_err(|e| self.classify(url, e))
    }

    /// Streams the body, counting decoded bytes, and stops at the cap.
    async fn read_capped(
        &self,
        url: &str,
        response: reqwest::Response,
    ) -> Result<Vec<u8>, FetchError> {
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let mut body =
            Vec::with_capacity(response.content_length().unwrap_or(16 * 1024).min(limit) as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.classify(url, e))?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, url: &str, error: reqwest::Error) -> FetchError {
        let chain = error_chain(&error);
        if let Some(pos) = chain.find("address policy: ") {
            return FetchError::Refused {
                url: url.to_string(),
                reason: chain[pos + 16..].to_string(),
            };
        }
        if error.is_timeout() {
            FetchError::Timeout {
                url: url.to_string(),
                after: self.config.timeout,
            }
        } else {
            FetchError::Network {
                url: url.to_string(),
                detail: chain,
            }
        }
    }
}

/// Scheme, host and port: what "the same origin" means for trust.
fn origin_of(url: &Url) -> (String, String, u16) {
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0),
    )
}

/// The error and its sources, joined.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads Cache-Control max-age, Expires and Retry-After.
pub fn hints_from_headers(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> ServerHints {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let max_age = text(header::CACHE_CONTROL).and_then(|cc| {
        cc.split(',').find_map(|d| {
            let (k, v) = d.trim().split_once('=')?;
            (k.trim().eq_ignore_ascii_case("max-age"))
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())?
        })
    });
    let expires = text(header::EXPIRES)
        .and_then(parse_http_date)
        .and_then(|t| (t - now).to_std().ok());
    let retry_after = text(header::RETRY_AFTER).and_then(|v| match v.trim().parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => parse_http_date(v).and_then(|t| (t - now).to_std().ok()),
    });
    ServerHints {
        fresh_for: max_age.map(Duration::from_secs).or(expires),
        retry_after,
        ttl: None,
    }
}

/// Parses an HTTP date (IMF-fixdate, or the RFC 850 / asctime forms loosely via RFC 2822).
fn parse_http_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        let hints = hints_from_headers(&h, now);
        assert_eq!(hints.fresh_for, Some(Duration::from_secs(600)));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(120)));

        let mut h = HeaderMap::new();
        h.insert(
            header::EXPIRES,
            HeaderValue::from_static("Thu, 01 Jan 2026 01:00:00 GMT"),
        );
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 00:30:00 GMT"),
        );
        let hints = hints_from_headers(&h, now);
        assert_eq!(hints.fresh_for, Some(Duration::from_secs(3600)));
        assert_eq!(hints.retry_after, Some(Duration::from_secs(1800)));
    }
}
