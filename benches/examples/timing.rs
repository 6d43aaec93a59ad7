//! Does checking a forgery take longer the more of it is right?
//!
//! A timing test in the manner of dudect (Reparaz, Balasch and Verbauwhede, "Dude, is my code
//! constant time?", DATE 2017). Each case checks two forgeries of one secret value, one wrong in
//! its first byte and one wrong in its last, in a random order that only the harness knows, and
//! times each check. Welch's t-test then compares the two distributions of times, after dropping
//! the slowest tenth of all the samples (interrupts and migrations, which land on either class).
//! A comparison that stops at the first wrong byte takes longer on the second forgery: its `|t|`
//! grows with the number of samples, past dudect's threshold of 4.5. A constant-time comparison
//! gives a `|t|` that stays small however many samples are taken.
//!
//! The cases are the three comparisons a forged token, signature or cookie meets in Mitten:
//! `Tag::verifies` behind a CSRF token check (here with the MAC worked out, then with the
//! session's memo, where the compare is most of the work), and `SessionId`'s `==`. Signatures
//! and signed cookies go through the same `Tag::verifies`. The control runs the same memo check,
//! then compares the same bytes as a naive `==` written by hand would (a loop that stops at the
//! first difference): the harness must find that leak, or it proves nothing.
//!
//! Not part of `.ci/run`: timings on a shared machine are a measurement, not a test.
//!
//! `cargo run --release -p mitten-benches --example timing` (`SAMPLES=4000000` by default, per
//! case).

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mitten::SecretKey;
use mitten::csrf::{Binding, TokenKey, TokenMemo};
use mitten::session::SessionId;
use rand::Rng as _;

/// Checks timed together in one sample: enough to lift a sample well above the clock's
/// resolution and its own cost.
const BATCH: usize = 8;

/// A case: its name, and what runs it.
type Case<'a> = (&'static str, Box<dyn Fn() -> Outcome + 'a>);

/// dudect's threshold: a `|t|` above it says the two classes take different times.
const THRESHOLD: f64 = 4.5;

/// Running mean and variance of one class's samples (Welford's method).
#[derive(Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.n += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (x - self.mean);
    }

    fn variance(&self) -> f64 {
        self.m2 / (self.n - 1.0)
    }
}

/// The standard error of the difference of two classes' means (Welch's t is the difference
/// over it).
fn standard_error(a: &Moments, b: &Moments) -> f64 {
    (a.variance() / a.n + b.variance() / b.n).sqrt()
}

/// What one case measured.
struct Outcome {
    /// Mean time of one check, in ns, for the forgery wrong in its first and in its last byte.
    mean_ns: [f64; 2],
    /// The standard error of their difference, in ns.
    standard_error: f64,
}

impl Outcome {
    /// The difference of the means, last byte wrong less first byte wrong, in ns.
    fn difference(&self) -> f64 {
        self.mean_ns[1] - self.mean_ns[0]
    }

    /// Welch's t statistic.
    fn t(&self) -> f64 {
        self.difference() / self.standard_error
    }

    /// The smallest difference this many samples could have told from none (at [`THRESHOLD`]).
    fn resolution(&self) -> f64 {
        THRESHOLD * self.standard_error
    }
}

/// One input alone at the start of a page of its own. The two inputs of a case then lie at the
/// same offsets in memory, so that where they lie cannot tell them apart: a first version, whose
/// two tokens were `String`s wherever the allocator put them, found a 4 ns difference between
/// them in one process out of three, and none in the others.
#[repr(align(4096))]
struct Page<T>(T);

/// A token's text, held inline (a `String` would put it on the heap, wherever).
struct Text {
    bytes: [u8; 128],
    len: usize,
}

impl Text {
    fn new(text: &str) -> Self {
        let mut bytes = [0u8; 128];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Self {
            bytes,
            len: text.len(),
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// Times `check` on the two inputs in a random interleaving, `samples` times.
fn measure<I>(samples: usize, inputs: &[Box<Page<I>>; 2], check: impl Fn(&I) -> bool) -> Outcome {
    let mut rng = rand::rng();
    for _ in 0..samples / 100 {
        // Warm-up: caches, branch predictors, the CPU's clock.
        black_box(check(black_box(&inputs[rng.random_range(0..2)].0)));
    }
    let mut timed: Vec<(usize, f64)> = Vec::with_capacity(samples);
    for _ in 0..samples {
        let class = rng.random_range(0..2);
        let input = &inputs[class].0;
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(check(black_box(input)));
        }
        timed.push((class, start.elapsed().as_nanos() as f64 / BATCH as f64));
    }
    let mut sorted: Vec<f64> = timed.iter().map(|(_, ns)| *ns).collect();
    sorted.sort_by(f64::total_cmp);
    let cutoff = sorted[sorted.len() * 9 / 10];
    let mut classes = [Moments::default(), Moments::default()];
    for (class, ns) in timed.into_iter().filter(|(_, ns)| *ns <= cutoff) {
        classes[class].add(ns);
    }
    Outcome {
        mean_ns: [classes[0].mean, classes[1].mean],
        standard_error: standard_error(&classes[0], &classes[1]),
    }
}

/// `bytes` with the bits of byte `at` flipped.
fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0xff;
    out
}

/// Two forgeries of a masked CSRF token (`pad ‖ pad XOR token`, base64url): the token wrong in
/// its first byte, and in its last.
fn forged_tokens(valid: &str) -> [String; 2] {
    let decoded = URL_SAFE_NO_PAD
        .decode(valid)
        .expect("a rendered token is base64url");
    let half = decoded.len() / 2;
    [half, decoded.len() - 1].map(|at| URL_SAFE_NO_PAD.encode(flipped(&decoded, at)))
}

/// Two forgeries of a session ID's cookie value: wrong in its first character, and in its last
/// (one that keeps the 32 bytes canonical).
fn forged_ids(valid: &SessionId) -> [SessionId; 2] {
    let text = valid.as_cookie_value();
    let swap = |c: char| if c == 'A' { 'E' } else { 'A' };
    let first: String = std::iter::once(swap(text.chars().next().unwrap_or('A')))
        .chain(text.chars().skip(1))
        .collect();
    // The last character holds the last byte's low four bits and two zero bits.
    let last_char = text.chars().last().unwrap_or('A');
    let last = format!(
        "{}{}",
        &text[..text.len() - 1],
        if last_char == 'A' { 'E' } else { 'A' }
    );
    [first, last].map(|t| SessionId::parse(&t).expect("a canonical ID"))
}

/// The naive comparison of the control: what `tag.as_bytes() == given` would do on a platform
/// whose `memcmp` stops at the first difference.
fn stops_at_first_difference(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| black_box(*x) == *y)
}

fn main() {
    let samples: usize = std::env::var("SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4_000_000);
    let key = TokenKey::new(&SecretKey::generate());
    let secret = [7u8; 32];
    let memo = TokenMemo::default();
    let with_memo = Binding::Session {
        secret: &secret,
        memo: Some(&memo),
    };
    let valid = key.render(with_memo, None);
    let decoded_valid = URL_SAFE_NO_PAD.decode(&valid).expect("base64url");
    let forged = forged_tokens(&valid);
    let tokens = forged
        .clone()
        .map(|token| Box::new(Page(Text::new(&token))));
    let with_bytes = forged.map(|token| {
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(&URL_SAFE_NO_PAD.decode(&token).expect("base64url"));
        Box::new(Page((Text::new(&token), bytes)))
    });
    let id = SessionId::generate();
    let ids = forged_ids(&id).map(|forged| Box::new(Page(forged)));

    let cases: [Case<'_>; 4] = [
        (
            "CSRF token, MAC worked out (`Tag::verifies`)",
            Box::new(|| {
                measure(samples, &tokens, |t| {
                    key.verify(t.as_str(), Binding::session(&secret), None)
                })
            }),
        ),
        (
            "CSRF token, from the session's memo (`Tag::verifies`)",
            Box::new(|| {
                measure(samples, &tokens, |t| {
                    key.verify(t.as_str(), with_memo, None)
                })
            }),
        ),
        (
            "session ID (`SessionId == SessionId`)",
            Box::new(|| measure(samples, &ids, |forged| *forged == id)),
        ),
        (
            "control: the memo check, then a compare that stops at the first difference",
            Box::new(|| {
                measure(samples, &with_bytes, |(token, bytes)| {
                    key.verify(token.as_str(), with_memo, None)
                        | stops_at_first_difference(&decoded_valid, bytes)
                })
            }),
        ),
    ];
    println!("{samples} samples per case, {BATCH} checks each, the slowest tenth dropped.");
    println!();
    println!(
        "| comparison | first byte wrong | last byte wrong | difference | smallest difference resolved | t | beyond ±{THRESHOLD} |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, run) in cases {
        let outcome = run();
        let verdict = if outcome.t().abs() > THRESHOLD {
            "yes"
        } else {
            "no"
        };
        println!(
            "| {name} | {:.2} ns | {:.2} ns | {:+.4} ns | {:.4} ns | {:+.2} | {verdict} |",
            outcome.mean_ns[0],
            outcome.mean_ns[1],
            outcome.difference(),
            outcome.resolution(),
            outcome.t()
        );
    }
}
