//! TLS in the binary (rustls, with the ring provider): `https://` and `wss://` without
//! a proxy. The certificate and key are PEM files (`TLS_CERT`, `TLS_KEY`); they are read
//! again on SIGHUP and when either file changes (a renewal by certbot or an ACME
//! client), and a bad pair is refused with a log line while the one in use stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

/// How often the files are looked at for a change.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// The certificate in use, and where it comes from.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times when last read.
    read_at: RwLock<(Option<SystemTime>, Option<SystemTime>)>,
}

impl Certificates {
    /// Read the pair; an error names the file and what is wrong with it.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Certificates>, String> {
        let read_at = (modified(cert), modified(key));
        let current = read_pair(cert, key)?;
        Ok(Arc::new(Certificates {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(current),
            read_at: RwLock::new(read_at),
        }))
    }

    /// Read the files again; on failure keep the pair in use.
    pub fn reload(&self, why: &str) {
        let read_at = (modified(&self.cert), modified(&self.key));
        if let Ok(mut at) = self.read_at.write() {
            *at = read_at;
        }
        match read_pair(&self.cert, &self.key) {
            Ok(pair) => {
                if let Ok(mut current) = self.current.write() {
                    *current = pair;
                }
                log::info!("TLS certificate reloaded ({why})");
            }
            Err(e) => log::error!("TLS certificate not reloaded ({why}), keeping the old one: {e}"),
        }
    }

    fn changed(&self) -> bool {
        let now = (modified(&self.cert), modified(&self.key));
        self.read_at.read().is_ok_and(|at| *at != now)
    }

    /// Reload on SIGHUP and when a file changes, for as long as the server runs.
    pub fn watch(self: Arc<Self>) {
        actix_web::rt::spawn(async move {
            let mut hangup =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        log::warn!("SIGHUP cannot reload the TLS certificate: {e}");
                        None
                    }
                };
            let mut tick = tokio::time::interval(WATCH_EVERY);
            loop {
                let hup = async {
                    match hangup.as_mut() {
                        Some(s) => s.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = hup => self.reload("SIGHUP"),
                    _ = tick.tick() => {
                        if self.changed() {
                            self.reload("the files changed");
                        }
                    }
                }
            }
        });
    }

    /// A rustls configuration that serves whatever pair is current.
    pub fn server_config(self: &Arc<Self>) -> Result<ServerConfig, String> {
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        Ok(config)
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_pair(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("TLS_CERT {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS_CERT {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "TLS_CERT {}: no certificate in it (PEM expected)",
            cert.display()
        ));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("TLS_KEY {}: {e}", key.display()))?;
    let signing = ring::sign::any_supported_type(&private)
        .map_err(|e| format!("TLS_KEY {}: {e}", key.display()))?;
    let pair = CertifiedKey::new(chain, signing);
    // The key must be the certificate's: a mismatch would fail every handshake.
    pair.keys_match()
        .map_err(|e| format!("TLS_CERT and TLS_KEY do not belong together: {e}"))?;
    Ok(Arc::new(pair))
}
