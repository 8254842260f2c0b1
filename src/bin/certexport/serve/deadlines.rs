//! A deadline for every phase of a connection, so that one that never
//! speaks, or stops speaking, is closed:
//!
//! | phase | deadline | flag (default) |
//! | --- | --- | --- |
//! | TLS handshake | from accept | `--handshake-timeout` (10 s) |
//! | first request: protocol detection, HTTP/2 preface and settings, the request's headers (HEADERS and CONTINUATION) | from the end of the handshake | `--header-timeout` (10 s) |
//! | a request's body | from its headers | `--body-timeout` (10 s; 408) |
//! | the whole request | from its headers | `--request-timeout` (60 s; 503) |
//! | idle keep-alive, and the next request's headers (HTTP/1.1 and HTTP/2) | from the last answer | `--idle-timeout` (60 s) |
//! | an HTTP/2 keep-alive ping's answer | a ping after [`H2_PING_INTERVAL`] of silence | [`H2_PING_TIMEOUT`] |
//!
//! A connection with no request in progress is watched by
//! [`Activity`]: at its deadline it is asked to close (HTTP/2 `GOAWAY`,
//! HTTP/1.1 closes once idle), and dropped [`CLOSE_GRACE`] later whatever
//! it is doing. Bytes trickling in do not move a deadline: only a complete
//! request does.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a connection asked to close may take to do so.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// HTTP/2: a ping is sent after this long without a frame from the peer.
pub(crate) const H2_PING_INTERVAL: Duration = Duration::from_secs(20);

/// HTTP/2: a peer that does not answer a ping within this is gone.
pub(crate) const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection deadlines of the flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// The TLS handshake.
    pub(crate) handshake: Duration,
    /// From the handshake to the first request's headers.
    pub(crate) first_request: Duration,
    /// From an answer to the next request's headers.
    pub(crate) idle: Duration,
}

/// What a connection is doing, as its requests tell it.
pub(crate) struct Activity {
    started: Instant,
    in_progress: AtomicUsize,
    requests: AtomicU64,
    /// Milliseconds from `started` to the end of the last request.
    idle_since: AtomicU64,
    /// Wakes the connection's watch when a request begins or ends.
    changed: Notify,
}

/// Why a connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// No request's headers within `--header-timeout` of the handshake.
    FirstRequest,
    /// No request within `--idle-timeout` of the last answer.
    Idle,
}

impl Expired {
    /// The label of `/metrics`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Expired::FirstRequest => "first_request",
            Expired::Idle => "idle",
        }
    }
}

impl Activity {
    /// A connection whose handshake ended now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            in_progress: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    /// A request's headers arrived; it is in progress until the guard drops.
    pub(crate) fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        self.requests.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_one();
        InProgress(Arc::clone(self))
    }

    /// Waits until a request begins or ends (at once if one did since the
    /// last wait).
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// When the connection must have begun its next request (none while a
    /// request is in progress: the request's own timeouts bound it), and
    /// which deadline that is.
    pub(crate) fn deadline(&self, timeouts: &Timeouts) -> Option<(Instant, Expired)> {
        if self.in_progress.load(Ordering::Acquire) > 0 {
            return None;
        }
        if self.requests.load(Ordering::Acquire) == 0 {
            return Some((self.started + timeouts.first_request, Expired::FirstRequest));
        }
        let idle_since = self.started + Duration::from_millis(self.idle_since.load(Ordering::Acquire));
        Some((idle_since + timeouts.idle, Expired::Idle))
    }
}

/// A request in progress (see [`Activity::begin`]).
pub(crate) struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        let activity = &self.0;
        let now = u64::try_from(activity.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        activity.idle_since.store(now, Ordering::Release);
        activity.in_progress.fetch_sub(1, Ordering::AcqRel);
        activity.changed.notify_one();
    }
}

/// The peer's address, put in every request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) IpAddr);

/// A connection's service: the router, with each request marked in
/// progress while it runs and the peer's address in its extensions.
#[derive(Clone)]
pub(crate) struct Tracked<S> {
    pub(crate) inner: S,
    pub(crate) activity: Arc<Activity>,
    pub(crate) peer: IpAddr,
}

impl<S, B> hyper::service::Service<hyper::Request<B>> for Tracked<S>
where
    S: hyper::service::Service<hyper::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, mut request: hyper::Request<B>) -> Self::Future {
        let in_progress = self.activity.begin();
        request.extensions_mut().insert(Peer(self.peer));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answered = answer.await;
            drop(in_progress);
            answered
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_first_request_then_idle_and_none_while_busy() {
        let timeouts = Timeouts {
            handshake: Duration::from_secs(1),
            first_request: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        };
        let activity = Activity::new();
        let (first, why) = activity.deadline(&timeouts).unwrap();
        assert_eq!(why, Expired::FirstRequest);
        assert!(first <= Instant::now() + Duration::from_secs(10));
        let request = activity.begin();
        assert_eq!(activity.deadline(&timeouts), None);
        drop(request);
        let (idle, why) = activity.deadline(&timeouts).unwrap();
        assert_eq!(why, Expired::Idle);
        assert!(idle >= first + Duration::from_secs(50));
    }
}
