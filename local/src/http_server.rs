//! firehose-local's one HTTP server: hyper on a tokio runtime of its own
//! thread, HTTP/1.1 and HTTP/2 without TLS (prior knowledge) on one port, or
//! both over TLS (`serve --tls`).
//!
//! Every connection has `TCP_NODELAY`, and every body is sent whole with a
//! `Content-Length`, as Lambda's Runtime API sends them: without no-delay a
//! body's last segment can wait for the peer's delayed ACK (40 ms on Linux),
//! and a minimal custom runtime may not read a chunked body.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body as _;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

pub use hyper::body::Incoming;
pub use hyper::{Request, Response, StatusCode};

/// A body sent whole, so that it goes with a `Content-Length`.
pub type Body = Full<Bytes>;

/// Why a request's body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is longer than the reader accepts.
    #[error("the body is over {0} bytes")]
    TooLarge(usize),
    /// The connection failed while the body was read.
    #[error("reading the body failed: {0}")]
    Failed(String),
}

/// A running server; it stops when dropped, dropping its open connections.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `handler` on `listen` (port 0 takes a free one). Binding fails
    /// here, not later, when the address is taken.
    pub fn start<H, F>(listen: SocketAddr, handler: H) -> io::Result<Self>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Body>> + Send + 'static,
    {
        Self::start_with(listen, None, handler)
    }

    /// Serves `handler` over TLS with `config` (HTTP/2 or HTTP/1.1, as ALPN agrees).
    pub fn start_tls<H, F>(
        listen: SocketAddr,
        config: Arc<rustls::ServerConfig>,
        handler: H,
    ) -> io::Result<Self>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Body>> + Send + 'static,
    {
        Self::start_with(listen, Some(TlsAcceptor::from(config)), handler)
    }

    fn start_with<H, F>(
        listen: SocketAddr,
        tls: Option<TlsAcceptor>,
        handler: H,
    ) -> io::Result<Self>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Response<Body>> + Send + 'static,
    {
        let listener = TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new()
            .name(format!("http {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let accepting = tokio::spawn(accept(listener, handler, tls));
                    // The sender is dropped or used: either way, stop.
                    let _ = stopped.await;
                    accepting.abort();
                });
            })?;
        Ok(HttpServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept<H, F>(listener: TcpListener, handler: Arc<H>, tls: Option<TlsAcceptor>)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        // A failed accept (too many open files, a reset before accepting) ends
        // one connection, not the server; the pause keeps a lasting one from spinning.
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let answer = handler(request);
                async move { Ok::<_, Infallible>(answer.await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new());
            // A connection that fails (the peer hung up, or would not agree on TLS) is the peer's business.
            let _ = match tls {
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
                Some(tls) => match tls.accept(stream).await {
                    Ok(stream) => {
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    Err(_) => return,
                },
            };
        });
    }
}

/// Reads a request's body whole, refusing one over `limit` bytes.
pub async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, BodyError> {
    // A Content-Length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Err(e) => Err(BodyError::Failed(e.to_string())),
    }
}

/// A response of `status` with `body`.
pub fn respond(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    fn echo_server() -> HttpServer {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        HttpServer::start(loopback, |request: Request<Incoming>| async move {
            match read_body(request.into_body(), 4 << 20).await {
                Ok(body) => respond(StatusCode::OK, body),
                Err(e) => respond(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            }
        })
        .unwrap()
    }

    /// Sends `request` and reads until the server closes the connection.
    fn exchange(server: &HttpServer, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream.write_all(request).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        answer
    }

    #[test]
    fn a_large_body_is_sent_with_its_length_not_chunked() {
        let server = echo_server();
        let body = vec![b'x'; 3 << 20];
        let mut request = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let answer = exchange(&server, &request);
        let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&answer[..end]).to_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(!head.contains("transfer-encoding"), "{head}");
        assert_eq!(answer.len() - end - 4, body.len());
    }

    #[test]
    fn a_body_over_the_limit_is_refused() {
        let server = echo_server();
        let request =
            "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 5000000\r\n\r\n";
        let answer = exchange(&server, request.as_bytes());
        assert!(
            answer.starts_with(b"HTTP/1.1 413"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }

    #[test]
    fn http2_with_prior_knowledge_is_spoken_on_the_same_port() {
        let server = echo_server();
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        // The client preface, then an empty SETTINGS frame.
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .unwrap();
        stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
        let mut frame = [0; 9];
        stream.read_exact(&mut frame).unwrap();
        assert_eq!(
            frame[3], 4,
            "the server's first frame is SETTINGS: {frame:?}"
        );
    }
}
