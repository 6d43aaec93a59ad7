//! Session behaviour on the memory store, with a controllable clock.

use std::sync::Arc;

use http::HeaderMap;
use http::header::COOKIE;

use super::*;

const T0: u64 = 1_700_000_000;

fn setup(config: SessionConfig) -> (Sessions, Arc<ManualClock>, Arc<MemoryStore>) {
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(MemoryStore::with_clock(10_000, clock.clone()));
    let sessions = Sessions::with_store(store.clone(), config)
        .expect("valid")
        .with_clock(clock.clone());
    (sessions, clock, store)
}

/// The `Cookie` header a browser sends back for `set_cookie`.
pub(super) fn cookie_headers(set_cookie: &http::HeaderValue) -> HeaderMap {
    let pair = set_cookie
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, pair.parse().expect("value"));
    headers
}

/// Runs one "request": start, load, `f`, persist. Returns the Set-Cookie, if any.
fn request(
    sessions: &Sessions,
    headers: &HeaderMap,
    f: impl FnOnce(&Session),
) -> Option<http::HeaderValue> {
    let session = sessions.start(headers);
    block_on(session.load()).expect("load");
    f(&session);
    block_on(session.persist()).expect("persist")
}

/// Logs a new visitor in as `user` (the user set, the ID renewed): the `Cookie` header its
/// browser then sends.
fn log_in(sessions: &Sessions, user: &str) -> HeaderMap {
    let set = request(sessions, &HeaderMap::new(), |s| {
        s.set_user_id(Some(user));
        s.regenerate();
    });
    cookie_headers(&set.expect("a new session sets its cookie"))
}

/// A new visitor who put one item in the cart: the `Cookie` header its browser then sends.
fn a_visitor(sessions: &Sessions) -> HeaderMap {
    let set = request(sessions, &HeaderMap::new(), |s| {
        s.insert("cart", 1).expect("insert")
    });
    cookie_headers(&set.expect("a new session sets its cookie"))
}

/// Whether `answer` is a `Set-Cookie` that clears the session cookie.
fn clears_the_cookie(answer: &http::HeaderValue) -> bool {
    answer.to_str().expect("ascii").contains("Max-Age=0")
}

/// The memory store's futures are ready at once.
pub(super) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn memory_store_conformance() {
    block_on(conformance::run_all(Arc::new(MemoryStore::new(1_000))));
}

#[test]
fn untouched_sessions_are_never_stored() {
    let (sessions, _, store) = setup(SessionConfig::new());
    assert_eq!(
        request(&sessions, &HeaderMap::new(), |s| {
            let _ = s.get::<String>("x");
        }),
        None
    );
    assert!(store.is_empty());
}

#[test]
fn cookie_attributes() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("a", 1).expect("insert")
    })
    .expect("cookie");
    let text = set.to_str().expect("ascii");
    assert!(text.starts_with("__Host-mitten-session="), "{text}");
    assert!(
        text.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{text}"
    );
    assert!(set.is_sensitive());
    let (persistent, _, _) = setup(
        SessionConfig::new()
            .persistent(true)
            .same_site(SameSite::Strict),
    );
    let set = request(&persistent, &HeaderMap::new(), |s| {
        s.insert("a", 1).expect("insert")
    })
    .expect("cookie");
    assert!(
        set.to_str()
            .expect("ascii")
            .contains("; Max-Age=43200; Secure; HttpOnly; SameSite=Strict")
    );
    let (plain, _, _) = setup(
        SessionConfig::new()
            .cookie_name("sid")
            .danger_insecure_cookie()
            .danger_script_readable_cookie(),
    );
    let set = request(&plain, &HeaderMap::new(), |s| {
        s.insert("a", 1).expect("insert")
    })
    .expect("cookie");
    let text = set.to_str().expect("ascii");
    assert!(
        text.starts_with("sid=") && text.ends_with("; Path=/; SameSite=Lax"),
        "{text}"
    );
}

#[test]
fn fixation_planted_id_is_not_adopted_and_login_changes_the_id() {
    let (sessions, _, _) = setup(SessionConfig::new());
    // The attacker gets a real session and plants its cookie in the victim's browser.
    let planted = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("cart", 1).expect("insert")
    })
    .expect("cookie");
    let victim = cookie_headers(&planted);
    // The victim logs in with it; the app regenerates at login.
    let after_login = request(&sessions, &victim, |s| {
        s.set_user_id(Some("victim"));
        s.insert("user", "victim").expect("insert");
        s.regenerate();
    })
    .expect("a new cookie");
    assert_ne!(after_login, planted);
    // The planted ID is dead: it is not logged in, and not even a session any more.
    request(&sessions, &victim, |s| {
        assert_eq!(s.get::<String>("user"), None);
        assert!(!s.is_stored());
    });
    // The victim's new cookie carries the data.
    request(&sessions, &cookie_headers(&after_login), |s| {
        assert_eq!(s.get::<String>("user").as_deref(), Some("victim"));
        assert_eq!(s.get::<u32>("cart"), Some(1), "regenerate keeps the data");
    });
}

#[test]
fn forged_and_malformed_ids_get_a_fresh_session() {
    let (sessions, _, store) = setup(SessionConfig::new());
    for forged in [
        "__Host-mitten-session=attacker-chosen".to_owned(),
        format!(
            "__Host-mitten-session={}",
            SessionId::generate().as_cookie_value()
        ),
        "__Host-mitten-session=".to_owned(),
    ] {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, forged.parse().expect("value"));
        let set = request(&sessions, &headers, |s| {
            assert!(!s.is_stored());
            s.insert("x", 1).expect("insert");
        })
        .expect("cookie");
        assert!(
            !set.to_str().expect("ascii").contains(
                forged
                    .split('=')
                    .nth(1)
                    .filter(|v| !v.is_empty())
                    .unwrap_or("\u{0}")
            )
        );
    }
    assert_eq!(store.len(), 3);
}

#[test]
fn duplicate_cookies_are_not_trusted() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("x", 1).expect("insert")
    })
    .expect("cookie");
    let pair = set
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let planted = format!(
        "__Host-mitten-session={}",
        SessionId::generate().as_cookie_value()
    );
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, format!("{planted}; {pair}").parse().expect("value"));
    let session = sessions.start(&headers);
    assert!(session.cookie_was_malformed());
}

#[test]
fn destroyed_session_is_not_replayable() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("user", "alice").expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    let cleared = request(&sessions, &headers, |s| s.destroy()).expect("cleared cookie");
    assert_eq!(
        cleared.to_str().expect("ascii"),
        "__Host-mitten-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
    );
    assert!(store.is_empty());
    request(&sessions, &headers, |s| {
        assert_eq!(s.get::<String>("user"), None)
    });
}

#[test]
fn idle_and_absolute_timeouts() {
    let config = SessionConfig::new()
        .idle_timeout(std::time::Duration::from_secs(100))
        .absolute_timeout(std::time::Duration::from_secs(1000))
        .touch_interval(std::time::Duration::from_secs(10));
    let (sessions, clock, _) = setup(config);
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("user", "alice").expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    // Used every 90 s: the idle timeout slides, because reads write back last_seen.
    for _ in 0..11 {
        clock.advance(90);
        request(&sessions, &headers, |s| {
            assert_eq!(s.get::<String>("user").as_deref(), Some("alice"))
        });
    }
    // 990 s old and used 11 s ago: past 1000 s the absolute timeout ends it however active it is.
    clock.advance(11);
    request(&sessions, &headers, |s| {
        assert_eq!(s.get::<String>("user"), None)
    });

    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("user", "bob").expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    clock.advance(101);
    request(&sessions, &headers, |s| {
        assert_eq!(s.get::<String>("user"), None, "idle for too long")
    });
}

#[test]
fn reads_do_not_write_every_time() {
    let (sessions, clock, store) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("n", 1).expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    let key = SessionId::parse(
        set.to_str()
            .expect("ascii")
            .split(['=', ';'])
            .nth(1)
            .expect("id"),
    )
    .expect("id")
    .store_key();
    let version = || {
        block_on(store.load(key))
            .expect("load")
            .expect("present")
            .version
    };
    request(&sessions, &headers, |_| {});
    assert_eq!(
        version(),
        1,
        "a read within the touch interval writes nothing"
    );
    clock.advance(61);
    request(&sessions, &headers, |_| {});
    assert_eq!(version(), 2, "a read after it refreshes last_seen");
}

#[test]
fn storing_the_same_value_writes_nothing() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("user", "alice").expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    let version = |headers: &HeaderMap| {
        let session = sessions.start(headers);
        block_on(session.load()).expect("load");
        let key = session.binding().expect("stored");
        block_on(store.load(key))
            .expect("load")
            .expect("present")
            .version
    };
    let session = sessions.start(&headers);
    block_on(session.load()).expect("load");
    session.insert("user", "alice").expect("insert");
    assert!(!session.needs_persist(), "the same value is no change");
    assert_eq!(block_on(session.persist()).expect("persist"), None);
    assert_eq!(version(&headers), 1);

    request(&sessions, &headers, |s| {
        s.insert("user", "bob").expect("insert")
    });
    assert_eq!(version(&headers), 2, "a different value is written");
    let session = sessions.start(&headers);
    block_on(session.load()).expect("load");
    assert_eq!(session.get::<String>("user").as_deref(), Some("bob"));

    // Still this request's write of the key when it writes for another reason: A re-stores
    // what it read after B changed it, and A's later write wins the merge.
    let a = sessions.start(&headers);
    block_on(a.load()).expect("load");
    request(&sessions, &headers, |b| {
        b.insert("user", "carol").expect("insert")
    });
    a.insert("user", "bob").expect("insert");
    a.insert("visits", 1).expect("insert");
    block_on(a.persist()).expect("persist");
    let session = sessions.start(&headers);
    block_on(session.load()).expect("load");
    assert_eq!(session.get::<String>("user").as_deref(), Some("bob"));
    assert_eq!(session.get::<u32>("visits"), Some(1));
}

#[test]
fn after_the_write_the_request_sees_what_was_written() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let session = sessions.start(&HeaderMap::new());
    block_on(session.load()).expect("load");
    session.insert("k", "v").expect("insert");
    let set = block_on(session.persist())
        .expect("persist")
        .expect("cookie");
    assert!(session.is_stored(), "the new record is the request's view");
    assert_eq!(session.get::<String>("k").as_deref(), Some("v"));

    let headers = cookie_headers(&set);
    let again = sessions.start(&headers);
    block_on(again.load()).expect("load");
    again.insert("k", "w").expect("insert");
    assert_eq!(block_on(again.persist()).expect("persist"), None);
    assert_eq!(again.get::<String>("k").as_deref(), Some("w"));
    let fresh = sessions.start(&headers);
    block_on(fresh.load()).expect("load");
    assert_eq!(fresh.get::<String>("k").as_deref(), Some("w"));
}

#[test]
fn binding_secret_is_kept_merged_and_rotated() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let first = sessions.start(&HeaderMap::new());
    block_on(first.load()).expect("load");
    let secret = first.binding_secret();
    let set = block_on(first.persist()).expect("persist").expect("cookie");
    let headers = cookie_headers(&set);
    let secret_of = |headers: &HeaderMap| {
        let session = sessions.start(headers);
        block_on(session.load()).expect("load");
        session.existing_binding_secret()
    };
    assert_eq!(secret_of(&headers).as_ref(), Some(&secret), "kept");

    // A concurrent write of data keeps the secret; the merge does not drop it.
    let a = sessions.start(&headers);
    block_on(a.load()).expect("load");
    request(&sessions, &headers, |b| b.insert("x", 1).expect("insert"));
    a.insert("y", 2).expect("insert");
    block_on(a.persist()).expect("persist");
    assert_eq!(secret_of(&headers).as_ref(), Some(&secret), "merged");

    // Login: a new ID and a new secret.
    let set = request(&sessions, &headers, |s| s.regenerate()).expect("new cookie");
    let rotated = secret_of(&cookie_headers(&set));
    assert!(
        rotated.is_none(),
        "made again when a token is next rendered"
    );
    assert_eq!(secret_of(&headers), None, "the old record is gone");
}

#[test]
fn log_out_everywhere_ends_every_session_of_the_user() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let (laptop, phone, other) = (
        log_in(&sessions, "alice"),
        log_in(&sessions, "alice"),
        log_in(&sessions, "bob"),
    );
    assert_eq!(
        block_on(sessions.destroy_all_for_user("alice")).expect("destroy"),
        2
    );
    request(&sessions, &laptop, |s| assert_eq!(s.user_id(), None));
    request(&sessions, &phone, |s| assert_eq!(s.user_id(), None));
    request(&sessions, &other, |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"))
    });
}

#[test]
fn a_session_logged_out_while_it_renews_its_id_is_not_brought_back() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    // A request of the laptop's session renews its ID (it stores a copy under a new ID, then
    // deletes the original); while it runs, Alice logs out everywhere.
    let session = sessions.start(&laptop);
    block_on(session.load()).expect("load");
    session.regenerate();
    let ended = block_on(sessions.destroy_all_for_user("alice")).expect("destroy");
    assert_eq!(ended, 1);
    // The copy is not left behind: the cookie is cleared and the store holds nothing.
    let answer = block_on(session.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(clears_the_cookie(&answer), "{answer:?}");
    assert_eq!(store.len(), 0);
    assert_eq!(
        block_on(sessions.destroy_all_for_user("alice")).expect("destroy"),
        0
    );
}

/// A step of a renewal of a session ID.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// Storing the copy under the new ID.
    Copy,
    /// Deleting the original.
    Delete,
    /// Writing the copy again with a concurrent write merged in.
    MergedWrite,
}

/// A store that logs a user out everywhere just before one step of the next renewal.
#[derive(Debug)]
struct SweepsDuringRenewal {
    store: MemoryStore,
    user: &'static str,
    before: Step,
    armed: std::sync::atomic::AtomicBool,
}

impl SweepsDuringRenewal {
    fn sweep_before(&self, step: Step) {
        if step == self.before && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            block_on(self.store.delete_all_for_user(self.user, None)).expect("sweep");
        }
    }
}

impl SessionStore for SweepsDuringRenewal {
    fn load(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.store.load(key)
    }

    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.store.create(key, record, expires_at)
    }

    fn create_in_place_of(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
        replaced: StoreKey,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.sweep_before(Step::Copy);
        self.store
            .create_in_place_of(key, record, expires_at, replaced)
    }

    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<Cas, StoreError>> {
        self.sweep_before(Step::MergedWrite);
        self.store.update(key, record, expected_version, expires_at)
    }

    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.store.delete(key)
    }

    fn delete_renewed(
        &self,
        key: StoreKey,
        forward: Option<Forward>,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.sweep_before(Step::Delete);
        self.store.delete_renewed(key, forward)
    }

    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
        except: Option<StoreKey>,
    ) -> StoreFuture<'a, Result<u64, StoreError>> {
        self.store.delete_all_for_user(user_id, except)
    }
}

#[test]
fn a_logout_everywhere_at_any_step_of_a_renewal_ends_the_session() {
    for before in [Step::Copy, Step::Delete, Step::MergedWrite] {
        let store = Arc::new(SweepsDuringRenewal {
            store: MemoryStore::new(1_000),
            user: "alice",
            before,
            armed: false.into(),
        });
        let sessions = Sessions::with_store(store.clone(), SessionConfig::new()).expect("valid");
        let laptop = log_in(&sessions, "alice");
        // A request renews the ID; another one writes meanwhile (so that the renewal merges
        // that write into its copy, and writes it again); then the sweep is armed.
        let session = sessions.start(&laptop);
        block_on(session.load()).expect("load");
        session.regenerate();
        request(&sessions, &laptop, |s| s.insert("tab", 2).expect("insert"));
        store.armed.store(true, std::sync::atomic::Ordering::SeqCst);
        let answer = block_on(session.persist())
            .expect("persist")
            .expect("a cookie");
        assert!(!store.armed.load(std::sync::atomic::Ordering::SeqCst));
        // Swept before the copy is stored, the original is gone when the renewal deletes it;
        // swept after, the copy goes with it, and the renewal must not answer with its cookie.
        assert_eq!(store.store.len(), 0, "swept before {before:?}");
        assert!(clears_the_cookie(&answer), "swept before {before:?}");
    }
}

#[test]
fn ending_the_other_sessions_keeps_this_one() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let (laptop, phone, tablet, other) = (
        log_in(&sessions, "alice"),
        log_in(&sessions, "alice"),
        log_in(&sessions, "alice"),
        log_in(&sessions, "bob"),
    );
    let session = sessions.start(&laptop);
    assert_eq!(block_on(session.end_other_sessions()).expect("end"), 2);
    let renewed = block_on(session.persist())
        .expect("persist")
        .expect("new ID");
    request(&sessions, &cookie_headers(&renewed), |s| {
        assert_eq!(s.user_id().as_deref(), Some("alice"))
    });
    for gone in [&laptop, &phone, &tablet] {
        request(&sessions, gone, |s| assert_eq!(s.user_id(), None));
    }
    request(&sessions, &other, |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"))
    });
    assert_eq!(store.len(), 2);
    // Sweeping with `destroy_all_for_user` and renewing instead logs this device out too.
    let session = sessions.start(&cookie_headers(&renewed));
    block_on(session.load()).expect("load");
    assert_eq!(
        block_on(sessions.destroy_all_for_user("alice")).expect("sweep"),
        1
    );
    session.regenerate();
    let answer = block_on(session.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(clears_the_cookie(&answer));
    assert_eq!(store.len(), 1);
}

#[test]
fn a_write_made_while_a_request_renews_the_id_is_kept() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let visitor = a_visitor(&sessions);
    // The login request renews the ID; meanwhile another tab adds to the cart.
    let login = sessions.start(&visitor);
    block_on(login.load()).expect("load");
    login.set_user_id(Some("bob"));
    login.insert("greeted", true).expect("insert");
    login.regenerate();
    request(&sessions, &visitor, |s| {
        s.insert("cart", 2).expect("insert")
    });
    let set = block_on(login.persist())
        .expect("persist")
        .expect("a cookie");
    // The renewed session holds both requests' writes, and the request sees them.
    assert_eq!(login.get::<u32>("cart"), Some(2));
    request(&sessions, &cookie_headers(&set), |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"));
        assert_eq!(s.get::<u32>("cart"), Some(2));
        assert_eq!(s.get::<bool>("greeted"), Some(true));
    });
}

#[test]
fn a_user_cleared_while_a_request_renews_the_id_stays_cleared() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    // A request renews the ID (a privilege change) while another one logs out by clearing the
    // user only: the renewal does not copy back the user it loaded.
    let session = sessions.start(&laptop);
    block_on(session.load()).expect("load");
    session.regenerate();
    request(&sessions, &laptop, |s| s.set_user_id(None));
    let set = block_on(session.persist())
        .expect("persist")
        .expect("a cookie");
    request(&sessions, &cookie_headers(&set), |s| {
        assert_eq!(s.user_id(), None)
    });
}

#[test]
fn a_user_set_meanwhile_on_a_renewed_session_ends_it() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let visitor = a_visitor(&sessions);
    // A request renews the ID while another one sets a user on the session without renewing
    // it (a login written carelessly). The copy was stored without a user, where a "log out
    // everywhere" of that user could not find it until it is written again: it ends instead.
    let session = sessions.start(&visitor);
    block_on(session.load()).expect("load");
    session.regenerate();
    request(&sessions, &visitor, |s| s.set_user_id(Some("carol")));
    let answer = block_on(session.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(clears_the_cookie(&answer));
    assert_eq!(store.len(), 0);
}

#[test]
fn a_login_whose_anonymous_session_ended_meanwhile_still_logs_in() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let visitor = a_visitor(&sessions);
    // The login request renews the ID; meanwhile another request of the visitor ends the
    // anonymous session (it had no user, so nothing is brought back against a logout).
    let session = sessions.start(&visitor);
    block_on(session.load()).expect("load");
    session.set_user_id(Some("bob"));
    session.regenerate();
    request(&sessions, &visitor, |s| s.destroy());
    let set = block_on(session.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(!clears_the_cookie(&set));
    request(&sessions, &cookie_headers(&set), |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"))
    });
    assert_eq!(store.len(), 1);
}

#[test]
fn a_logout_that_lands_after_a_renewal_ends_the_renewed_session() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    // A logout reads the session; before it deletes it, another request renews the ID (a
    // privilege change) and its response gives the browser the new cookie.
    let logout = sessions.start(&laptop);
    block_on(logout.load()).expect("load");
    logout.destroy();
    let renewed = request(&sessions, &laptop, |s| s.regenerate()).expect("new cookie");
    let answer = block_on(logout.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(clears_the_cookie(&answer));
    // Whichever response the browser keeps, nobody is logged in.
    request(&sessions, &cookie_headers(&renewed), |s| {
        assert_eq!(s.user_id(), None)
    });
    assert_eq!(store.len(), 0);
}

#[test]
fn a_logout_that_reads_after_a_renewal_ends_the_renewed_session() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    // The renewal lands first; the logout, sent with the old cookie before the browser saw the
    // new one, finds no session under it.
    let renewal = sessions.start(&laptop);
    block_on(renewal.load()).expect("load");
    renewal.regenerate();
    let renewed = block_on(renewal.persist())
        .expect("persist")
        .expect("new cookie");
    request(&sessions, &laptop, |s| {
        assert!(!s.is_stored());
        s.destroy();
    });
    request(&sessions, &cookie_headers(&renewed), |s| {
        assert_eq!(s.user_id(), None)
    });
    assert_eq!(store.len(), 0);
}

#[test]
fn an_old_id_ends_the_renewed_session_for_five_minutes() {
    let (sessions, clock, _) = setup(SessionConfig::new());
    let (laptop, phone) = (log_in(&sessions, "alice"), log_in(&sessions, "bob"));
    let renewed = |device: &HeaderMap| {
        let set = request(&sessions, device, |s| s.regenerate()).expect("new cookie");
        cookie_headers(&set)
    };
    let (laptop_renewed, phone_renewed) = (renewed(&laptop), renewed(&phone));
    clock.advance(299);
    request(&sessions, &laptop, |s| s.destroy());
    request(&sessions, &laptop_renewed, |s| {
        assert_eq!(s.user_id(), None, "within five minutes")
    });
    clock.advance(1);
    request(&sessions, &phone, |s| s.destroy());
    request(&sessions, &phone_renewed, |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"), "five minutes on")
    });
}

#[test]
fn a_logout_that_lands_after_ending_the_other_sessions_ends_the_kept_one() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    let _phone = log_in(&sessions, "alice");
    // A tab logs out; meanwhile another tab of the same browser changes the password, which
    // ends the user's other sessions and keeps this one under a new ID.
    let logout = sessions.start(&laptop);
    block_on(logout.load()).expect("load");
    logout.destroy();
    let kept = sessions.start(&laptop);
    block_on(kept.load()).expect("load");
    assert_eq!(block_on(kept.end_other_sessions()).expect("end"), 1);
    let renewed = block_on(kept.persist())
        .expect("persist")
        .expect("new cookie");
    block_on(logout.persist()).expect("persist");
    request(&sessions, &cookie_headers(&renewed), |s| {
        assert_eq!(s.user_id(), None)
    });
    assert_eq!(store.len(), 0);
}

#[test]
fn a_user_cleared_after_a_renewal_ends_the_renewed_session() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let (laptop, phone) = (log_in(&sessions, "alice"), log_in(&sessions, "bob"));
    // A request clears the user (a logout written as a write); before it writes, another
    // request renews the ID. The other device's request only writes data (the control): that
    // write is lost, and the renewed session stays.
    let renewed = |device: &HeaderMap, change: &dyn Fn(&Session)| {
        let writer = sessions.start(device);
        block_on(writer.load()).expect("load");
        let set = request(&sessions, device, |s| s.regenerate()).expect("new cookie");
        change(&writer);
        let answer = block_on(writer.persist())
            .expect("persist")
            .expect("a cookie");
        assert!(clears_the_cookie(&answer), "the session it wrote was gone");
        cookie_headers(&set)
    };
    let laptop_renewed = renewed(&laptop, &|s| s.set_user_id(None));
    let phone_renewed = renewed(&phone, &|s| s.insert("tab", 2).expect("insert"));
    request(&sessions, &laptop_renewed, |s| {
        assert_eq!(s.user_id(), None)
    });
    request(&sessions, &phone_renewed, |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"))
    });
}

#[test]
fn a_logout_that_lands_before_ending_the_other_sessions_is_not_undone() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    let phone = log_in(&sessions, "alice");
    // A tab changes the password (its request read the session); before it ends the other
    // sessions, another tab logs out.
    let kept = sessions.start(&laptop);
    block_on(kept.load()).expect("load");
    request(&sessions, &laptop, |s| s.destroy());
    assert_eq!(block_on(kept.end_other_sessions()).expect("end"), 1);
    let answer = block_on(kept.persist())
        .expect("persist")
        .expect("a cookie");
    assert!(clears_the_cookie(&answer), "the logout stands");
    request(&sessions, &phone, |s| assert_eq!(s.user_id(), None));
    assert_eq!(store.len(), 0);
}

#[test]
fn a_renewal_racing_the_end_of_the_other_sessions_leaves_the_old_id_its_logout() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let laptop = log_in(&sessions, "alice");
    // Two requests of one session at once: a privilege change renews the ID, a password change
    // ends the other sessions and keeps this one. Then a logout with the old ID (a tab that has
    // not seen either cookie).
    let (renewal, kept) = (sessions.start(&laptop), sessions.start(&laptop));
    block_on(renewal.load()).expect("load");
    block_on(kept.load()).expect("load");
    renewal.regenerate();
    assert_eq!(block_on(kept.end_other_sessions()).expect("end"), 0);
    let renewed = block_on(renewal.persist())
        .expect("persist")
        .expect("a cookie");
    let answer = block_on(kept.persist())
        .expect("persist")
        .expect("a cookie");
    request(&sessions, &laptop, |s| s.destroy());
    // Whichever cookie the browser keeps, nobody is logged in.
    for cookie in [renewed, answer] {
        if !clears_the_cookie(&cookie) {
            request(&sessions, &cookie_headers(&cookie), |s| {
                assert_eq!(s.user_id(), None)
            });
        }
    }
    assert_eq!(store.len(), 0);
}

#[test]
fn an_id_planted_signed_in_to_another_account_cannot_end_the_victims_session() {
    let (sessions, _, _) = setup(SessionConfig::new());
    // The attacker signs in to their own account and plants that cookie in the victim's
    // browser (login CSRF, cookie tossing); the victim then logs in over it.
    let planted = log_in(&sessions, "mallory");
    let victim = request(&sessions, &planted, |s| {
        s.set_user_id(Some("alice"));
        s.regenerate();
    })
    .expect("new cookie");
    // The attacker's logout with the planted ID reaches nothing.
    request(&sessions, &planted, |s| s.destroy());
    request(&sessions, &cookie_headers(&victim), |s| {
        assert_eq!(s.user_id().as_deref(), Some("alice"))
    });
}

#[test]
fn an_anonymous_session_ended_after_the_login_that_renewed_it_keeps_the_login() {
    let (sessions, _, store) = setup(SessionConfig::new());
    let visitor = a_visitor(&sessions);
    // The mirror of the test above it: the other request ends the anonymous session after the
    // login renewed it. The login stands in either order.
    let other = sessions.start(&visitor);
    block_on(other.load()).expect("load");
    other.destroy();
    let set = request(&sessions, &visitor, |s| {
        s.set_user_id(Some("bob"));
        s.regenerate();
    })
    .expect("a cookie");
    block_on(other.persist()).expect("persist");
    request(&sessions, &cookie_headers(&set), |s| {
        assert_eq!(s.user_id().as_deref(), Some("bob"))
    });
    assert_eq!(store.len(), 1);
}

#[test]
fn renewing_the_id_at_the_per_user_cap_logs_no_other_device_out() {
    let clock = Arc::new(ManualClock::new(T0));
    let store = MemoryStore::with_clock(10_000, clock.clone()).max_sessions_per_user(2);
    let sessions = Sessions::new(store, SessionConfig::new())
        .expect("valid")
        .with_clock(clock.clone());
    let phone = log_in(&sessions, "alice");
    clock.advance(60);
    let laptop = log_in(&sessions, "alice");
    clock.advance(60);
    // The laptop renews its ID (a re-authentication): still two sessions, the phone's kept.
    let renewed = request(&sessions, &laptop, |s| s.regenerate()).expect("new cookie");
    let renewed = cookie_headers(&renewed);
    request(&sessions, &phone, |s| {
        assert_eq!(s.user_id().as_deref(), Some("alice"))
    });
    request(&sessions, &renewed, |s| {
        assert_eq!(s.user_id().as_deref(), Some("alice"))
    });
    request(&sessions, &laptop, |s| assert_eq!(s.user_id(), None));
    // A third device: the session seen longest ago (the phone's, a minute ago) ends.
    clock.advance(60);
    request(&sessions, &renewed, |s| {
        s.insert("seen", 1).expect("insert")
    });
    let tablet = log_in(&sessions, "alice");
    request(&sessions, &phone, |s| assert_eq!(s.user_id(), None));
    for device in [&renewed, &tablet] {
        request(&sessions, device, |s| {
            assert_eq!(s.user_id().as_deref(), Some("alice"))
        });
    }
}

#[test]
fn concurrent_writes_merge_by_key() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("base", 0).expect("insert")
    })
    .expect("cookie");
    let headers = cookie_headers(&set);
    // Two requests load the same version, then both write.
    let first = sessions.start(&headers);
    let second = sessions.start(&headers);
    block_on(first.load()).expect("load");
    block_on(second.load()).expect("load");
    first.insert("a", 1).expect("insert");
    second.insert("b", 2).expect("insert");
    second.remove("base");
    block_on(first.persist()).expect("persist");
    block_on(second.persist()).expect("persist after a conflict");
    request(&sessions, &headers, |s| {
        assert_eq!(s.get::<u32>("a"), Some(1), "the first write survived");
        assert_eq!(s.get::<u32>("b"), Some(2), "the second write survived");
        assert_eq!(s.get::<u32>("base"), None);
    });
}

#[test]
fn signed_cookies_reject_forgeries_and_rotate() {
    let old = crate::Keyring::new(crate::SecretKey::generate());
    let (signed_old, clock, store) = setup(SessionConfig::new().signed(old.clone()));
    let set = request(&signed_old, &HeaderMap::new(), |s| {
        s.insert("n", 1).expect("insert")
    })
    .expect("cookie");
    assert_eq!(
        set.to_str()
            .expect("ascii")
            .split(';')
            .next()
            .expect("pair")
            .matches('.')
            .count(),
        1
    );
    let rotated =
        crate::Keyring::new(crate::SecretKey::generate()).with_fallback(old.signing_key().clone());
    let sessions = Sessions::with_store(store.clone(), SessionConfig::new().signed(rotated))
        .expect("valid")
        .with_clock(clock);
    request(&sessions, &cookie_headers(&set), |s| {
        assert_eq!(s.get::<u32>("n"), Some(1), "an older key verifies")
    });
    let id_only = set
        .to_str()
        .expect("ascii")
        .split(['=', '.'])
        .nth(1)
        .expect("id")
        .to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(
        COOKIE,
        format!("__Host-mitten-session={id_only}.AAAA")
            .parse()
            .expect("value"),
    );
    assert!(
        sessions.start(&headers).cookie_was_malformed(),
        "a bad signature"
    );
    headers.insert(
        COOKIE,
        format!("__Host-mitten-session={id_only}")
            .parse()
            .expect("value"),
    );
    assert!(
        sessions.start(&headers).cookie_was_malformed(),
        "no signature at all"
    );
}

#[test]
fn debug_shows_no_id() {
    let (sessions, _, _) = setup(SessionConfig::new());
    let set = request(&sessions, &HeaderMap::new(), |s| {
        s.insert("n", 1).expect("insert")
    })
    .expect("cookie");
    let id = set
        .to_str()
        .expect("ascii")
        .split(['=', ';'])
        .nth(1)
        .expect("id")
        .to_owned();
    let session = sessions.start(&cookie_headers(&set));
    block_on(session.load()).expect("load");
    let debug = format!("{session:?} {sessions:?}");
    assert!(!debug.contains(&id), "{debug}");
}

#[test]
fn memory_store_is_bounded() {
    let store = MemoryStore::new(32);
    for _ in 0..500 {
        let key = SessionId::generate().store_key();
        assert!(block_on(store.create(key, Arc::new(Record::new(T0)), u64::MAX)).expect("create"));
    }
    assert!(store.len() <= 32, "{}", store.len());
}

/// A clock that counts how often it is read.
#[derive(Debug, Default)]
struct CountingClock(std::sync::atomic::AtomicU64);

impl Clock for CountingClock {
    fn now(&self) -> u64 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        T0
    }
}

/// Sessions in a memory store whose clock (the same for both) counts its readings.
fn counting_sessions() -> (Arc<CountingClock>, Sessions) {
    let clock = Arc::new(CountingClock::default());
    let store = Arc::new(MemoryStore::with_clock(100, clock.clone()));
    let sessions = Sessions::with_store(store, SessionConfig::new())
        .expect("valid")
        .with_clock(clock.clone());
    (clock, sessions)
}

#[test]
fn a_new_visitor_reads_the_clock_only_for_the_write() {
    let (clock, sessions) = counting_sessions();
    let readings = || clock.0.load(std::sync::atomic::Ordering::SeqCst);
    let session = sessions.start(&HeaderMap::new());
    block_on(session.load()).expect("load");
    assert!(!session.needs_persist());
    // No stored session: no timeout to decide, so no reading.
    assert_eq!(readings(), 0);
    session.insert("n", 1).expect("insert");
    assert!(session.needs_persist());
    assert!(block_on(session.persist()).expect("persist").is_some());
    // The write dates the new record (the store's create finds no such key: no reading).
    assert_eq!(readings(), 1);
}

#[test]
fn a_returning_visitor_reads_the_clock_once() {
    let (clock, sessions) = counting_sessions();
    let first = sessions.start(&HeaderMap::new());
    first.insert("n", 1).expect("insert");
    let cookie = block_on(first.persist()).expect("persist").expect("cookie");
    let headers = cookie_headers(&cookie);
    let before = clock.0.load(std::sync::atomic::Ordering::SeqCst);
    let session = sessions.start(&headers);
    block_on(session.load()).expect("load");
    assert_eq!(session.get::<i32>("n"), Some(1));
    assert!(!session.needs_persist());
    // The store judges expiry by the reading the session judges its timeouts by.
    assert_eq!(
        clock.0.load(std::sync::atomic::Ordering::SeqCst) - before,
        1
    );
}
