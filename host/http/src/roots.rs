//! CA roots for a system that has none (a bare container image). Every HTTPS
//! client in the process (the users', the flag service's, the OTLP
//! exporters') finds its roots through `SSL_CERT_FILE`/`SSL_CERT_DIR` or the
//! system's store; when none of them holds a certificate, wasp writes the
//! Mozilla roots it carries (`webpki-root-certs`) to a file and points
//! `SSL_CERT_FILE` at it, so that plain-HTTP runs work and HTTPS still verifies.

use base64::Engine as _;
use std::path::{Path, PathBuf};

/// The bundled roots as one PEM file.
fn bundle() -> String {
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem
}

/// Writes `text` to `path` unless it already holds it (write, then rename).
fn put(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Where the bundle goes: the temporary directory, per process if the shared
/// name is taken by someone else.
fn place(text: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir();
    let shared = dir.join("wasp-ca-roots.pem");
    if put(&shared, text).is_ok() {
        return Ok(shared);
    }
    let own = dir.join(format!("wasp-ca-roots-{}.pem", std::process::id()));
    put(&own, text).map_err(|e| format!("cannot write {}: {e}", own.display()))?;
    Ok(own)
}

/// When no CA certificate can be found, points `SSL_CERT_FILE` at the bundled
/// roots and says so (a warning to log). Call at start, before any thread.
pub fn fall_back_if_none() -> Option<String> {
    let found = rustls_native_certs::load_native_certs();
    if !found.certs.is_empty() {
        return None;
    }
    let why = match found.errors.first() {
        Some(e) => format!("no CA certificates found ({e})"),
        None => "no CA certificates found on this system".to_string(),
    };
    match place(&bundle()) {
        Ok(path) => {
            // SAFETY of intent: called before the runtime starts any thread.
            std::env::set_var("SSL_CERT_FILE", &path);
            std::env::remove_var("SSL_CERT_DIR");
            Some(format!(
                "{why}: HTTPS trusts the Mozilla roots built into wasp instead ({}; install ca-certificates, or set SSL_CERT_FILE to a bundle)",
                path.display()
            ))
        }
        Err(e) => Some(format!("{why}, and the roots built into wasp could not be put in place ({e}): HTTPS requests will fail")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_pem_that_rustls_reads_back_whole() {
        let pem = bundle();
        let certs: Vec<_> = rustls_native_certs_pem(&pem);
        assert_eq!(certs.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(certs.len() > 100);
        assert_eq!(certs[0].as_ref(), webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref());
    }

    fn rustls_native_certs_pem(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()).map(|c| c.unwrap()).collect()
    }
}
