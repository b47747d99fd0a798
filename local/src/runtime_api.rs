//! An emulated Lambda Runtime API on 127.0.0.1: hands out queued invocations
//! and collects what the function answers, as Lambda itself would.
//!
//! Like Lambda, it refuses a response over 6 MiB (HTTP 413) and records it as
//! a `Function.ResponseSizeTooLarge` error: Firehose would retry the batch.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::Method;
use hyper::body::Incoming;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::LocalError;
use crate::check::MAX_RESPONSE_BYTES;
use crate::http_server::{
    Body, BodyError, HttpServer, Request, Response, StatusCode, read_body, respond,
};

const PREFIX: &str = "/2018-06-01/runtime";

/// The most of an error report read; a longer one is reported as too long.
const MAX_ERROR_BYTES: usize = 1 << 20;

/// What the function said about one invocation, or about its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `POST /invocation/{id}/response`: the body it returned.
    Response(Vec<u8>),
    /// `POST /invocation/{id}/error`, or a response Lambda would refuse.
    Error { error_type: String, message: String },
    /// `POST /init/error`: the function could not start.
    InitError { error_type: String, message: String },
}

/// A queued invocation: its request id, payload, and deadline in epoch milliseconds.
struct Invocation {
    id: String,
    payload: Vec<u8>,
    deadline: u128,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    /// A `GET /invocation/next` waiting for work.
    waiting: Option<oneshot::Sender<Invocation>>,
    replies: HashMap<String, Reply>,
    init_error: Option<Reply>,
    next_id: u64,
    /// When the function first asked for work: the end of its start-up.
    first_poll: Option<Instant>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    function_name: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update; the state is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The emulated Runtime API; it stops when dropped.
pub struct RuntimeApi {
    server: HttpServer,
    shared: Arc<Shared>,
}

impl RuntimeApi {
    /// Starts on a free port of 127.0.0.1.
    pub fn start(function_name: &str) -> Result<Self, LocalError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            function_name: function_name.to_owned(),
        });
        let routed = Arc::clone(&shared);
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server =
            HttpServer::start(loopback, move |request| route(Arc::clone(&routed), request))
                .map_err(|e| LocalError::Server(e.to_string()))?;
        Ok(RuntimeApi { server, shared })
    }

    /// The `host:port` to give the function as `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr().to_string()
    }

    /// Queues an invocation that may take `timeout` (the function's own, as
    /// Lambda tells it in `Lambda-Runtime-Deadline-Ms`); returns its request id.
    pub fn enqueue(&self, payload: Vec<u8>, timeout: Duration) -> String {
        let deadline = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut state = self.shared.lock();
        state.next_id += 1;
        let id = format!("local-{:04}", state.next_id);
        state.queue.push_back(Invocation {
            id: id.clone(),
            payload,
            deadline,
        });
        hand_out(&mut state);
        id
    }

    /// When the function first asked for an invocation, if it has.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.lock().first_poll
    }

    /// Waits for the reply to `id` (or an init error) until `deadline`, asking
    /// `gone` between waits whether the function has exited: before taking
    /// `id` from `/next`, having taken earlier ones, is
    /// [`LocalError::ExitedBeforeTaking`]; any other exit, [`LocalError::Exited`].
    pub fn wait(
        &self,
        id: &str,
        deadline: Instant,
        mut gone: impl FnMut() -> bool,
    ) -> Result<Reply, LocalError> {
        let mut state = self.shared.lock();
        loop {
            if let Some(reply) = state.replies.remove(id) {
                return Ok(reply);
            }
            if let Some(init) = state.init_error.clone() {
                return Ok(init);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LocalError::Timeout);
            }
            if gone() {
                // Still queued: the process ended before it asked for this invocation.
                let queued = state.queue.iter().position(|queued| queued.id == id);
                return Err(match (queued, state.first_poll) {
                    (Some(at), Some(_)) => {
                        state.queue.remove(at);
                        LocalError::ExitedBeforeTaking
                    }
                    _ => LocalError::Exited,
                });
            }
            let pause = (deadline - now).min(Duration::from_millis(50));
            state = self
                .shared
                .changed
                .wait_timeout(state, pause)
                .map_or_else(|e| e.into_inner().0, |r| r.0);
        }
    }
}

async fn route(shared: Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let method = request.method().clone();
    let Some(path) = request.uri().path().strip_prefix(PREFIX).map(str::to_owned) else {
        return respond(StatusCode::NOT_FOUND, "unknown path");
    };
    match (method, path.as_str()) {
        (Method::GET, "/invocation/next") => next(&shared).await,
        (Method::POST, "/init/error") => {
            let (error_type, message) = error_report(request).await;
            shared.lock().init_error = Some(Reply::InitError {
                error_type,
                message,
            });
            shared.changed.notify_all();
            respond(StatusCode::ACCEPTED, "")
        }
        (Method::POST, path) => {
            let Some((id, kind)) = path
                .strip_prefix("/invocation/")
                .and_then(|rest| rest.split_once('/'))
            else {
                return respond(StatusCode::NOT_FOUND, "unknown path");
            };
            let id = id.to_owned();
            let reply = match kind {
                "response" => match read_body(request.into_body(), MAX_RESPONSE_BYTES).await {
                    Ok(body) => Reply::Response(Vec::from(body)),
                    Err(BodyError::TooLarge(_)) => {
                        record(&shared, id, too_large());
                        return respond(StatusCode::PAYLOAD_TOO_LARGE, "response too large");
                    }
                    Err(e @ BodyError::Failed(_)) => Reply::Error {
                        error_type: "Local.ReadFailed".to_owned(),
                        message: e.to_string(),
                    },
                },
                "error" => {
                    let (error_type, message) = error_report(request).await;
                    Reply::Error {
                        error_type,
                        message,
                    }
                }
                _ => return respond(StatusCode::NOT_FOUND, "unknown path"),
            };
            record(&shared, id, reply);
            respond(StatusCode::ACCEPTED, "")
        }
        _ => respond(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

/// `GET /invocation/next`: waits for the next invocation and hands it out.
async fn next(shared: &Shared) -> Response<Body> {
    let (sender, receiver) = oneshot::channel();
    {
        let mut state = shared.lock();
        state.first_poll.get_or_insert_with(Instant::now);
        state.waiting = Some(sender);
        hand_out(&mut state);
    }
    // A newer `/next` took this one's place: the function hung up on this one.
    let Ok(invocation) = receiver.await else {
        return respond(StatusCode::CONFLICT, "another request is waiting for work");
    };
    let arn = format!(
        "arn:aws:lambda:us-east-1:000000000000:function:{}",
        shared.function_name
    );
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        ("Lambda-Runtime-Aws-Request-Id", invocation.id),
        (
            "Lambda-Runtime-Deadline-Ms",
            invocation.deadline.to_string(),
        ),
        ("Lambda-Runtime-Invoked-Function-Arn", arn),
        (
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
    ];
    let mut response = respond(StatusCode::OK, invocation.payload);
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn too_large() -> Reply {
    Reply::Error {
        error_type: "Function.ResponseSizeTooLarge".to_owned(),
        message: format!("the response is over Lambda's {MAX_RESPONSE_BYTES}-byte limit"),
    }
}

fn record(shared: &Shared, id: String, reply: Reply) {
    shared.lock().replies.insert(id, reply);
    shared.changed.notify_all();
}

/// Gives the waiting `GET /invocation/next`, if any, the next queued invocation.
fn hand_out(state: &mut State) {
    while let Some(waiting) = state.waiting.take() {
        let Some(invocation) = state.queue.pop_front() else {
            state.waiting = Some(waiting);
            return;
        };
        // The function hung up on that request: the invocation waits for its next one.
        if let Err(invocation) = waiting.send(invocation) {
            state.queue.push_front(invocation);
        }
    }
}

/// The error type and message of an error report: its JSON body's
/// `errorType` and `errorMessage`, else the type header and the body's text.
async fn error_report(request: Request<Incoming>) -> (String, String) {
    let header_type = request
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match read_body(request.into_body(), MAX_ERROR_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            return (
                header_type.unwrap_or_else(|| "Unknown".to_owned()),
                e.to_string(),
            );
        }
    };
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v[name].as_str())
            .map(str::to_owned)
    };
    let error_type = field("errorType")
        .or(header_type)
        .unwrap_or_else(|| "Unknown".to_owned());
    let message =
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    (error_type, message)
}
