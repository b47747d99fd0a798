//! An emulated Lambda Runtime API on 127.0.0.1: hands out queued invocations
//! and collects what the function answers, as Lambda itself would.
//!
//! Like Lambda, it refuses a response over 6 MiB (HTTP 413) and records it as
//! a `Function.ResponseSizeTooLarge` error: Firehose would retry the batch.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::LocalError;
use crate::check::MAX_RESPONSE_BYTES;

const PREFIX: &str = "/2018-06-01/runtime";

/// The most of an error report read; the rest is not needed to say what went wrong.
const MAX_ERROR_BYTES: u64 = 1 << 20;

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

#[derive(Default)]
struct State {
    /// Request id, payload, and deadline in epoch milliseconds.
    queue: VecDeque<(String, Vec<u8>, u128)>,
    /// A `GET /invocation/next` waiting for work.
    waiting: Option<Request>,
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
    server: Arc<Server>,
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Starts on a free port of 127.0.0.1.
    pub fn start(function_name: &str) -> Result<Self, LocalError> {
        let server = Server::http("127.0.0.1:0").map_err(|e| LocalError::Server(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| LocalError::Server("no TCP address".to_owned()))?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            function_name: function_name.to_owned(),
        });
        let thread = {
            let (server, shared) = (Arc::clone(&server), Arc::clone(&shared));
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    route(&shared, request);
                }
            })
        };
        Ok(RuntimeApi {
            server,
            shared,
            addr,
            thread: Some(thread),
        })
    }

    /// The `host:port` to give the function as `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
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
        state.queue.push_back((id.clone(), payload, deadline));
        hand_out(&self.shared, &mut state);
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
                let queued = state.queue.iter().position(|(queued, ..)| queued == id);
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

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn route(shared: &Shared, mut request: Request) {
    let url = request.url().to_owned();
    let Some(path) = url.strip_prefix(PREFIX) else {
        return respond(request, 404, b"unknown path");
    };
    match (request.method(), path) {
        (Method::Get, "/invocation/next") => {
            let mut state = shared.lock();
            state.first_poll.get_or_insert_with(Instant::now);
            state.waiting = Some(request);
            hand_out(shared, &mut state);
        }
        (Method::Post, "/init/error") => {
            let (error_type, message) = error_body(&mut request);
            respond(request, 202, b"");
            shared.lock().init_error = Some(Reply::InitError {
                error_type,
                message,
            });
            shared.changed.notify_all();
        }
        (Method::Post, path) => {
            let Some((id, kind)) = path
                .strip_prefix("/invocation/")
                .and_then(|rest| rest.split_once('/'))
            else {
                return respond(request, 404, b"unknown path");
            };
            let id = id.to_owned();
            let reply = match kind {
                "response" => {
                    let mut body = Vec::new();
                    // One byte past the limit tells an oversized body without reading it all.
                    let limit = MAX_RESPONSE_BYTES as u64 + 1;
                    if let Err(e) = request.as_reader().take(limit).read_to_end(&mut body) {
                        Reply::Error {
                            error_type: "Local.ReadFailed".to_owned(),
                            message: e.to_string(),
                        }
                    } else if body.len() > MAX_RESPONSE_BYTES {
                        respond(request, 413, b"response too large");
                        return record(shared, id, too_large());
                    } else {
                        Reply::Response(body)
                    }
                }
                "error" => {
                    let (error_type, message) = error_body(&mut request);
                    Reply::Error {
                        error_type,
                        message,
                    }
                }
                _ => return respond(request, 404, b"unknown path"),
            };
            respond(request, 202, b"");
            record(shared, id, reply);
        }
        _ => respond(request, 405, b"method not allowed"),
    }
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
fn hand_out(shared: &Shared, state: &mut State) {
    if state.waiting.is_none() || state.queue.is_empty() {
        return;
    }
    let (Some(request), Some((id, payload, deadline))) =
        (state.waiting.take(), state.queue.pop_front())
    else {
        return;
    };
    let arn = format!(
        "arn:aws:lambda:us-east-1:000000000000:function:{}",
        shared.function_name
    );
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        ("Lambda-Runtime-Aws-Request-Id", id),
        ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
        ("Lambda-Runtime-Invoked-Function-Arn", arn),
        (
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
    ];
    let mut response = Response::from_data(payload);
    for (name, value) in headers {
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response = response.with_header(header);
        }
    }
    // The function hung up: it will ask again, or the caller sees it exit.
    let _ = request.respond(response);
}

fn error_body(request: &mut Request) -> (String, String) {
    let header_type = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Lambda-Runtime-Function-Error-Type"))
        .map(|h| h.value.to_string());
    let mut body = Vec::new();
    let _ = request
        .as_reader()
        .take(MAX_ERROR_BYTES)
        .read_to_end(&mut body);
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

fn respond(request: Request, status: u16, body: &[u8]) {
    let _ = request.respond(Response::from_data(body.to_vec()).with_status_code(status));
}
