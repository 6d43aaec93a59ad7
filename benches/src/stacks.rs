//! The applications the stack benchmarks compare: the same two routes (`GET /` renders a form
//! with a CSRF token and starts a session, `POST /` checks the token and reads the session),
//! bare, behind Mitten, and behind the stack a Rust user would assemble today.

use axum::Router;
use axum::extract::{Form, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;

/// The form the bare and Mitten handlers read. Mitten checks the token before the handler runs,
/// so its handler, like the demo's, does not declare the token field (serde skips it).
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    /// The note.
    pub text: String,
}

/// The form the peer stack's handler reads: axum_csrf leaves the check to the handler, which
/// needs the token for it.
#[derive(Debug, Deserialize)]
pub struct PeerNoteForm {
    /// The note.
    pub text: String,
    /// axum_csrf's token field.
    #[serde(default)]
    pub authenticity_token: String,
}

/// No protection at all: the baseline.
pub fn bare() -> Router {
    Router::new().route(
        "/",
        get(|| async { Html("<form></form>".to_owned()) })
            .post(|Form(form): Form<NoteForm>| async move { form.text }),
    )
}

/// Mitten with the default configuration: headers with a nonce, sessions in memory, CSRF.
pub fn mitten_full() -> Router {
    use mitten::session::{MemoryStore, SessionConfig, Sessions};
    use mitten::{Config, CsrfToken, Mitten, Nonce, Session};
    let sessions = Sessions::new(MemoryStore::new(100_000), SessionConfig::new()).expect("valid");
    let mitten = Mitten::new(Config::strict())
        .expect("valid")
        .with_sessions(sessions)
        .with_csrf(mitten::csrf::CsrfConfig::new())
        .expect("valid");
    Router::new()
        .route(
            "/",
            get(
                |session: Session, token: CsrfToken, Nonce(nonce): Nonce| async move {
                    session.insert("user", "alice").expect("insert");
                    Html(format!(
                        r#"<script nonce="{nonce}"></script><form>{}</form>"#,
                        token.hidden_input()
                    ))
                },
            )
            .post(|session: Session, Form(form): Form<NoteForm>| async move {
                let user: Option<String> = session.get("user");
                format!("{} by {}", form.text, user.unwrap_or_default())
            }),
        )
        .layer(mitten.layer())
}

/// A response captured whole: served again as it is.
#[derive(Debug, Clone)]
struct Captured {
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
}

impl Captured {
    /// What `app` answers to `request`, less the headers every server adds itself. Its bytes are
    /// made static (leaked once, at start): serving a copy then costs what serving a `'static`
    /// header costs, with no reference count shared by the worker threads, as Mitten's own
    /// constant headers are.
    async fn from(app: &Router, request: Request) -> Self {
        use axum::http::HeaderValue;
        use http_body_util::BodyExt as _;
        use tower::ServiceExt as _;
        let leak = |bytes: &[u8]| -> &'static [u8] { Box::leak(bytes.to_vec().into_boxed_slice()) };
        let response = app.clone().oneshot(request).await.expect("response");
        let (mut parts, body) = response.into_parts();
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        parts.headers.remove(axum::http::header::DATE);
        let mut headers = axum::http::HeaderMap::with_capacity(parts.headers.len());
        for (name, value) in &parts.headers {
            let value = axum::body::Bytes::from_static(leak(value.as_bytes()));
            headers.append(
                name.clone(),
                HeaderValue::from_maybe_shared(value).expect("a header value stays one"),
            );
        }
        let body = body.collect().await.expect("body").to_bytes();
        Self {
            headers,
            body: axum::body::Bytes::from_static(leak(&body)),
        }
    }
}

impl IntoResponse for Captured {
    fn into_response(self) -> Response {
        let mut response = Response::new(axum::body::Body::from(self.body));
        *response.headers_mut() = self.headers;
        response
    }
}

/// A control for the load test: bare axum answering with the very bytes Mitten's full stack
/// sends (its headers, cookie and page, captured from it once), without doing any of its work.
/// What it loses to bare is what the response's size costs on the wire and in the load
/// generator; what Mitten loses beyond it is Mitten's own work.
pub async fn mitten_bytes() -> Router {
    bytes_of(mitten_full().with_state(())).await
}

/// The same control for Mitten's headers-only stack: bare axum answering with its headers and
/// page, captured once.
pub async fn mitten_header_bytes() -> Router {
    bytes_of(mitten_headers().with_state(())).await
}

/// Bare axum answering each of the three benchmark requests with what `app` answered to it once
/// (a returning visitor is told apart by its `Cookie` header).
async fn bytes_of(app: Router) -> Router {
    use axum::http::header::COOKIE;
    // Leaked, like their bytes: axum clones a handler for every request, and a handler holding
    // its responses by value would copy all of them each time.
    let leak = |captured: Captured| -> &'static Captured { Box::leak(Box::new(captured)) };
    let visit = crate::visit::Visit::first(&app).await;
    let new = leak(Captured::from(&app, crate::visit::get()).await);
    let returning = leak(Captured::from(&app, visit.get()).await);
    let post = leak(Captured::from(&app, visit.post()).await);
    Router::new().route(
        "/",
        get(move |request: Request| {
            let answer = match request.headers().contains_key(COOKIE) {
                true => returning.clone(),
                false => new.clone(),
            };
            async move { answer }
        })
        // The form is read as the other stacks' handlers read it.
        .post(move |Form(form): Form<NoteForm>| {
            drop(form);
            let answer = post.clone();
            async move { answer }
        }),
    )
}

/// A control for the in-process figures: bare axum behind a layer that does nothing but pass the
/// request on (`MapRequestLayer` with the identity), added with `Router::layer` as Mitten's is.
/// What it adds to bare axum is what axum charges any layer (it boxes the layered route's
/// future and clones its service per request); what Mitten's headers-only stack adds beyond it
/// is the header path's own cost through axum.
pub fn pass_through() -> Router {
    bare().layer(tower::util::MapRequestLayer::new(|request: Request| {
        request
    }))
}

/// Mitten's headers only (strict, with a fresh nonce).
pub fn mitten_headers() -> Router {
    let mitten = mitten::Mitten::new(mitten::Config::strict()).expect("valid");
    bare().layer(mitten.layer())
}

/// A per-request CSP nonce, which rust-helmet lacks: what its users write themselves.
async fn nonce_middleware(mut request: Request, next: Next) -> Response {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert("content-security-policy", value);
    }
    response
}

/// axum-helmet's defaults less its own `Content-Security-Policy`: helmet sits outside the nonce
/// middleware and inserts its headers last, so its static policy would replace the nonce'd one.
/// The rest is `Helmet::default()`, header for header.
fn helmet() -> axum_helmet::HelmetLayer {
    use axum_helmet::{
        CrossOriginOpenerPolicy, CrossOriginResourcePolicy, Helmet, OriginAgentCluster,
        ReferrerPolicy, StrictTransportSecurity, XContentTypeOptions, XDNSPrefetchControl,
        XDownloadOptions, XFrameOptions, XPermittedCrossDomainPolicies, XXSSProtection,
    };
    Helmet::new()
        .add(CrossOriginOpenerPolicy::same_origin())
        .add(CrossOriginResourcePolicy::same_origin())
        .add(OriginAgentCluster::new(true))
        .add(ReferrerPolicy::no_referrer())
        .add(
            StrictTransportSecurity::new()
                .max_age(15_552_000)
                .include_sub_domains(),
        )
        .add(XContentTypeOptions::nosniff())
        .add(XDNSPrefetchControl::off())
        .add(XDownloadOptions::noopen())
        .add(XFrameOptions::same_origin())
        .add(XPermittedCrossDomainPolicies::none())
        .add(XXSSProtection::off())
        .try_into()
        .expect("valid")
}

/// axum-helmet plus a nonce middleware: the peer of Mitten's header path.
pub fn peer_headers() -> Router {
    bare()
        .layer(middleware::from_fn(nonce_middleware))
        .layer(helmet())
}

/// axum-helmet + a nonce middleware + tower-http's `csrf` (origin checks) + axum_csrf (tokens) +
/// tower-sessions with its memory store.
pub fn peer_full() -> Router {
    use axum_csrf::{CsrfConfig, CsrfToken};
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
    Router::new()
        .route(
            "/",
            get(|session: Session, token: CsrfToken| async move {
                session.insert("user", "alice").await.expect("insert");
                let form = format!(
                    r#"<form><input name="authenticity_token" value="{}"></form>"#,
                    token.authenticity_token().expect("token")
                );
                (token, Html(form)).into_response()
            })
            .post(
                |session: Session, token: CsrfToken, Form(form): Form<PeerNoteForm>| async move {
                    if token.verify(&form.authenticity_token).is_err() {
                        return (axum::http::StatusCode::FORBIDDEN, "bad token").into_response();
                    }
                    let user: Option<String> = session.get("user").await.expect("session");
                    format!("{} by {}", form.text, user.unwrap_or_default()).into_response()
                },
            ),
        )
        .with_state(CsrfConfig::default())
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false))
        .layer(tower_http_07::csrf::CsrfLayer::new())
        .layer(middleware::from_fn(nonce_middleware))
        .layer(helmet())
}

/// Every stack, named as the benchmark tables name them, in the order they are reported, as a
/// server runs it.
///
/// A `Router` called as a service before `with_state` turns each handler into a route, and
/// applies every layer to it, on every request; `axum::serve` calls `with_state(())` once, so
/// the in-process benchmarks do too (without it they would measure the layers being built).
pub fn all() -> [(&'static str, Router); 6] {
    [
        ("bare axum", bare()),
        ("a pass-through layer", pass_through()),
        ("mitten headers", mitten_headers()),
        ("peer headers (axum-helmet + nonce)", peer_headers()),
        ("mitten full", mitten_full()),
        (
            "peer full (helmet, nonce, tower-http csrf, axum_csrf, tower-sessions)",
            peer_full(),
        ),
    ]
    .map(|(name, router)| (name, router.with_state(())))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::http::header::CONTENT_SECURITY_POLICY;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    /// A response's status, its header names in order, and how many bytes its headers and body
    /// take: what the wire carries, whatever the nonce, token or session ID in it.
    async fn shape(app: &Router, request: axum::extract::Request) -> (u16, Vec<String>, usize) {
        let response = app.clone().oneshot(request).await.expect("response");
        let status = response.status().as_u16();
        let names = response.headers().keys().map(|n| n.to_string()).collect();
        let header_bytes: usize = response
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let body = response.into_body().collect().await.expect("body");
        (status, names, header_bytes + body.to_bytes().len())
    }

    /// Each control sends, to each of the three requests, a response of the same size and headers
    /// as the stack it stands for: the load test's gap between the two is Mitten's work alone.
    #[tokio::test]
    async fn each_control_sends_what_its_stack_sends() {
        let pairs = [
            (super::mitten_headers(), super::mitten_header_bytes().await),
            (super::mitten_full(), super::mitten_bytes().await),
        ];
        for (stack, control) in pairs {
            let stack = stack.with_state(());
            let visit = crate::visit::Visit::first(&stack).await;
            let requests = || [crate::visit::get(), visit.get(), visit.post()];
            for (to_stack, to_control) in requests().into_iter().zip(requests()) {
                let expected = shape(&stack, to_stack).await;
                assert_eq!(expected.0, 200);
                assert_eq!(shape(&control, to_control).await, expected);
            }
        }
    }

    /// The header stacks compared must both send a per-request nonce in their CSP: a peer whose
    /// static policy replaced the nonce'd one would be measured doing less than Mitten.
    #[tokio::test]
    async fn every_protected_stack_sends_a_nonce_in_its_policy() {
        let stacks = [
            ("mitten headers", super::mitten_headers()),
            ("mitten full", super::mitten_full()),
            ("peer headers", super::peer_headers()),
            ("peer full", super::peer_full()),
        ];
        for (name, router) in stacks {
            let response = router
                .with_state(())
                .oneshot(crate::visit::get())
                .await
                .expect("response");
            let csp = response
                .headers()
                .get(CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                csp.contains("script-src 'nonce-"),
                "{name} sends no nonce: {csp:?}"
            );
            assert_eq!(
                response
                    .headers()
                    .get_all(CONTENT_SECURITY_POLICY)
                    .iter()
                    .count(),
                1,
                "{name}"
            );
        }
    }
}
