//! The requests the stack benchmarks send: a new visitor's GET, a returning visitor's GET (the
//! cookies of a prior visit) and a POST of the form with its token.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// What a browser holds after its first GET: the cookies it was given and the form to send.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The `Cookie` header value.
    pub cookies: String,
    /// The urlencoded form, with the token field the page rendered.
    pub form: String,
}

impl Visit {
    /// A first GET to `app`, as a browser: its cookies and the token its form carries.
    pub async fn first(app: &Router) -> Self {
        let response = app.clone().oneshot(get()).await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join("; ");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let page = String::from_utf8_lossy(&body).into_owned();
        let field = |name: &str| {
            page.find(&format!(r#"name="{name}" value=""#)).map(|at| {
                page[at + name.len() + 15..]
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        };
        let form = match (field("_csrf_token"), field("authenticity_token")) {
            (Some(token), _) => format!("text=hello&_csrf_token={token}"),
            (_, Some(token)) => format!(
                "text=hello&authenticity_token={}",
                token
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ),
            _ => "text=hello".to_owned(),
        };
        Self { cookies, form }
    }

    /// A returning visitor's GET: the cookies of this visit.
    pub fn get(&self) -> Request<Body> {
        Request::get("/")
            .header("host", "127.0.0.1:8080")
            .header("cookie", &self.cookies)
            .body(Body::empty())
            .expect("request")
    }

    /// The form POST with this visit's token and cookies.
    pub fn post(&self) -> Request<Body> {
        Request::post("/")
            .header("host", "127.0.0.1:8080")
            .header("origin", "http://127.0.0.1:8080")
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &self.cookies)
            .body(Body::from(self.form.clone()))
            .expect("request")
    }
}

/// A new visitor's GET: no cookies.
pub fn get() -> Request<Body> {
    Request::get("/")
        .header("host", "127.0.0.1:8080")
        .body(Body::empty())
        .expect("request")
}
