//! A small HTTP/1.1 server on 127.0.0.1 that serves feeds with ETag/Last-Modified and 304s,
//! and misbehaves on request: status codes with headers, redirects, slow or endless bodies,
//! gzip. Every request is logged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a route answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 with the body, or 304 when the client's validators match.
    Normal,
    /// This status with these headers and a short body.
    Status(u16, Vec<(String, String)>),
    /// A redirect with this status to this location.
    Redirect(u16, String),
    /// The body, sent in pieces with a pause after each.
    Slow { chunk: usize, pause: Duration },
    /// Headers, then one byte a second forever.
    Endless,
    /// The body is already gzip-compressed: send it with Content-Encoding: gzip.
    Gzip,
    /// A feed whose items move on: the n-th answer of this path is generation n of
    /// [`rolling_feed`] (the route's body is ignored), and the log records the generation.
    /// While `frozen`, the generation stays where it is (and 304s are answered).
    Rolling {
        new_per_poll: u64,
        window: u64,
        /// Unix time of item 0's date; item j is dated `base + j`.
        base: i64,
        frozen: bool,
    },
}

/// Generation `generation` of a rolling feed at `path`: items `generation * new_per_poll ..
/// generation * new_per_poll + window`, newest first, with guid `{path}#{j}` and a text that
/// names Pyongyang.
pub fn rolling_feed(
    path: &str,
    generation: u64,
    new_per_poll: u64,
    window: u64,
    base: i64,
) -> Vec<u8> {
    let first = generation * new_per_poll;
    let mut s = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Rolling {path}</title><link>https://rolling.example{path}</link>"
    );
    for j in (first..first + window).rev() {
        let date = chrono::DateTime::from_timestamp(base + j as i64, 0)
            .unwrap()
            .to_rfc2822();
        // Words that vary with (path, j) keep the stories apart.
        let h = xxhash_rust::xxh3::xxh3_64(format!("{path}#{j}").as_bytes());
        let words: Vec<String> = (0..12)
            .map(|k| format!("w{:x}", (h >> (k * 5)) & 0x3ff ^ k))
            .collect();
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{path}#{j}</guid><title>Pyongyang report {j} from {path} {}</title>\
             <link>https://rolling.example{path}/{j}</link><description>Pyongyang said {} today.</description><pubDate>{date}</pubDate></item>",
            words[..4].join(" "),
            words.join(" ")
        ));
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}

#[derive(Debug, Clone)]
pub struct Route {
    pub body: Vec<u8>,
    pub content_type: String,
    pub behaviour: Behaviour,
    /// Extra headers on every answer.
    pub headers: Vec<(String, String)>,
}

impl Route {
    pub fn feed(body: Vec<u8>) -> Route {
        Route {
            body,
            content_type: "application/xml".into(),
            behaviour: Behaviour::Normal,
            headers: Vec::new(),
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub path: String,
    pub headers: HashMap<String, String>,
    /// The status answered.
    pub status: u16,
    /// The generation served by a [`Behaviour::Rolling`] route (0 otherwise).
    pub generation: u64,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    log: Vec<LoggedRequest>,
    latency: Duration,
    /// Answers given so far by each rolling route.
    generations: HashMap<String, u64>,
}

/// The server; stops when dropped (its runtime thread ends with the process anyway).
#[derive(Clone)]
pub struct FeedServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FeedServer {
    /// Starts on a free port, on its own thread and runtime, so it serves while the test
    /// blocks on a child process.
    pub fn start() -> FeedServer {
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let server_state = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = server_state.clone();
                    tokio::spawn(async move {
                        let _ = serve(stream, state).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        FeedServer { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    pub fn set_behaviour(&self, path: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .routes
            .get_mut(path)
            .expect("route exists")
            .behaviour = behaviour;
    }

    /// Stops (or restarts) every rolling route's generation from moving on.
    pub fn freeze_rolling(&self, on: bool) {
        for route in self.state.lock().unwrap().routes.values_mut() {
            if let Behaviour::Rolling { frozen, .. } = &mut route.behaviour {
                *frozen = on;
            }
        }
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    pub fn log(&self) -> Vec<LoggedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn requests_for(&self, path: &str) -> Vec<LoggedRequest> {
        self.log().into_iter().filter(|r| r.path == path).collect()
    }
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

const LAST_MODIFIED: &str = "Mon, 05 Jan 2026 10:00:00 GMT";

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .unwrap_or("")
        .split(' ')
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let headers: HashMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();

    let (route, latency) = {
        let s = state.lock().unwrap();
        (s.routes.get(&path).cloned(), s.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(mut route) = route else {
        log(&state, &path, headers, 404);
        return write_head(&mut stream, 404, "text/plain", Some(9), &[])
            .await
            .and(stream.write_all(b"not found").await);
    };
    if let Behaviour::Rolling {
        new_per_poll,
        window,
        base,
        frozen,
    } = route.behaviour
    {
        // Pick the generation and log the answer under one lock, so the log's order is the
        // generations' order.
        let (status, etag) = {
            let mut s = state.lock().unwrap();
            let next = s.generations.entry(path.clone()).or_insert(0);
            let generation = if frozen {
                next.saturating_sub(1)
            } else {
                *next
            };
            route.body = rolling_feed(&path, generation, new_per_poll, window, base);
            let etag = etag_of(&route.body);
            let status = if headers.get("if-none-match") == Some(&etag) {
                304
            } else {
                200
            };
            if status == 200 && !frozen {
                *next += 1;
            }
            s.log.push(LoggedRequest {
                path: path.clone(),
                headers: headers.clone(),
                status,
                generation,
            });
            (status, etag)
        };
        let extra = [("ETag".to_string(), etag)];
        if status == 304 {
            return write_head(&mut stream, 304, &route.content_type, None, &extra).await;
        }
        write_head(
            &mut stream,
            200,
            &route.content_type,
            Some(route.body.len()),
            &extra,
        )
        .await?;
        return stream.write_all(&route.body).await;
    }
    let etag = etag_of(&route.body);
    let mut extra: Vec<(String, String)> = route.headers.clone();
    match route.behaviour {
        Behaviour::Status(code, ref hs) => {
            extra.extend(hs.iter().cloned());
            log(&state, &path, headers, code);
            write_head(&mut stream, code, "text/plain", Some(2), &extra).await?;
            stream.write_all(b"no").await
        }
        Behaviour::Redirect(code, ref location) => {
            extra.push(("Location".into(), location.clone()));
            log(&state, &path, headers, code);
            write_head(&mut stream, code, "text/plain", Some(0), &extra).await
        }
        Behaviour::Endless => {
            log(&state, &path, headers, 200);
            write_head(&mut stream, 200, &route.content_type, None, &extra).await?;
            stream
                .write_all(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>")
                .await?;
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                stream.write_all(b" ").await?;
            }
        }
        ref behaviour => {
            let fresh = headers.get("if-none-match") == Some(&etag)
                || (!headers.contains_key("if-none-match")
                    && headers.get("if-modified-since").map(String::as_str) == Some(LAST_MODIFIED));
            extra.push(("ETag".into(), etag.clone()));
            extra.push(("Last-Modified".into(), LAST_MODIFIED.into()));
            if fresh {
                log(&state, &path, headers, 304);
                return write_head(&mut stream, 304, &route.content_type, None, &extra).await;
            }
            log(&state, &path, headers, 200);
            if let Behaviour::Gzip = behaviour {
                extra.push(("Content-Encoding".into(), "gzip".into()));
            }
            write_head(
                &mut stream,
                200,
                &route.content_type,
                Some(route.body.len()),
                &extra,
            )
            .await?;
            match behaviour {
                Behaviour::Slow { chunk, pause } => {
                    for piece in route.body.chunks(*chunk) {
                        stream.write_all(piece).await?;
                        stream.flush().await?;
                        tokio::time::sleep(*pause).await;
                    }
                    Ok(())
                }
                _ => stream.write_all(&route.body).await,
            }
        }
    }
}

fn log(state: &Mutex<State>, path: &str, headers: HashMap<String, String>, status: u16) {
    state.lock().unwrap().log.push(LoggedRequest {
        path: path.to_string(),
        headers,
        status,
        generation: 0,
    });
}

async fn write_head(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    length: Option<usize>,
    headers: &[(String, String)],
) -> std::io::Result<()> {
    let mut head =
        format!("HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nConnection: close\r\n");
    if let Some(len) = length {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await
}
