//! Who may read the pages and send their forms: the login that turns the API token into a
//! session cookie, the guard on every page, and the CSRF token every form carries.
//!
//! - With `api.token` set, a page needs the session cookie (set by the login form: HttpOnly,
//!   SameSite=Strict, its value an HMAC of the token, never the token itself) or
//!   `Authorization: Bearer TOKEN`. Without either, a page redirects to `/login`.
//! - Without a token the server listens on loopback only (config validation), and the pages
//!   answer only requests whose `Host` is an IP address or `localhost`: a web page elsewhere
//!   cannot reach them through a DNS name it points at 127.0.0.1 (DNS rebinding).
//! - Every POST carries a CSRF token (an HMAC under a key derived from the token, or a random
//!   key per process without one), and a POST a browser marks as cross-site is refused.

use std::io::Read as _;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{PageError, WebState};

/// The session cookie's name.
pub const COOKIE: &str = "tidings_session";

/// The keys of one server: the session value (with a token) and the CSRF token.
pub struct Auth {
    token: Option<String>,
    /// The cookie value a signed-in browser holds (with a token).
    session: Option<String>,
    /// The value of every form's `csrf` field.
    csrf: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Auth")
            .field("token", &self.token.is_some())
            .finish()
    }
}

fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// 32 random bytes from the kernel; a fixed fallback would make CSRF tokens guessable, so a
/// failure falls back to the clock and process id mixed through HMAC, logged as a warning.
fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
    if let Err(e) = read {
        tracing::warn!(error = %e, "web: cannot read /dev/urandom; CSRF key from the clock");
        let seed = format!(
            "{:?}{}{}",
            std::time::SystemTime::now(),
            std::process::id(),
            fastrand::u64(..)
        );
        key = hmac_hex(seed.as_bytes(), "tidings csrf").into_bytes();
    }
    key
}

impl Auth {
    pub fn new(token: Option<&str>) -> Auth {
        match token {
            Some(token) => Auth {
                token: Some(token.to_string()),
                session: Some(hmac_hex(token.as_bytes(), "tidings web session v1")),
                csrf: hmac_hex(token.as_bytes(), "tidings web csrf v1"),
            },
            None => Auth {
                token: None,
                session: None,
                csrf: hmac_hex(&random_key(), "tidings web csrf v1"),
            },
        }
    }

    /// Whether a token guards the pages (and a login form is shown).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The value every form carries in its `csrf` field.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether `given` is the configured token (the login form).
    pub fn token_matches(&self, given: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|t| crate::api::same(given.trim().as_bytes(), t.as_bytes()))
    }

    /// The `Set-Cookie` value that signs a browser in (HttpOnly, SameSite=Strict).
    pub fn login_cookie(&self) -> Option<String> {
        self.session.as_deref().map(|value| {
            format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000")
        })
    }

    /// The `Set-Cookie` value that signs a browser out.
    pub fn logout_cookie() -> String {
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }

    /// Whether the request may read the pages.
    fn signed_in(&self, headers: &HeaderMap) -> bool {
        let (Some(token), Some(session)) = (self.token.as_deref(), self.session.as_deref()) else {
            return loopback_host(headers);
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|b| crate::api::same(b.trim().as_bytes(), token.as_bytes()));
        bearer
            || cookie(headers, COOKIE)
                .is_some_and(|c| crate::api::same(c.as_bytes(), session.as_bytes()))
    }

    /// Refuses a form whose CSRF token is wrong, or that a browser says came from another site.
    pub fn check_form(&self, headers: &HeaderMap, csrf: &str) -> Result<(), PageError> {
        check_origin(headers)?;
        if !crate::api::same(csrf.as_bytes(), self.csrf.as_bytes()) {
            return Err(refused("its form token is missing or stale"));
        }
        Ok(())
    }
}

fn refused(why: &str) -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        format!("form refused: {why}. Reload the page and try again."),
    )
}

/// Refuses a form a browser says came from another site (`Sec-Fetch-Site`, `Origin`). The
/// login form has only this check: its page is public, so a CSRF token on it would be too.
pub fn check_origin(headers: &HeaderMap) -> Result<(), PageError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(refused("it was sent from another site"));
    }
    if let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) && origin != "null"
        && url::Url::parse(origin)
            .ok()
            .is_some_and(|o| origin_authority(&o) != host)
    {
        return Err(refused("it was sent from another site"));
    }
    Ok(())
}

/// `host[:port]` of an origin URL, as a `Host` header writes it.
fn origin_authority(origin: &url::Url) -> String {
    let host = origin.host_str().unwrap_or_default();
    match origin.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Whether the request's `Host` names this machine by address or as `localhost`.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        // HTTP/1.0 without Host: no browser sends that.
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Lets signed-in requests through; sends a browser to the login form otherwise.
pub async fn require_login(State(state): State<WebState>, req: Request, next: Next) -> Response {
    if state.auth.signed_in(req.headers()) {
        return next.run(req).await;
    }
    if !state.auth.has_token() {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "without api.token these pages answer only at 127.0.0.1, [::1] or localhost".into(),
        )
        .into_response();
    }
    if req.method() == Method::GET {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        Redirect::to(&format!("/login?next={next_param}")).into_response()
    } else {
        PageError::new(
            StatusCode::UNAUTHORIZED,
            "sign in first: this server needs its API token".into(),
        )
        .into_response()
    }
}

/// `next` if it is a path on this server, else `/` (never an open redirect).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn session_is_not_the_token_and_is_checked() {
        let auth = Auth::new(Some("s3cret"));
        let cookie = auth.login_cookie().unwrap();
        assert!(!cookie.contains("s3cret"));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let value = cookie.split(';').next().unwrap().to_string();
        assert!(auth.signed_in(&headers(&[("cookie", &format!("a=b; {value}"))])));
        assert!(!auth.signed_in(&headers(&[("cookie", "tidings_session=nope")])));
        assert!(auth.signed_in(&headers(&[("authorization", "Bearer s3cret")])));
        assert!(!auth.signed_in(&headers(&[("authorization", "Bearer other")])));
        assert!(!auth.signed_in(&headers(&[])));
    }

    #[test]
    fn without_a_token_only_loopback_names() {
        let auth = Auth::new(None);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "127.0.0.1",
        ] {
            assert!(auth.signed_in(&headers(&[("host", host)])), "{host}");
        }
        for host in ["evil.example:8080", "rebind.attacker.test"] {
            assert!(!auth.signed_in(&headers(&[("host", host)])), "{host}");
        }
    }

    #[test]
    fn forms_need_the_token_and_the_same_site() {
        let auth = Auth::new(None);
        let csrf = auth.csrf().to_string();
        assert!(auth.check_form(&headers(&[]), &csrf).is_ok());
        assert!(auth.check_form(&headers(&[]), "forged").is_err());
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(auth.check_form(&same, &csrf).is_ok());
        let cross = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        assert!(auth.check_form(&cross, &csrf).is_err());
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(auth.check_form(&cross, &csrf).is_err());
        // Another process has another key.
        assert_ne!(Auth::new(None).csrf(), csrf);
    }

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(local_path(Some("/search?q=a")), "/search?q=a");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "evil",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
