//! TLS with rustls: custom CA, client certificate, verification on by
//! default, TLS 1.2 minimum, the server's name or IP address checked.

use crate::config::TlsConfig;
use crate::error::BoxError;
use crate::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

fn file_error(path: &Path, what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Config {
        message: format!("{}: cannot read {what}", path.display()),
        source: Some(Box::new(e)),
    }
}

/// Builds the client configuration; every file problem names the file.
pub(super) fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // rustls speaks TLS 1.2 and 1.3 only: 1.2 is the minimum.
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config {
            message: "TLS setup".into(),
            source: Some(Box::new(e)),
        })?;
    let builder = if tls.verify {
        let Some(ca) = tls.ca.as_deref() else {
            return client_identity(builder.with_root_certificates(system_roots()?), tls);
        };
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(ca)
            .map_err(|e| file_error(ca, "the CA certificate", e))?;
        for cert in certs {
            let cert = cert.map_err(|e| file_error(ca, "the CA certificate", e))?;
            roots
                .add(cert)
                .map_err(|e| file_error(ca, "the CA certificate", e))?;
        }
        if roots.is_empty() {
            return Err(Error::config(format!(
                "{}: no certificate in it",
                ca.display()
            )));
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    };
    client_identity(builder, tls)
}

/// The system's root certificates, for a verified connection with no CA
/// file (an `https://` daemon behind a public certificate): the platform's
/// store, or the file `SSL_CERT_FILE` / directory `SSL_CERT_DIR` name.
fn system_roots() -> Result<RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(Error::config(format!(
            "TLS verification has no CA file (ca.pem) and no system root certificate was found{why}"
        )));
    }
    Ok(roots)
}

/// The client certificate, when there is one.
fn client_identity(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    tls: &TlsConfig,
) -> Result<rustls::ClientConfig> {
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| file_error(cert, "the client certificate", e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| file_error(cert, "the client certificate", e))?;
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| file_error(key, "the client key", e))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| Error::Config {
                    message: format!(
                        "{} and {} do not form a usable client identity",
                        cert.display(),
                        key.display()
                    ),
                    source: Some(Box::new(e)),
                })
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// Connects TLS over `tcp`, checking the certificate against `host` (a DNS
/// name or an IP address).
pub(super) async fn handshake(
    config: Arc<rustls::ClientConfig>,
    host: &str,
    tcp: tokio::net::TcpStream,
) -> std::result::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, BoxError> {
    let name = ServerName::try_from(host.to_owned())?;
    Ok(tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?)
}

/// `DOCKER_TLS` without `DOCKER_TLS_VERIFY`, or a context's `SkipTLSVerify`:
/// encryption without checking who answers (as the docker CLI does).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
