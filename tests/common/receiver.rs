//! A webhook receiver on 127.0.0.1: verifies both signatures (Standard Webhooks and GitHub's)
//! of every POST, records it, and answers as told: 200, an error status, 429 with
//! Retry-After, 410, or never.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the receiver answers the next POSTs.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// Accept the connection and never answer.
    Hang,
}

/// One POST as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub webhook_id: String,
    pub body: serde_json::Value,
    pub standard_signature_ok: bool,
    pub github_signature_ok: bool,
    pub at: Instant,
    pub answered: u16,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    replies: Arc<Mutex<Vec<Reply>>>,
}

impl Receiver {
    /// Starts on a free port; `secret` is what the webhook is configured with (`whsec_…` or raw).
    pub fn start(secret: &str) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let replies: Arc<Mutex<Vec<Reply>>> = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let (rec, rep, secret) = (received.clone(), replies.clone(), secret.to_string());
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
                    let Ok((mut stream, _)) = listener.accept().await else { continue };
                    let (rec, rep, secret) = (rec.clone(), rep.clone(), secret.clone());
                    tokio::spawn(async move {
                        let Some((headers, body)) = read_request(&mut stream).await else { return };
                        // Replies are consumed in order; the last one repeats.
                        let reply = {
                            let mut r = rep.lock().unwrap();
                            if r.len() > 1 { r.remove(0) } else { r.first().cloned().unwrap_or(Reply::Status(200)) }
                        };
                        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
                        let id = header("webhook-id");
                        let record = Received {
                            standard_signature_ok: tidings::notify::signature::verify_standard(
                                &secret,
                                &id,
                                &header("webhook-timestamp"),
                                &body,
                                &header("webhook-signature"),
                            ),
                            github_signature_ok: tidings::notify::signature::verify_github(&secret, &body, &header("x-hub-signature-256")),
                            webhook_id: id,
                            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                            at: Instant::now(),
                            answered: match &reply {
                                Reply::Status(s) => *s,
                                Reply::TooManyRequests { .. } => 429,
                                Reply::Hang => 0,
                            },
                        };
                        rec.lock().unwrap().push(record);
                        let response = match reply {
                            Reply::Status(s) => format!("HTTP/1.1 {s} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                            Reply::TooManyRequests { retry_after_secs } => format!(
                                "HTTP/1.1 429 X\r\nRetry-After: {retry_after_secs}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            ),
                            Reply::Hang => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                        };
                        let _ = stream.write_all(response.as_bytes()).await;
                    });
                }
            });
        });
        Receiver {
            addr: rx.recv().unwrap(),
            received,
            replies,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Sets the replies for the next POSTs, in order (the last one repeats).
    pub fn reply(&self, replies: Vec<Reply>) {
        *self.replies.lock().unwrap() = replies;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` POSTs arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n} POSTs: {got:#?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn read_request(
    stream: &mut tokio::net::TcpStream,
) -> Option<(Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((headers, body))
}
