//! Starts the real SMTP server of `tests/smtp_sink.py` (aiosmtpd, installed by `.ci/test.sh`)
//! on a free 127.0.0.1 port, and reads the Maildir it writes. A missing aiosmtpd fails the
//! test with the command that installs it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct SmtpSink {
    pub port: u16,
    pub root: tempfile::TempDir,
    child: Child,
}

/// The Python the tests run: `TIDINGS_TEST_PYTHON` (set by `.ci/test.sh`), else the venv it makes.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("TIDINGS_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/.venv-smtp/bin/python")
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let python = python();
        assert!(
            python.exists(),
            "no Python with aiosmtpd at {} (set TIDINGS_TEST_PYTHON, or run `bash .ci/test.sh`, which installs it)",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .arg(root.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is aiosmtpd installed for {}?)",
            python.display()
        );
        SmtpSink { port, root, child }
    }

    /// While refusing, every recipient gets 451 (try again later).
    pub fn refuse(&self, on: bool) {
        let flag = self.root.path().join("REFUSE");
        if on {
            std::fs::write(flag, "").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// The raw messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let dir = self.root.path().join("inbox/new");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
