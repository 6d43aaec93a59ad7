//! Tier 2: tokens bound to the session (or a secret cookie), masked per render.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use zeroize::Zeroize as _;

use super::memo::{KeyId, TokenMemo};
use crate::keys::SecretKey;
use crate::mac::{KeyedHmac, Tag, ct_eq_bytes};

const TOKEN_BYTES: usize = 32;
/// A one-time token: 16-byte nonce, 8-byte issue time, 32-byte MAC.
const ONCE_BYTES: usize = 16 + 8 + 32;

/// What a token is bound to: a token made for one binding never verifies for another
/// (cookie tossing and token fixation defeated). Prints without its secret.
#[derive(Clone, Copy)]
pub enum Binding<'a> {
    /// The session's binding secret: it rotates with `regenerate()` and dies with `destroy()`.
    /// `memo`, kept beside the secret, spares the MAC on the session's later requests (a
    /// [`BindingSecret`](crate::session::BindingSecret) carries one).
    Session {
        /// The secret.
        secret: &'a [u8; 32],
        /// Where the session's unmasked token is remembered, if anywhere.
        memo: Option<&'a TokenMemo>,
    },
    /// The random secret of the `__Host-` CSRF cookie (no session).
    Cookie(&'a [u8; 32]),
}

impl<'a> Binding<'a> {
    /// A session's `secret`, with nowhere to remember its token.
    pub fn session(secret: &'a [u8; 32]) -> Self {
        Self::Session { secret, memo: None }
    }

    fn label_and_bytes(&self) -> (&'static [u8], &'a [u8; 32]) {
        match *self {
            Self::Session { secret, .. } => (b"session", secret),
            Self::Cookie(bytes) => (b"cookie", bytes),
        }
    }
}

impl std::fmt::Debug for Binding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Session { .. } => "Binding::Session(<redacted>)",
            Self::Cookie(_) => "Binding::Cookie(<redacted>)",
        })
    }
}

/// The CSRF token key: derived from the app key for this purpose only.
#[derive(Debug, Clone)]
pub struct TokenKey {
    key: KeyedHmac,
    /// Which key a [`TokenMemo`] was filled with.
    id: KeyId,
}

impl TokenKey {
    /// Derives the token key from the application key (purpose `csrf-token`).
    pub fn new(app_key: &SecretKey) -> Self {
        Self {
            key: KeyedHmac::new(&app_key.derive("csrf-token")),
            id: KeyId::next(),
        }
    }

    /// The unmasked token of a binding (and, optionally, a user): an HMAC, never a bare random
    /// value compared with a cookie.
    fn token(&self, binding: Binding<'_>, user: Option<&str>) -> Tag {
        let (label, bytes) = binding.label_and_bytes();
        let work_out = || {
            let user = user.unwrap_or_default().as_bytes();
            self.key.mac(&[b"bound/", label, b"/", bytes, b"/", user])
        };
        match binding {
            Binding::Session {
                memo: Some(memo), ..
            } => memo.token(self.id, bytes, user, work_out),
            _ => work_out(),
        }
    }

    /// A masked token for one render: a fresh random pad, then pad XOR token, base64url. Two
    /// renders differ (so compressed responses do not leak it: BREACH) and both verify.
    pub fn render(&self, binding: Binding<'_>, user: Option<&str>) -> String {
        mask(self.token(binding, user).as_bytes())
    }

    /// Whether `masked` is a token of this binding. Lengths are checked first, then the bytes are
    /// compared in constant time.
    pub fn verify(&self, masked: &str, binding: Binding<'_>, user: Option<&str>) -> bool {
        let Some(unmasked) = unmask(masked) else {
            return false;
        };
        unmasked.len() == TOKEN_BYTES && self.token(binding, user).verifies(&unmasked)
    }

    /// A one-time token that expires (flask-xsrf's per-request tokens), masked; bound to `user`
    /// too when one is given, as flask-xsrf binds its tokens to the user.
    pub fn render_once(&self, binding: Binding<'_>, user: Option<&str>, now: u64) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let mut token = [0u8; ONCE_BYTES];
        token[..16].copy_from_slice(&nonce);
        token[16..24].copy_from_slice(&now.to_be_bytes());
        token[24..].copy_from_slice(self.once_mac(binding, user, &nonce, now).as_bytes());
        let masked = mask(&token);
        token.zeroize();
        masked
    }

    /// Checks a one-time token: binding, user, MAC and age. Returns its nonce, which the caller
    /// must record as used (and refuse if it already was).
    pub fn verify_once(
        &self,
        masked: &str,
        binding: Binding<'_>,
        user: Option<&str>,
        now: u64,
        max_age: u64,
    ) -> Option<[u8; 16]> {
        let token = unmask(masked)?;
        if token.len() != ONCE_BYTES {
            return None;
        }
        let nonce: [u8; 16] = token[..16].try_into().ok()?;
        let issued = u64::from_be_bytes(token[16..24].try_into().ok()?);
        let mac_ok = self
            .once_mac(binding, user, &nonce, issued)
            .verifies(&token[24..]);
        let fresh = issued <= now && now - issued <= max_age;
        (mac_ok && fresh).then_some(nonce)
    }

    /// The MAC of a one-time token. The parts before the user cannot run into it: the two labels
    /// differ at their first byte and all that follows them has a fixed length, so the user comes
    /// last, as in the per-session token. As there, no user and an empty user ID are the same.
    fn once_mac(
        &self,
        binding: Binding<'_>,
        user: Option<&str>,
        nonce: &[u8; 16],
        issued: u64,
    ) -> Tag {
        let (label, bytes) = binding.label_and_bytes();
        self.key.mac(&[
            b"once/",
            label,
            b"/",
            bytes,
            b"/",
            nonce,
            &issued.to_be_bytes(),
            user.unwrap_or_default().as_bytes(),
        ])
    }
}

/// `pad ‖ pad XOR token` in base64url, `pad` fresh from the CSPRNG. Built on the stack: the
/// returned text is the only allocation.
fn mask(token: &[u8]) -> String {
    let len = token.len().min(ONCE_BYTES);
    let mut buffer = [0u8; 2 * ONCE_BYTES];
    let (pad, masked) = buffer.split_at_mut(len);
    rand::rng().fill_bytes(pad);
    for ((m, p), t) in masked.iter_mut().zip(pad.iter()).zip(token) {
        *m = p ^ t;
    }
    URL_SAFE_NO_PAD.encode(&buffer[..2 * len])
}

/// A token with its mask removed (at most a one-time token's bytes).
struct Unmasked {
    bytes: [u8; ONCE_BYTES],
    len: usize,
}

impl Drop for Unmasked {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::ops::Deref for Unmasked {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn unmask(masked: &str) -> Option<Unmasked> {
    // At most a one-time token's length: refuse anything longer before decoding it.
    if masked.len() > 2 * ONCE_BYTES * 4 / 3 + 4 {
        return None;
    }
    // Room for the decoder's estimate of the longest input accepted above.
    let mut decoded = [0u8; 2 * ONCE_BYTES + 8];
    let len = URL_SAFE_NO_PAD.decode_slice(masked, &mut decoded).ok()?;
    if len == 0 || len % 2 != 0 || len / 2 > ONCE_BYTES {
        return None;
    }
    let (pad, masked) = decoded[..len].split_at(len / 2);
    let mut unmasked = Unmasked {
        bytes: [0u8; ONCE_BYTES],
        len: len / 2,
    };
    for ((u, p), m) in unmasked.bytes.iter_mut().zip(pad).zip(masked) {
        *u = p ^ m;
    }
    decoded.zeroize();
    Some(unmasked)
}

/// The random secret kept in the `__Host-` CSRF cookie when there is no session.
#[derive(Clone)]
pub struct CookieSecret([u8; 32]);

/// Compared in constant time, as every secret is.
impl PartialEq for CookieSecret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq_bytes(&self.0, &other.0)
    }
}

impl Eq for CookieSecret {}

impl CookieSecret {
    /// A fresh secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret in a cookie, if it has the exact shape Mitten makes.
    pub fn parse(text: &str) -> Option<Self> {
        // 43 characters are 32 bytes; the decoder wants room for its estimate (33).
        if text.len() != 43 {
            return None;
        }
        let mut bytes = [0u8; 36];
        let len = URL_SAFE_NO_PAD.decode_slice(text, &mut bytes).ok()?;
        let secret = (len == 32).then(|| {
            let mut secret = Self([0u8; 32]);
            secret.0.copy_from_slice(&bytes[..32]);
            secret
        });
        bytes.zeroize();
        secret
    }

    /// The cookie value.
    pub fn to_cookie_value(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The binding it gives tokens.
    pub fn binding(&self) -> Binding<'_> {
        Binding::Cookie(&self.0)
    }
}

impl Drop for CookieSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for CookieSecret {}

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new(&SecretKey::generate())
    }

    #[test]
    fn breach_two_renders_differ_and_both_verify() {
        let key = key();
        let secret = CookieSecret::generate();
        let a = key.render(secret.binding(), None);
        let b = key.render(secret.binding(), None);
        assert_ne!(a, b);
        assert!(key.verify(&a, secret.binding(), None));
        assert!(key.verify(&b, secret.binding(), None));
    }

    #[test]
    fn cookie_tossing_a_token_for_one_binding_fails_for_another() {
        let key = key();
        let (mine, theirs) = (CookieSecret::generate(), CookieSecret::generate());
        let token = key.render(theirs.binding(), None);
        assert!(!key.verify(&token, mine.binding(), None));
        let session = [7u8; 32];
        assert!(!key.verify(&token, Binding::session(&session), None));
        assert!(
            !key.verify(
                &key.render(Binding::Cookie(&session), None),
                Binding::session(&session),
                None
            ),
            "labels separate bindings"
        );
    }

    #[test]
    fn a_memo_answers_only_for_its_own_secret_and_user() {
        let key = key();
        let (mine, theirs) = ([1u8; 32], [2u8; 32]);
        let memo = TokenMemo::default();
        let remembered = |secret| Binding::Session {
            secret,
            memo: Some(&memo),
        };
        let token = key.render(remembered(&mine), None);
        assert!(key.verify(&token, remembered(&mine), None));
        assert!(key.verify(&token, Binding::session(&mine), None));
        // The memo handed over with another secret, or asked for a user: never my token.
        assert!(!key.verify(&token, remembered(&theirs), None));
        assert!(!key.verify(&token, remembered(&mine), Some("alice")));
        // Another key (a rotated application key) does not take the memo's word either.
        assert!(!self::key().verify(&token, remembered(&mine), None));
        // Neither binding prints its secret.
        assert_eq!(
            format!("{:?} {:?}", remembered(&mine), Binding::Cookie(&mine)),
            "Binding::Session(<redacted>) Binding::Cookie(<redacted>)"
        );
    }

    #[test]
    fn user_bound_tokens() {
        let key = key();
        let session = [1u8; 32];
        let token = key.render(Binding::session(&session), Some("alice"));
        assert!(key.verify(&token, Binding::session(&session), Some("alice")));
        assert!(!key.verify(&token, Binding::session(&session), Some("bob")));
        assert!(!key.verify(&token, Binding::session(&session), None));
    }

    #[test]
    fn malformed_tokens_fail() {
        let key = key();
        let secret = CookieSecret::generate();
        let good = key.render(secret.binding(), None);
        // '+' is not in the URL-safe alphabet: the token must not decode.
        let standard_alphabet = format!("+{}", &good[1..]);
        for bad in [
            "",
            "x",
            &good[..good.len() - 1],
            &format!("{good}A"),
            &"A".repeat(4000),
            &standard_alphabet,
        ] {
            assert!(!key.verify(bad, secret.binding(), None), "{bad:?}");
        }
        let other_key = TokenKey::new(&SecretKey::generate());
        assert!(
            !other_key.verify(&good, secret.binding(), None),
            "another app key"
        );
    }

    #[test]
    fn one_time_tokens_expire_and_carry_a_nonce() {
        let key = key();
        let secret = CookieSecret::generate();
        let token = key.render_once(secret.binding(), None, 1000);
        assert!(
            key.verify_once(&token, secret.binding(), None, 1000 + 3600, 3600)
                .is_some()
        );
        assert!(
            key.verify_once(&token, secret.binding(), None, 1000 + 3601, 3600)
                .is_none(),
            "expired"
        );
        assert!(
            key.verify_once(&token, secret.binding(), None, 999, 3600)
                .is_none(),
            "from the future"
        );
        assert!(
            key.verify_once(&token, CookieSecret::generate().binding(), None, 1000, 3600)
                .is_none()
        );
        assert!(
            !key.verify(&token, secret.binding(), None),
            "not a plain token"
        );
    }

    #[test]
    fn one_time_tokens_bind_the_user_they_were_rendered_for() {
        let key = key();
        let secret = CookieSecret::generate();
        let alice = key.render_once(secret.binding(), Some("alice"), 1000);
        let verify = |token: &str, user| key.verify_once(token, secret.binding(), user, 1000, 3600);
        assert!(verify(&alice, Some("alice")).is_some());
        assert!(verify(&alice, Some("bob")).is_none(), "another user");
        assert!(verify(&alice, None).is_none(), "signed out since");
        let anonymous = key.render_once(secret.binding(), None, 1000);
        assert!(verify(&anonymous, None).is_some());
        assert!(
            verify(&anonymous, Some("alice")).is_none(),
            "signed in since"
        );
    }

    #[test]
    fn cookie_secret_round_trips_and_redacts() {
        let secret = CookieSecret::generate();
        assert_eq!(
            CookieSecret::parse(&secret.to_cookie_value()),
            Some(secret.clone())
        );
        assert!(CookieSecret::parse("short").is_none());
        assert_eq!(format!("{secret:?}"), "CookieSecret(<redacted>)");
    }
}
