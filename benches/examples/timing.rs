//! Does checking a forgery take longer the more of it is right?
//!
//! A timing test in the manner of dudect (Reparaz, Balasch and Verbauwhede, "Dude, is my code
//! constant time?", DATE 2017). Each case checks two forgeries of one secret value, one wrong in
//! an earlier byte than the other, in a random order that only the harness knows, and times each
//! check. Welch's t-test then compares the two distributions of times, after dropping the
//! slowest tenth of all the samples (interrupts and migrations, which land on either class). A
//! comparison that stops at the first wrong byte takes longer on the forgery wrong later: its
//! `|t|` grows with the number of samples, past the threshold of 4.5 that the dudect paper takes
//! from TVLA. A comparison whose time does not depend on where the forgery goes wrong shows no
//! such growth; any other difference between the two inputs still can (their texts differ in
//! two places, which base64 decoding sees).
//!
//! The cases: a CSRF token refused by `Tag::verifies` (with the MAC worked out, then from the
//! session's memo, where the comparison is most of the work), and `SessionId`'s `==` (which no
//! request path uses: a presented session ID is looked up by its SHA-256). Signatures and signed
//! cookies go through `Tag::verifies` too, with tags of other lengths; they are not timed here.
//! Two controls run the memo check and then compare the token's masked bytes as a naive `==`
//! written by hand would, stopping at the first difference: one with the forgeries wrong in the
//! token's first and last bytes, one with them wrong in its last two bytes (one byte of early
//! exit apart). The harness must find both leaks, or it proves nothing.
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

/// The `|t|` above which the two classes take different times (TVLA's threshold, which the
/// dudect paper uses).
const THRESHOLD: f64 = 4.5;

/// A case: its name, and what runs it.
type Case<'a> = (&'static str, Box<dyn Fn() -> Outcome + 'a>);

/// Running mean and variance of one class's samples (Welford's method).
#[derive(Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Takes one sample in.
    fn add(&mut self, x: f64) {
        self.n += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (x - self.mean);
    }

    /// The samples' variance.
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
    /// Mean time of one check, in ns, for the forgery wrong earlier and the one wrong later.
    mean_ns: [f64; 2],
    /// The standard error of their difference, in ns.
    standard_error: f64,
}

impl Outcome {
    /// The difference of the means, the forgery wrong later less the one wrong earlier, in ns.
    fn difference(&self) -> f64 {
        self.mean_ns[1] - self.mean_ns[0]
    }

    /// Welch's t statistic.
    fn t(&self) -> f64 {
        self.difference() / self.standard_error
    }

    /// A true difference this large gives an expected `|t|` of [`THRESHOLD`]: this many samples
    /// find it about half the time, and a larger one more often.
    fn detected_half_the_time(&self) -> f64 {
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
        std::str::from_utf8(&self.bytes[..self.len]).expect("made from a str")
    }
}

/// Times `check` on the two inputs in a random interleaving: a warm-up of a hundredth of
/// `samples`, then `samples` samples of [`BATCH`] checks of one input each; the slowest tenth of
/// all samples is dropped. Each input must be refused, or the case would time something else.
fn measure<I>(samples: usize, inputs: &[Box<Page<I>>; 2], check: impl Fn(&I) -> bool) -> Outcome {
    for input in inputs {
        assert!(!check(&input.0), "a forgery passed its check");
    }
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

/// A masked CSRF token (`pad ‖ pad XOR token`, base64url) decoded.
fn decoded(token: &str) -> [u8; 64] {
    let bytes = URL_SAFE_NO_PAD.decode(token).expect("a token is base64url");
    bytes
        .try_into()
        .expect("a token's pad and masked token are 64 bytes")
}

/// A forged CSRF token: its text, and its bytes decoded (for the controls' comparison).
struct ForgedToken {
    text: Text,
    bytes: [u8; 64],
}

/// Two forgeries of a masked CSRF token, the token wrong in byte `wrong[0]` and in byte
/// `wrong[1]`: flipping byte `i` of the masked half flips byte `i` of the unmasked token.
fn forged_tokens(valid: &str, wrong: [usize; 2]) -> [Box<Page<ForgedToken>>; 2] {
    wrong.map(|at| {
        let mut bytes = decoded(valid);
        bytes[32 + at] ^= 0xff;
        let text = Text::new(&URL_SAFE_NO_PAD.encode(bytes));
        Box::new(Page(ForgedToken { text, bytes }))
    })
}

/// Two forgeries of a session ID's cookie value: wrong in its first character, and in its last
/// (which holds the last byte's low four bits and two zero bits: `A` and `E` keep it canonical).
fn forged_ids(valid: &SessionId) -> [Box<Page<SessionId>>; 2] {
    let text = valid.as_cookie_value();
    let swap = |c: char| if c == 'A' { 'E' } else { 'A' };
    let (first, rest) = text.split_at(1);
    let (most, last) = text.split_at(text.len() - 1);
    let first_wrong = format!(
        "{}{rest}",
        swap(first.chars().next().expect("43 characters"))
    );
    let last_wrong = format!(
        "{most}{}",
        swap(last.chars().next().expect("43 characters"))
    );
    [first_wrong, last_wrong]
        .map(|text| Box::new(Page(SessionId::parse(&text).expect("a canonical ID"))))
}

/// The controls' comparison: a naive `==` written by hand, which stops at the first difference.
fn stops_at_first_difference(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| black_box(*x) == *y)
}

/// How many samples a case takes: `SAMPLES`, else 4 000 000.
fn samples() -> usize {
    match std::env::var("SAMPLES") {
        Err(_) => 4_000_000,
        Ok(text) => match text.parse::<usize>() {
            Ok(n) if n >= 100 => n,
            _ => {
                eprintln!("SAMPLES must be a number of at least 100, not {text:?}");
                std::process::exit(2);
            }
        },
    }
}

fn main() {
    let samples = samples();
    let key = TokenKey::new(&SecretKey::generate());
    let secret = [7u8; 32];
    let memo = TokenMemo::default();
    let with_memo = Binding::Session {
        secret: &secret,
        memo: Some(&memo),
    };
    let valid = key.render(with_memo, None);
    // The forgeries below differ from a token that passes both checks timed.
    assert!(key.verify(&valid, with_memo, None));
    assert!(key.verify(&valid, Binding::session(&secret), None));
    let valid_bytes = decoded(&valid);
    let first_and_last = forged_tokens(&valid, [0, 31]);
    let last_two = forged_tokens(&valid, [30, 31]);
    let id = SessionId::generate();
    let ids = forged_ids(&id);
    let memo_check = |forged: &ForgedToken| key.verify(forged.text.as_str(), with_memo, None);
    let naive_after_memo_check = |forged: &ForgedToken| {
        // `|`, not `||`: both sides always run.
        memo_check(forged) | stops_at_first_difference(&valid_bytes, &forged.bytes)
    };

    let cases: [Case<'_>; 5] = [
        (
            "CSRF token, MAC worked out (`Tag::verifies`): first vs last byte wrong",
            Box::new(|| {
                measure(samples, &first_and_last, |forged| {
                    key.verify(forged.text.as_str(), Binding::session(&secret), None)
                })
            }),
        ),
        (
            "CSRF token, from the session's memo (`Tag::verifies`): first vs last byte wrong",
            Box::new(|| measure(samples, &first_and_last, memo_check)),
        ),
        (
            "`SessionId == SessionId`: first vs last character wrong",
            Box::new(|| measure(samples, &ids, |forged| *forged == id)),
        ),
        (
            "control: the memo check, then a compare that stops early: first vs last byte wrong",
            Box::new(|| measure(samples, &first_and_last, naive_after_memo_check)),
        ),
        (
            "control: the same, the last two bytes wrong (one byte of early exit apart)",
            Box::new(|| measure(samples, &last_two, naive_after_memo_check)),
        ),
    ];
    println!("{samples} samples per case, {BATCH} checks each, the slowest tenth dropped.");
    println!();
    println!(
        "| comparison | wrong earlier | wrong later | difference | found half the time at | t | beyond ±{THRESHOLD} |"
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
            outcome.detected_half_the_time(),
            outcome.t()
        );
    }
}
