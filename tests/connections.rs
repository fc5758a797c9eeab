//! End-to-end tests of the users' connections: each user owns its keep-alive
//! connections (the target sees one per user, and a stopped user's close),
//! `--shared-connections` pools them, and HTTPS works through rustls with the
//! platform's verifier (a private CA by SSL_CERT_FILE).

mod common;

use common::demo::{eventually, free_port};
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_owns_one_keep_alive_connection() {
    let t = target().await;
    let r = run(&plugin("quickstart"), &["-H", &t.url(), "-u", "50", "-r", "25", "-t", "3s", "--wait", "50ms..100ms", "--stop-timeout", "5s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json["peak_users"], 50);
    assert!(t.total() > 300, "{} requests", t.total());
    assert_eq!(t.accepted(), 50, "one connection per user, kept alive for {} requests", t.total());
    eventually("every connection closed", Duration::from_secs(5), || async { (t.open() == 0).then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_connections_pool_the_users() {
    let t = target().await;
    // Users start 40 ms apart and wait 50-100 ms between 1 ms requests: few
    // are ever in flight together, so a shared pool needs few connections.
    let r = run(
        &plugin("quickstart"),
        &["-H", &t.url(), "-u", "50", "-r", "25", "-t", "3s", "--wait", "50ms..100ms", "--stop-timeout", "5s", "--shared-connections"],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.total() > 300);
    assert!((1..25).contains(&t.accepted()), "{} connections for 50 users sharing a pool", t.accepted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_users_connections_close_with_it() {
    let t = target().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = wasp()
        .arg("run")
        .arg(plugin("quickstart"))
        .args(["-H", &t.url(), "--wait", "20ms", "--web-port", &port.to_string(), "--stop-timeout", "5s"])
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let api = |p: &str| format!("http://127.0.0.1:{port}/{p}");
    let post = |p: &'static str, body: Value| {
        let (http, url) = (http.clone(), api(p));
        async move { http.post(url).json(&body).send().await.unwrap().status().as_u16() }
    };
    eventually("the API", Duration::from_secs(30), || async { http.get(api("api/state")).send().await.ok() }).await;
    assert_eq!(post("api/start", json!({"users": 10, "spawn_rate": 100})).await, 202);
    eventually("10 users, 10 connections", Duration::from_secs(15), || async { (t.open() == 10 && t.total() > 100).then_some(()) }).await;
    assert_eq!(post("api/resize", json!({"users": 3, "spawn_rate": 100})).await, 200);
    eventually("the 7 stopped users' connections closed", Duration::from_secs(15), || async { (t.open() == 3).then_some(()) }).await;
    let before = t.total();
    eventually("the 3 users go on", Duration::from_secs(10), || async { (t.total() > before + 30).then_some(()) }).await;
    assert_eq!(t.accepted(), 10, "the users that stayed kept their connections");
    assert_eq!(post("api/stop", json!({})).await, 202);
    eventually("no connection left once the run stopped (wasp still up)", Duration::from_secs(15), || async { (t.open() == 0).then_some(()) }).await;
    assert!(http.get(api("api/state")).send().await.is_ok());
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(finish(child, None).await.code, 0);
}

/// A CA and a certificate for localhost/127.0.0.1 signed by it (openssl CLI).
fn make_certs(dir: &Path) {
    let sh = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    sh(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=wasp test CA",
    ]);
    sh(&["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    sh(&["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"]);
}

/// The test target's routes behind TLS: the handshake is done as each
/// connection is accepted.
struct TlsListener {
    inner: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if let Ok((tcp, addr)) = self.inner.accept().await {
                if let Ok(tls) = self.acceptor.accept(tcp).await {
                    return (tls, addr);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

async fn tls_target(dir: &Path) -> (String, tokio::task::JoinHandle<()>, Arc<std::sync::atomic::AtomicU64>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("leaf.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap();
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = served.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let count = count.clone();
            async move {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                "secure"
            }
        }),
    );
    let inner = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = inner.local_addr().unwrap().port();
    let listener = TlsListener { inner, acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)) };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("https://localhost:{port}"), task, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_works_with_a_trusted_ca_and_fails_cleanly_without() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let (url, server, served) = tls_target(dir.path()).await;
    let ca = dir.path().join("ca.pem");
    let args = ["-H", url.as_str(), "-E", "write", "-u", "3", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s"];
    let trusted = run_env(&plugin("quickstart"), &args, &[("SSL_CERT_FILE", ca.to_str().unwrap())]).await;
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    let count = trusted.json["total"]["count"].as_u64().unwrap();
    assert!(count > 20 && trusted.json["total"]["failures"] == 0, "{}", trusted.json["total"]);
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), count, "every request answered over TLS");
    // The system's roots do not know the test CA: every request fails to connect, naming the certificate.
    let untrusted = run_env(&plugin("quickstart"), &args, &[("SSL_CERT_FILE", "/nonexistent")]).await;
    assert_eq!(untrusted.code, 1, "{}", untrusted.stderr);
    let fails = failures(&untrusted.json);
    assert!(!fails.is_empty() && fails.iter().all(|(_, e, _)| e.starts_with("connect") && e.to_lowercase().contains("certificate")), "{fails:?}");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), count, "no request got through");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_without_ca_certificates_still_runs_plain_http() {
    // As in a bare container image: no CA certificates anywhere wasp looks.
    let empty = tempfile::tempdir().unwrap();
    let bundle = empty.path().join("none.pem");
    std::fs::write(&bundle, "").unwrap();
    let t = target().await;
    let url = t.url();
    let args = ["-H", url.as_str(), "-E", "write", "-u", "2", "-r", "100", "-t", "1s", "--wait", "20ms"];
    let r = run_env(&plugin("quickstart"), &args, &[("SSL_CERT_FILE", bundle.to_str().unwrap()), ("SSL_CERT_DIR", empty.path().to_str().unwrap())]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json["total"]["count"].as_u64().unwrap() > 0);
    assert_eq!(r.json["total"]["count"].as_u64().unwrap(), t.total());
    let warned = r.stderr.lines().filter(|l| l.contains("WARN") && l.contains("Mozilla roots built into wasp")).count();
    assert_eq!(warned, 1, "one warning naming the fallback:\n{}", r.stderr);
}

/// `HTTP_PROXY` with credentials: every request reaches the target through
/// the proxy (one proxied connection per user, each request in absolute
/// form with `Proxy-Authorization`), and `NO_PROXY` sends them straight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_goes_through_http_proxy_unless_no_proxy_says_otherwise() {
    let t = target().await;
    let proxy = proxy::start().await;
    let with_auth = proxy.url().replace("http://", "http://tester:p%40ss@");
    let args = ["-H", &t.url(), "-u", "3", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s"];
    let r = run_env(&plugin("quickstart"), &args, &[("HTTP_PROXY", &with_auth), ("NO_PROXY", "example.invalid")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let count = r.json["total"]["count"].as_u64().unwrap();
    assert!(count > 20 && t.total() == count, "{count} counted, {} served", t.total());
    let asked = proxy.asked();
    assert_eq!(asked.len(), 3, "one proxied connection per user: {asked:?}");
    let origin = t.url();
    assert!(asked.iter().all(|a| a.line.starts_with(&format!("GET {origin}/")) || a.line.starts_with(&format!("POST {origin}/"))), "absolute form: {asked:?}");
    // "tester:p@ss", percent-decoded from the URL, in base64.
    let expected = "Basic dGVzdGVyOnBAc3M=";
    assert!(asked.iter().all(|a| a.auth.as_deref() == Some(expected)), "{asked:?}");
    let seen = t.seen.lock().unwrap().headers.clone();
    assert!(seen.iter().all(|(_, h)| h.get("proxy-authorization").is_some_and(|v| v == expected)), "every request came through the proxy");
    assert_eq!(t.accepted(), 3, "the target saw only the proxy's connections");

    let direct = target().await;
    let args = ["-H", &direct.url(), "-u", "2", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s"];
    let r = run_env(&plugin("quickstart"), &args, &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", "localhost,127.0.0.0/8")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(direct.total() > 10 && r.json["total"]["count"].as_u64() == Some(direct.total()));
    assert_eq!(proxy.asked().len(), 3, "NO_PROXY: nothing more went through the proxy");
    let seen = direct.seen.lock().unwrap().headers.clone();
    assert!(seen.iter().all(|(_, h)| h.get("proxy-authorization").is_none()));

    // A proxy variable that is no URL is ignored, as curl ignores it, and wasp says so.
    let bad = target().await;
    let args = ["-H", &bad.url(), "-u", "2", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s"];
    let r = run_env(&plugin("quickstart"), &args, &[("HTTP_PROXY", "http://[oops")]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP_PROXY is set to something that is no proxy URL") && !r.stderr.contains("[oops"), "{}", r.stderr);
    assert!(bad.total() > 10 && r.json["total"]["count"].as_u64() == Some(bad.total()), "straight to the target");
    assert_eq!(proxy.asked().len(), 3, "nothing more went through the proxy");
    t.stop().await;
    direct.stop().await;
    bad.stop().await;
}

/// `HTTPS_PROXY`: each user's connection is a CONNECT tunnel, and TLS runs
/// end to end inside it (the private CA is checked as without a proxy). A
/// proxy wasp cannot speak to (SOCKS) fails the requests as `connect`, by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_a_connect_tunnel_and_unsupported_proxies_fail_by_name() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let (url, server, served) = tls_target(dir.path()).await;
    let proxy = proxy::start().await;
    let ca = dir.path().join("ca.pem");
    let args = ["-H", url.as_str(), "-u", "3", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s", "-E", "write"];
    let r = run_env(&plugin("quickstart"), &args, &[("SSL_CERT_FILE", ca.to_str().unwrap()), ("HTTPS_PROXY", &proxy.url())]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let count = r.json["total"]["count"].as_u64().unwrap();
    assert!(count > 20 && served.load(std::sync::atomic::Ordering::SeqCst) == count, "{count}");
    let asked = proxy.asked();
    let authority = url.trim_start_matches("https://");
    assert_eq!(asked.len(), 3, "one tunnel per user: {asked:?}");
    assert!(asked.iter().all(|a| a.line == format!("CONNECT {authority} HTTP/1.1")), "{asked:?}");

    let r = run_env(&plugin("quickstart"), &args, &[("SSL_CERT_FILE", ca.to_str().unwrap()), ("HTTPS_PROXY", "socks5://127.0.0.1:9")]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let fails = failures(&r.json);
    assert!(!fails.is_empty() && fails.iter().all(|(_, e, _)| e.starts_with("connect") && e.contains("http:// proxies")), "{fails:?}");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), count, "nothing went out");
    server.abort();
}

/// Credentials in the URL (`http://user:pass@host/`) become a Basic
/// `Authorization` header, as curl, reqwest and Python's requests send them,
/// and are not in the request target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_url_are_sent_as_basic_authorization() {
    let t = target().await;
    let host = t.url().replace("http://", "http://alice:s%3Acret@");
    let r = run(&plugin("quickstart"), &["-H", &host, "-u", "2", "-r", "100", "-t", "1s", "--wait", "20ms", "--stop-timeout", "5s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.total() > 10);
    let seen = t.seen.lock().unwrap().headers.clone();
    // "alice:s:cret" in base64.
    assert!(seen.iter().all(|(_, h)| h.get("authorization").is_some_and(|v| v == "Basic YWxpY2U6czpjcmV0")), "{:?}", seen.first());
    t.stop().await;
}
