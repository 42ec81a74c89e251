//! Headless Chromium driven over the DevTools protocol, for the web page tests: navigate, read
//! the DOM, click (a real form POST by the browser), fill a field, take screenshots.
//!
//! Chromium is Debian's package (`/usr/bin/chromium`, or `TIDINGS_TEST_CHROMIUM`); `.ci/test.sh`
//! installs it. Missing, the tests fail naming it. The protocol runs over a pipe
//! (`--remote-debugging-pipe`: the browser reads commands on fd 3 and writes answers on fd 4,
//! each a JSON message ended by a NUL byte), so no port and no WebSocket client are needed.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// How long one protocol call or page load may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The Chromium binary; panics (naming the package) when it is missing.
pub fn chromium_path() -> PathBuf {
    let path = std::env::var_os("TIDINGS_TEST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is missing at {} (CI: {}): these tests need Debian's `chromium` package; \
         `bash .ci/test.sh` installs it, or run `apt-get install chromium`",
        path.display(),
        std::env::var("CI").unwrap_or_else(|_| "not set".into())
    );
    path
}

pub struct Browser {
    child: Child,
    commands: std::fs::File,
    answers: Receiver<Value>,
    /// Events received while waiting for an answer.
    events: VecDeque<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts headless Chromium with a fresh profile and opens one tab.
    pub fn launch() -> Browser {
        let binary = chromium_path();
        let profile = tempfile::tempdir().unwrap();
        let (to_chrome_read, to_chrome_write) = std::io::pipe().unwrap();
        let (from_chrome_read, from_chrome_write) = std::io::pipe().unwrap();
        let child_in: OwnedFd = to_chrome_read.into();
        let child_out: OwnedFd = from_chrome_write.into();
        let (fd_in, fd_out) = (child_in.as_raw_fd(), child_out.as_raw_fd());
        let mut cmd = Command::new(binary);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2). The two
        // pipe ends are first copied above fd 10, so moving them to 3 and 4 cannot clobber
        // one another; dup2 clears close-on-exec on the copies the browser keeps.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(fd_in, libc::F_DUPFD, 10);
                let b = libc::fcntl(fd_out, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop(child_in);
        drop(child_out);
        let (tx, answers) = channel();
        let mut reader = std::fs::File::from(OwnedFd::from(from_chrome_read));
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let message: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice(&message[..message.len() - 1])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            commands: std::fs::File::from(OwnedFd::from(to_chrome_write)),
            answers,
            events: VecDeque::new(),
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        browser.page_call("Page.enable", json!({}));
        browser.page_call("Runtime.enable", json!({}));
        browser
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> u64 {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if session {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to chromium");
        self.next_id
    }

    fn wait_answer(&mut self, id: u64, method: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.answers.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) => {
                    if let Some(e) = v.get("error") {
                        panic!("chromium: {method} failed: {e}");
                    }
                    return v["result"].clone();
                }
                Ok(v) => self.events.push_back(v),
                Err(RecvTimeoutError::Timeout) => panic!("chromium: no answer to {method}"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium exited during {method}"),
            }
        }
    }

    /// A browser-level protocol call.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, false);
        self.wait_answer(id, method)
    }

    /// A call to the tab.
    pub fn page_call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, true);
        self.wait_answer(id, method)
    }

    /// Waits for the tab's next `load` event (after the events seen so far were dropped).
    fn wait_load(&mut self, what: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(e) = self.events.pop_front() {
                if e["method"] == "Page.loadEventFired" {
                    return;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.answers.recv_timeout(left) {
                Ok(v) => self.events.push_back(v),
                Err(_) => panic!("chromium: {what} never finished loading"),
            }
        }
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn goto(&mut self, url: &str) {
        self.events.clear();
        let result = self.page_call("Page.navigate", json!({"url": url}));
        if let Some(e) = result.get("errorText") {
            panic!("chromium: cannot open {url}: {e}");
        }
        self.wait_load(url);
    }

    /// Evaluates a JavaScript expression in the page (by the DevTools protocol, not by the
    /// page: the page's own policy runs no script) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.page_call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("chromium: `{expression}` threw: {e}");
        }
        result["result"]["value"].clone()
    }

    /// The page's DOM as HTML.
    pub fn html(&mut self) -> String {
        self.eval("document.documentElement.outerHTML")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The address the tab shows now.
    pub fn location(&mut self) -> String {
        self.eval("location.href").as_str().unwrap().to_string()
    }

    /// The HTTP status of the page shown now.
    pub fn status(&mut self) -> u64 {
        self.eval("performance.getEntriesByType('navigation')[0].responseStatus")
            .as_u64()
            .unwrap_or(0)
    }

    /// Clicks the first element `selector` finds (a form's button: the browser sends the
    /// form) and waits for the page that answers.
    pub fn click_and_wait(&mut self, selector: &str) {
        self.events.clear();
        let found = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
            serde_json::to_string(selector).unwrap()
        ));
        assert_eq!(found, json!(true), "nothing on the page matches {selector}");
        self.wait_load(selector);
    }

    /// Emulates a screen `width` CSS pixels wide, light or dark.
    pub fn emulate(&mut self, width: u32, height: u32, mobile: bool, dark: bool) {
        self.page_call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        self.page_call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": if dark { "dark" } else { "light" }}]}),
        );
    }

    /// A PNG of the page shown now, `height` pixels at most, written to `path`.
    pub fn screenshot(&mut self, path: &Path, width: u32, max_height: u32) {
        let height = self
            .eval("document.documentElement.scrollHeight")
            .as_u64()
            .unwrap_or(u64::from(max_height))
            .min(u64::from(max_height));
        let shot = self.page_call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.send("Browser.close", json!({}), false);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
