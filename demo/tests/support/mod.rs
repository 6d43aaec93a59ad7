//! Helpers shared by the demo's test files.

#![allow(dead_code, clippy::panic)] // Each test file uses part of it; a test fails by panicking.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running demo process, stopped when dropped.
pub(crate) struct Demo {
    child: Child,
    lines: Vec<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// The demo's temporary directory (`TMPDIR`): its scratch directory (certificate, uploads)
    /// goes in here, and this goes when the demo is dropped, however the demo ended.
    temp: PathBuf,
}

impl Demo {
    pub(crate) fn start(args: &[&str]) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let temp = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "demo-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&temp).expect("the demo's temporary directory");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mitten-demo"))
            .args(args)
            .env("RUST_LOG", "warn,mitten_demo=info")
            // Plain `name=value` fields, so that tests can look for `method=CONNECT`.
            .env("NO_COLOR", "1")
            .env("TMPDIR", &temp)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the demo");
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                eprintln!("demo: {line}");
                sink.lock().expect("lock").push(line);
            }
        });
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        loop {
            let line = receive
                .recv_timeout(Duration::from_secs(30))
                .expect("the demo prints `listening on <url>` within 30 s");
            let done = line.starts_with("listening on ");
            lines.push(line);
            if done {
                break;
            }
        }
        Self {
            child,
            lines,
            stderr,
            temp,
        }
    }

    pub(crate) fn value_after(&self, prefix: &str) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {:?}", self.lines));
        line[prefix.len()..]
            .split_whitespace()
            .next()
            .expect("value")
            .to_owned()
    }

    pub(crate) fn url(&self) -> String {
        self.value_after("listening on ")
    }

    /// Whether the demo logged a line containing `needle` (on stderr).
    pub(crate) fn logged(&self, needle: &str) -> bool {
        self.stderr
            .lock()
            .expect("lock")
            .iter()
            .any(|line| line.contains(needle))
    }

    /// How many lines the demo logged (on stderr) containing every one of `needles`.
    pub(crate) fn count_logged(&self, needles: &[&str]) -> usize {
        self.stderr
            .lock()
            .expect("lock")
            .iter()
            .filter(|line| needles.iter().all(|needle| line.contains(needle)))
            .count()
    }

    /// Waits up to 5 s (stderr is read by a thread, behind the demo) until the demo has logged
    /// more than `before` lines containing every one of `needles`; returns how many it has.
    pub(crate) async fn wait_logged(&self, needles: &[&str], before: usize) -> usize {
        for _ in 0..50 {
            let count = self.count_logged(needles);
            if count > before {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.count_logged(needles)
    }

    pub(crate) fn cert_pem(&self) -> Vec<u8> {
        let line = self
            .lines
            .iter()
            .find(|l| l.contains("written to "))
            .expect("certificate line");
        let path = line.rsplit("written to ").next().expect("path");
        std::fs::read(path).expect("read the certificate")
    }

    /// Sends SIGTERM and waits for a clean exit, keeping the test's runtime free so that open
    /// client connections can take part in the graceful shutdown. A demo that stops this way
    /// has removed its scratch directory.
    pub(crate) async fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let scratch = self.temp.join(format!("mitten-demo-{}", self.child.id()));
                assert!(
                    !scratch.exists(),
                    "the demo leaves its scratch directory {} behind",
                    scratch.display()
                );
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the demo did not stop within 5 s of SIGTERM");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}
