//! Lingering close for request bodies the server stops reading: a body dropped before its end
//! (too large, refused before it was read, an unknown route) is read and discarded in the
//! background, up to a bound, so the client's kernel receives the error answer instead of a
//! reset. Without it, closing a socket with unread bytes sends a TCP RST, which makes the
//! client drop the answer it has not read yet ("broken pipe" instead of `invalid_request`).
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// At most this many more bytes are discarded after the server stopped reading a body.
pub const DRAIN_MAX_BYTES: usize = 8 << 20;
/// For at most this long.
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

/// A request body that drains what is left of itself when dropped unfinished.
pub struct LingeringBody {
    inner: Option<Incoming>,
}

impl LingeringBody {
    /// Wraps the connection's body.
    pub fn new(inner: Incoming) -> Self {
        Self { inner: Some(inner) }
    }
}

impl Body for LingeringBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for LingeringBody {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if inner.is_end_stream() {
            return;
        }
        // Dropped outside a runtime (never on the serving path): nothing to drain with.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain(inner, DRAIN_MAX_BYTES)).await;
        });
    }
}

/// Reads and discards up to `max` bytes of `body`; stops at its end or on an error.
async fn drain(mut body: Incoming, max: usize) {
    let mut seen = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    seen += data.len();
                    if seen > max {
                        return;
                    }
                }
            }
            Some(Err(_)) | None => return,
        }
    }
}
