//! `serve --tls`: HTTPS for the clients that speak nothing else (the KPL,
//! Fluent Bit's Kinesis outputs), with a self-signed certificate made once
//! and kept in a folder, so that a client is told to trust it once. It names
//! `localhost`, `127.0.0.1`, `::1` and whatever else is asked for; a start
//! asking for other names makes a new one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The names every certificate holds.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

const CERTIFICATE_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";
/// The names the kept certificate was made for, one a line.
const NAMES_FILE: &str = "names.txt";

/// Why HTTPS cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls-dir {path}: {error}")]
    Io { path: String, error: io::Error },
    #[error("--tls-dir {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("cannot make a certificate for {names:?}: {message}")]
    Certificate { names: Vec<String>, message: String },
}

/// The certificate `serve` presents, and the server side of TLS with it.
pub struct Tls {
    /// The certificate, in PEM: what clients are told to trust.
    pub certificate: PathBuf,
    pub names: Vec<String>,
    /// Made now, not kept from an earlier start.
    pub made: bool,
    pub config: Arc<ServerConfig>,
}

impl Tls {
    /// The certificate kept in `dir` for `names` (with the loopback names),
    /// or a new one written there when there is none or it names others.
    pub fn load_or_make(dir: &Path, names: &[String]) -> Result<Tls, TlsError> {
        let mut wanted: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
        for name in names {
            if !wanted.contains(name) {
                wanted.push(name.clone());
            }
        }
        let at = |path: &Path| {
            let path = path.display().to_string();
            move |error: io::Error| TlsError::Io { path, error }
        };
        fs::create_dir_all(dir).map_err(at(dir))?;
        let (certificate, key) = (dir.join(CERTIFICATE_FILE), dir.join(KEY_FILE));
        let kept = fs::read_to_string(dir.join(NAMES_FILE)).ok();
        let made = kept.is_none_or(|kept| kept.lines().ne(wanted.iter().map(String::as_str)))
            || !certificate.exists()
            || !key.exists();
        if made {
            make(dir, &wanted).map_err(|e| match e {
                Made::Io(path, error) => at(&path)(error),
                Made::Rcgen(message) => TlsError::Certificate {
                    names: wanted.clone(),
                    message,
                },
            })?;
        }
        let unreadable = |path: &Path| {
            let path = path.display().to_string();
            move |e: rustls::pki_types::pem::Error| TlsError::Unreadable {
                path,
                message: e.to_string(),
            }
        };
        let chain = CertificateDer::pem_file_iter(&certificate)
            .map_err(unreadable(&certificate))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable(&certificate))?;
        let private_key = PrivateKeyDer::from_pem_file(&key).map_err(unreadable(&key))?;
        let config = server_config(chain, private_key).map_err(|e| TlsError::Unreadable {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Tls {
            // Whole, for the lines that tell clients where it is.
            certificate: fs::canonicalize(&certificate).unwrap_or(certificate),
            names: wanted,
            made,
            config: Arc::new(config),
        })
    }
}

/// Why a certificate could not be made.
enum Made {
    Io(PathBuf, io::Error),
    Rcgen(String),
}

/// Makes a self-signed certificate for `names` and writes it, its key
/// (readable by the owner only) and the names into `dir`.
fn make(dir: &Path, names: &[String]) -> Result<(), Made> {
    let made = rcgen::generate_simple_self_signed(names).map_err(|e| Made::Rcgen(e.to_string()))?;
    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        write_private(&path, text).map_err(|e| Made::Io(path, e))
    };
    write(KEY_FILE, &made.signing_key.serialize_pem())?;
    write(CERTIFICATE_FILE, &made.cert.pem())?;
    write(NAMES_FILE, &(names.join("\n") + "\n"))
}

fn write_private(path: &Path, text: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

/// TLS 1.2 and 1.3 with `chain`, through ring; HTTP/2 and HTTP/1.1 offered by ALPN.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, rustls::Error> {
    // Named, not the process default: the AWS SDK in a workspace build brings aws-lc-rs too.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tls-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_certificate_is_made_once_and_kept_until_other_names_are_asked_for() {
        let dir = dir("kept");
        let first = Tls::load_or_make(&dir, &[]).unwrap();
        assert!(first.made);
        assert_eq!(first.names, LOOPBACK_NAMES);
        let pem = fs::read(&first.certificate).unwrap();
        let again = Tls::load_or_make(&dir, &[]).unwrap();
        assert!(!again.made);
        assert_eq!(fs::read(&again.certificate).unwrap(), pem);
        let other = Tls::load_or_make(&dir, &["build-box.local".to_owned()]).unwrap();
        assert!(other.made);
        assert_ne!(fs::read(&other.certificate).unwrap(), pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is the owner's alone");
        }
    }

    #[test]
    fn a_kept_key_that_is_not_pem_is_refused_naming_the_folder() {
        let dir = dir("broken");
        Tls::load_or_make(&dir, &[]).unwrap();
        fs::write(dir.join(KEY_FILE), "not a key").unwrap();
        let error = Tls::load_or_make(&dir, &[]).err().unwrap().to_string();
        assert!(error.starts_with("--tls-dir"), "{error}");
    }
}
