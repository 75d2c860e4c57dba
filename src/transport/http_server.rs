//! The HTTP server: what actix-web's `HttpServer` builds (actix-http's service on
//! actix-server's workers), plus the upgrade service that takes WebSockets out of
//! their HTTP connections (`handover`). Anything that serves WebSockets from this
//! crate's connection actors runs on it.

use std::net::TcpListener;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{HttpService, KeepAlive, Request};
use actix_service::{map_config, IntoServiceFactory, ServiceFactory};
use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::{AppConfig, Server, ServiceResponse};
use actix_web::rt::net::TcpStream;

use crate::transport::handover;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Worker threads; unset: one per core.
    pub workers: Option<usize>,
    /// HTTP connections in progress per worker, and (counted apart) open WebSockets.
    pub max_connections: usize,
    /// A peer silent this long is dropped by the kernel (see `tune_socket`).
    pub client_timeout: Duration,
    /// Serve TLS (`https://`, `wss://`) with this configuration.
    pub tls: Option<rustls::ServerConfig>,
}

/// Serve the application that `app` builds (once per worker, and once more for the
/// upgrade service) on `listener`.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    settings: Settings,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<
            Request,
            Config = AppConfig,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let mut builder = actix_server::Server::build()
        .max_concurrent_connections(settings.max_connections)
        // Requests in progress get 3 s to finish on stop. WebSockets are not waited
        // for (they left their HTTP connection, see `handover`): a stopping worker
        // drops them, and their clients reconnect and resume by seq.
        .shutdown_timeout(3)
        // SIGTERM is the caller's (`startup::Shutdown`): clients are told to
        // reconnect before the server stops.
        .disable_signals();
    if let Some(w) = settings.workers {
        builder = builder.workers(w.max(1));
    }
    let shutdown = builder.graceful_shutdown_signal();
    let (timeout, max_open) = (settings.client_timeout, settings.max_connections);
    // One HTTP service, over plain TCP or TLS: `$io` is the connection's type and
    // `$tcp` the TCP stream under it.
    macro_rules! http_service {
        ($io:ty, $tcp:expr) => {{
            let application = || map_config(app().into_factory(), |_| AppConfig::default());
            let shutdown = shutdown.clone();
            HttpService::build()
                // actix-web's defaults.
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(addr)
                // Idle keep-alive connections close at once on shutdown.
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .on_connect_ext(move |io: &$io, _: &mut _| tune_socket($tcp(io), timeout))
                .upgrade(handover::service(application(), max_open))
                .finish(application())
        }};
    }
    let builder = match settings.tls {
        None => builder.listen("switchboard", listener, move || {
            http_service!(TcpStream, std::convert::identity).tcp()
        })?,
        Some(tls) => builder.listen("switchboard", listener, move || {
            http_service!(TlsStream<TcpStream>, plain).rustls_0_23(tls.clone())
        })?,
    };
    Ok(builder.run())
}

/// The TCP stream under a TLS connection.
fn plain(io: &TlsStream<TcpStream>) -> &TcpStream {
    io.get_ref().0
}

/// Chat frames are small and latency-bound: without TCP_NODELAY, Nagle's algorithm
/// holds them back until the peer's delayed ACK (~40 ms per hop on Linux).
/// A peer that stops reading stalls its connection actor, which then cannot close
/// itself; TCP_USER_TIMEOUT has the kernel drop a socket whose sent data (or zero-window
/// probes) go unacknowledged that long, and keepalive finds peers that vanished.
fn tune_socket(tcp: &TcpStream, timeout: Duration) {
    let _ = tcp.set_nodelay(true);
    let sock = socket2::SockRef::from(tcp);
    let _ = sock.set_tcp_user_timeout(Some(timeout));
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(timeout)
        .with_interval(timeout / 3);
    let _ = sock.set_tcp_keepalive(&keepalive);
}
