//! The accept loop: TLS or plain, telling Mitten how each request arrived, with graceful shutdown.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mitten::ConnectionInfo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// Runs one connection, asking it to finish gracefully when shutdown is signalled. (A macro,
/// because the connection's type differs between TLS and plain streams.)
macro_rules! drive {
    ($connection:expr, $shutdown:expr) => {{
        let connection = $connection;
        tokio::pin!(connection);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    break;
                }
                _ = $shutdown.changed() => connection.as_mut().graceful_shutdown(),
            }
        }
    }};
}

/// How long open connections get to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` turns true, then lets open connections finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let app = app.clone();
        let tls = tls.clone();
        let mut shutdown = shutdown.clone();
        connections.spawn(async move {
            let info = ConnectionInfo {
                peer: Some(peer),
                tls: tls.is_some(),
            };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(info);
                    let mut app = app.clone();
                    async move {
                        Ok::<_, Infallible>(
                            app.call(request)
                                .await
                                .unwrap_or_else(|never| match never {}),
                        )
                    }
                });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // WebSockets over HTTP/2 (RFC 8441's extended CONNECT), as `axum::serve` allows.
            builder.http2().enable_connect_protocol();
            match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        drive!(
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service),
                            shutdown
                        );
                    }
                    Err(error) => tracing::debug!(%error, "TLS handshake failed"),
                },
                None => {
                    drive!(
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service),
                        shutdown
                    );
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    tracing::debug!("accept loop stopped");
    if tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
}
