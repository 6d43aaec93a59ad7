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
//! session's memo, where the comparison is most of the work), an itsdangerous signature refused
//! by it (HMAC-SHA1 by default: a 20-byte tag, whose last four bytes take `ct_eq_bytes`' other
//! path), and `SessionId`'s `==` (which no request path uses: a presented session ID is looked
//! up by its SHA-256). Signed cookies and the signed session cookie use `Tag::verifies` with the
//! 32-byte tags of the first two cases.
//!
//! Two more cases run dudect's own design, fixed against random: one forgery (the token, or the
//! signature, wrong in its first byte) against forgeries drawn each sample from 1 024 random ones.
//! They look for any dependence of the time on the forgery's bytes, not only on where it goes
//! wrong. A footprint control draws the fixed token forgery's class from 1 024 copies of it, the
//! way the random ones are drawn: a difference there would come from where the inputs lie, not
//! from what they hold.
//!
//! Two controls run the memo check and then compare the token's masked bytes as a naive `==`
//! written by hand would, stopping at the first difference: one with the forgeries wrong in the
//! token's first and last bytes, one with them wrong in its last two bytes (one byte of early
//! exit apart). The harness must find both leaks, or it proves nothing (one byte apart, the
//! difference has come out in either direction: the forgery wrong later is not always the
//! slower). A null control checks
//! the same forged signature in both classes: the harness must find nothing there.
//!
//! Not part of `.ci/run`: timings on a shared machine are a measurement, not a test.
//!
//! `cargo run --release -p mitten-benches --features timing --example timing` (`SAMPLES=4000000`
//! by default, per case).

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mitten::Keyring;
use mitten::SecretKey;
use mitten::csrf::{Binding, TokenKey, TokenMemo};
use mitten::session::SessionId;
use mitten::sign::Signer;
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
    /// Mean time of one check, in ns, for each class (the forgery wrong earlier, then the one
    /// wrong later; or the fixed forgery, then the random ones).
    mean_ns: [f64; 2],
    /// The standard error of their difference, in ns.
    standard_error: f64,
}

impl Outcome {
    /// The difference of the means, the second class's less the first's, in ns.
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

/// An input at the start of a page of its own. Where an input lies changes how long a check of it
/// takes (which cache sets and pages it uses), and would tell two classes apart that are the same:
/// a first version, whose forgeries were `String`s wherever the allocator put them, found 4 ns
/// between two of them in one process of three; a second, with each forgery on a page of its
/// own, found 1.3 ns between two identical forgeries in one process of six. So each sample now
/// copies its class's input into one page that every sample checks (outside the time taken).
#[repr(align(4096))]
struct Page<T>(T);

/// A token's text, held inline (a `String` would put it on the heap, wherever).
#[derive(Clone)]
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

/// Times `check` on the two inputs in a random interleaving: see [`measure_classes`].
fn measure<I: Clone>(samples: usize, inputs: &[I; 2], check: impl Fn(&I) -> bool) -> Outcome {
    measure_classes(
        samples,
        [
            std::slice::from_ref(&inputs[0]),
            std::slice::from_ref(&inputs[1]),
        ],
        check,
    )
}

/// Times `check` on two classes of inputs in a random interleaving: a warm-up of a hundredth of
/// `samples`, then `samples` samples of [`BATCH`] checks of one input each (one of its class's,
/// drawn at random), each sample on a copy of its input in the same place; the slowest tenth of
/// all samples is dropped. Each input must be refused, or the case would time something else.
fn measure_classes<I: Clone>(
    samples: usize,
    classes: [&[I]; 2],
    check: impl Fn(&I) -> bool,
) -> Outcome {
    for input in classes.iter().flat_map(|class| class.iter()) {
        assert!(!check(input), "a forgery passed its check");
    }
    let mut rng = rand::rng();
    let mut pick = move || {
        let class = rng.random_range(0..2);
        let inputs = classes[class];
        (class, &inputs[rng.random_range(0..inputs.len())])
    };
    let mut place = Box::new(Page(classes[0][0].clone()));
    for _ in 0..samples / 100 {
        // Warm-up: caches, branch predictors, the CPU's clock.
        place.0.clone_from(pick().1);
        black_box(check(black_box(&place.0)));
    }
    let mut timed: Vec<(usize, f64)> = Vec::with_capacity(samples);
    for _ in 0..samples {
        let (class, input) = pick();
        place.0.clone_from(input);
        let input = &place.0;
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(check(black_box(input)));
        }
        timed.push((class, start.elapsed().as_nanos() as f64 / BATCH as f64));
    }
    let mut sorted: Vec<f64> = timed.iter().map(|(_, ns)| *ns).collect();
    sorted.sort_by(f64::total_cmp);
    let cutoff = sorted[sorted.len() * 9 / 10];
    let mut moments = [Moments::default(), Moments::default()];
    for (class, ns) in timed.into_iter().filter(|(_, ns)| *ns <= cutoff) {
        moments[class].add(ns);
    }
    Outcome {
        mean_ns: [moments[0].mean, moments[1].mean],
        standard_error: standard_error(&moments[0], &moments[1]),
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
#[derive(Clone)]
struct ForgedToken {
    text: Text,
    bytes: [u8; 64],
}

/// Two forgeries of a masked CSRF token, the token wrong in byte `wrong[0]` and in byte
/// `wrong[1]`: flipping byte `i` of the masked half flips byte `i` of the unmasked token.
fn forged_tokens(valid: &str, wrong: [usize; 2]) -> [ForgedToken; 2] {
    wrong.map(|at| {
        let mut bytes = decoded(valid);
        bytes[32 + at] ^= 0xff;
        let text = Text::new(&URL_SAFE_NO_PAD.encode(bytes));
        ForgedToken { text, bytes }
    })
}

/// Two forgeries of an itsdangerous token (`value.signature`, the signature base64url): the
/// signature wrong in byte `wrong[0]`, and in byte `wrong[1]` (the same byte twice gives the
/// same forgery twice: a null control).
fn forged_signatures(valid: &str, wrong: [usize; 2]) -> [Text; 2] {
    let (value, signature) = valid.rsplit_once('.').expect("value.signature");
    let tag = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    wrong.map(|at| {
        let mut tag = tag.clone();
        tag[at] ^= 0xff;
        let text = format!("{value}.{}", URL_SAFE_NO_PAD.encode(tag));
        Text::new(&text)
    })
}

/// How many random forgeries a fixed-against-random case draws from.
const RANDOM_FORGERIES: usize = 1024;

/// Forgeries of a masked CSRF token whose 64 bytes are all random.
fn random_tokens() -> Vec<ForgedToken> {
    let mut rng = rand::rng();
    (0..RANDOM_FORGERIES)
        .map(|_| {
            let bytes: [u8; 64] = rng.random();
            let text = Text::new(&URL_SAFE_NO_PAD.encode(bytes));
            ForgedToken { text, bytes }
        })
        .collect()
}

/// Forgeries of an itsdangerous token whose signature is random.
fn random_signatures(valid: &str) -> Vec<Text> {
    let (value, _) = valid.rsplit_once('.').expect("value.signature");
    let mut rng = rand::rng();
    (0..RANDOM_FORGERIES)
        .map(|_| {
            let tag: [u8; 20] = rng.random();
            Text::new(&format!("{value}.{}", URL_SAFE_NO_PAD.encode(tag)))
        })
        .collect()
}

/// Two forgeries of a session ID's cookie value: wrong in its first character, and in its last
/// (which holds the last byte's low four bits and two zero bits: `A` and `E` keep it canonical).
fn forged_ids(valid: &SessionId) -> [SessionId; 2] {
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
    [first_wrong, last_wrong].map(|text| SessionId::parse(&text).expect("a canonical ID"))
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
    let signer = Signer::new(&Keyring::new(SecretKey::generate()), "timing");
    let signed = signer.sign("a value");
    assert_eq!(signer.unsign(&signed), Ok("a value"));
    let signatures = forged_signatures(&signed, [0, 19]);
    let same_signature = forged_signatures(&signed, [0, 0]);
    let id = SessionId::generate();
    let ids = forged_ids(&id);
    let unsign_check = |forged: &Text| signer.unsign(forged.as_str()).is_ok();
    let memo_check = |forged: &ForgedToken| key.verify(forged.text.as_str(), with_memo, None);
    let naive_after_memo_check = |forged: &ForgedToken| {
        // `|`, not `||`: both sides always run.
        memo_check(forged) | stops_at_first_difference(&valid_bytes, &forged.bytes)
    };

    let random_tokens = random_tokens();
    let random_signatures = random_signatures(&signed);
    let token_copies = vec![first_and_last[0].clone(); RANDOM_FORGERIES];

    let cases: [Case<'_>; 10] = [
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
            "itsdangerous signature, SHA-1 (`Tag::verifies`): first vs last byte wrong",
            Box::new(|| measure(samples, &signatures, unsign_check)),
        ),
        (
            "CSRF token, MAC worked out: one forgery (first byte wrong) vs random ones",
            Box::new(|| {
                let fixed = std::slice::from_ref(&first_and_last[0]);
                measure_classes(samples, [fixed, &random_tokens], |forged| {
                    key.verify(forged.text.as_str(), Binding::session(&secret), None)
                })
            }),
        ),
        (
            "itsdangerous signature: one forgery (first byte wrong) vs random ones",
            Box::new(|| {
                let fixed = std::slice::from_ref(&signatures[0]);
                measure_classes(samples, [fixed, &random_signatures], unsign_check)
            }),
        ),
        (
            "footprint control: one forgery vs 1 024 copies of it, as the random ones are drawn",
            Box::new(|| {
                let fixed = std::slice::from_ref(&first_and_last[0]);
                measure_classes(samples, [fixed, &token_copies], |forged| {
                    key.verify(forged.text.as_str(), Binding::session(&secret), None)
                })
            }),
        ),
        (
            "null control: the same forged signature in both classes",
            Box::new(|| measure(samples, &same_signature, unsign_check)),
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
        "| comparison | first class | second class | difference | found half the time at | t | beyond ±{THRESHOLD} |"
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
