//! The Mitten demo: a small notes app that shows every protection Mitten gives, on its default
//! (strict) configuration. See DEMO.md and the README.

mod app;
mod auth;
mod endpoints;
mod notes;
mod options;
mod server;
mod tls;
mod uploads;

use std::process::ExitCode;

use mitten::csp::ContentSecurityPolicy;
use mitten::csrf::CsrfConfig;
use mitten::headers::{FrameOptions, SecurityHeaders};
use mitten::https::HttpsRedirect;
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{Config, Mitten};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;

use crate::options::{Options, USAGE};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(options) => options,
        Err(message) => {
            if message.is_empty() {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("mitten-demo: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mitten-demo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), Error> {
    let scratch = std::env::temp_dir().join(format!("mitten-demo-{}", std::process::id()));
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| scratch.join("uploads"));
    std::fs::create_dir_all(&data_dir)?;

    let tls = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => Some(tls::from_files(cert, key)?),
        _ if options.tls => {
            let (acceptor, cert_path) = tls::self_signed(&scratch)?;
            println!(
                "self-signed certificate for localhost and 127.0.0.1 written to {}",
                cert_path.display()
            );
            Some(acceptor)
        }
        _ => None,
    };

    let listener = TcpListener::bind(options.addr).await?;
    let bound = listener.local_addr()?;
    let public_origin = match &options.public_origin {
        Some(origin) => origin.clone(),
        None => Options {
            addr: bound,
            ..options.clone()
        }
        .public_origin(),
    };

    let sessions = match &options.redis {
        Some(url) => {
            let store = mitten_redis::RedisStore::connect(url).await?;
            println!("sessions are kept in Redis");
            Sessions::new(store, SessionConfig::new())?
        }
        None => Sessions::new(MemoryStore::new(100_000), SessionConfig::new())?,
    };
    let mut csrf = CsrfConfig::new()
        .exempt("/hooks/echo")
        .exempt("/csp-report")
        .token_in_json()
        .body_limit_for("/upload", uploads::MAX_UPLOAD_BYTES as usize + 64 * 1024);
    // Without --public-origin, origins are compared with the request's own (scheme and Host),
    // so the demo works as http://127.0.0.1:8080 and as http://localhost:8080.
    if let Some(origin) = &options.public_origin {
        csrf = csrf.public_origin(origin);
    }
    let mut headers = SecurityHeaders::strict();
    if options.csp_report_only {
        headers = headers.csp(
            ContentSecurityPolicy::strict()
                .report_uri("/csp-report")
                .report_only(),
        );
    }
    let mitten = if options.danger_unprotected {
        eprintln!(
            "mitten-demo: --danger-unprotected: CSP, framing protection, CORP, nosniff and the JSON guard are OFF, CSRF report-only (tests only)"
        );
        let headers = headers
            .danger_without_csp()
            .frame_options(FrameOptions::DangerAllowAny)
            .cross_origin_resource_policy(None)
            .nosniff(false);
        // Report-only: every check runs and logs, none refuses.
        Mitten::new(Config::strict().headers(headers))?
            .with_sessions(sessions)
            .with_csrf(csrf.report_only())?
    } else {
        Mitten::new(Config::strict().headers(headers))?
            .with_sessions(sessions)
            .with_csrf(csrf)?
    };
    let app = app::routes(
        app::AppState::new(data_dir.clone()),
        !options.danger_unprotected,
    )
    .layer(CatchPanicLayer::new())
    .layer(mitten.layer());

    let (stop, stopped) = watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    if let Some(redirect_addr) = options.redirect_http {
        let redirect_listener = TcpListener::bind(redirect_addr).await?;
        // The same app behind a policy that redirects every plain request to the public origin:
        // the redirect is decided before routing, so no handler runs.
        let redirect = Mitten::new(
            Config::strict().https_redirect(
                HttpsRedirect::new()
                    .include_loopback()
                    .to_origin(&public_origin)?,
            ),
        )?;
        let redirect_app =
            app::routes(app::AppState::new(data_dir.clone()), true).layer(redirect.layer());
        println!(
            "redirecting http://{} to {public_origin}",
            redirect_listener.local_addr()?
        );
        servers.spawn(server::serve(
            redirect_listener,
            redirect_app,
            None,
            stopped.clone(),
        ));
    }
    servers.spawn(server::serve(listener, app, tls, stopped));
    println!("uploads are stored in {}", data_dir.display());
    println!("listening on {public_origin}");

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    while servers.join_next().await.is_some() {}
    tracing::debug!("servers stopped");
    // The scratch directory (certificate, default uploads) goes; a `--data-dir` the user
    // chose is outside it and stays.
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
