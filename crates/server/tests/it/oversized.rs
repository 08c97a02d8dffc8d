//! Bodies over the limit (issue 13): the client must read the `invalid_request` answer, not a
//! broken pipe. The client here writes its whole body before it reads, as one-shot clients
//! (curl, most libraries) do, and the body is larger than loopback's socket buffers can hold
//! (`tcp_wmem` caps a send buffer at 4 MiB): a server that answered and closed without reading
//! the rest would reset the connection while the client is still writing. The lingering close
//! (`linger.rs`, up to 8 MiB) reads the rest, so the body stays under that bound.
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{TestServer, basic_credentials, error};

/// Over every socket buffer in the path, under the drain's 8 MiB.
const BODY_BYTES: usize = 7 << 20;
/// Written this much at a time (and the size of each chunk of a chunked body).
const CHUNK: usize = 64 << 10;

/// How the body's length is framed.
#[derive(Clone, Copy, Debug)]
enum Framing {
    ContentLength,
    Chunked,
}

/// Sends `POST /token` with a `BODY_BYTES` form body framed as `framing`, all of it, then reads
/// the answer; `Err` says where the exchange broke (a reset while writing is the broken pipe).
async fn send_then_read(
    server: &TestServer,
    authorization: &str,
    content_type: &str,
    framing: Framing,
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(server.running.addr).await.unwrap();
    let length = match framing {
        Framing::ContentLength => format!("Content-Length: {BODY_BYTES}"),
        Framing::Chunked => "Transfer-Encoding: chunked".to_string(),
    };
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {authorization}\r\n\
         Content-Type: {content_type}\r\n{length}\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut body = b"grant_type=client_credentials&pad=".to_vec();
    body.resize(BODY_BYTES, b'a');
    let mut written = 0;
    for piece in body.chunks(CHUNK) {
        let sent = match framing {
            Framing::ContentLength => stream.write_all(piece).await,
            Framing::Chunked => {
                let framed = [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat();
                stream.write_all(&framed).await
            }
        };
        sent.map_err(|e| format!("writing the body failed after {written} bytes: {e}"))?;
        written += piece.len();
    }
    if let Framing::Chunked = framing {
        stream
            .write_all(b"0\r\n\r\n")
            .await
            .map_err(|e| format!("writing the last chunk failed: {e}"))?;
    }
    read_response(&mut stream).await
}

/// Reads one HTTP/1.1 response with a `Content-Length` body.
async fn read_response(stream: &mut TcpStream) -> Result<(u16, Value), String> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&received);
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
            if received.len() >= end + 4 + length {
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("bad status line in {head:?}"))?;
                let body = serde_json::from_slice(&received[end + 4..end + 4 + length])
                    .map_err(|e| format!("answer body is not JSON: {e}"))?;
                return Ok((status, body));
            }
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| format!("reading the answer failed: {e}"))?;
        if n == 0 {
            return Err(format!(
                "connection closed after {} bytes of answer",
                received.len()
            ));
        }
        received.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_7_mib_body_written_before_reading_gets_the_json_error() {
    let server = TestServer::start().await;
    let c = server.client(|_| {}).await;
    let authorization = basic_credentials(&c.id, &c.secret);
    let mut wrong = Vec::new();
    for framing in [Framing::ContentLength, Framing::Chunked] {
        for (content_type, description) in [
            (
                "application/x-www-form-urlencoded",
                "the request body exceeds 65536 bytes or could not be read",
            ),
            (
                "application/json",
                "the request body must be application/x-www-form-urlencoded",
            ),
        ] {
            let answer = send_then_read(&server, &authorization, content_type, framing).await;
            if answer != Ok((400, error("invalid_request", description))) {
                wrong.push(format!("{framing:?}, {content_type}: {answer:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Nothing was issued, and ordinary requests are still answered.
    assert!(
        server
            .events_of(tessera_core::audit::EventKind::TokenIssued)
            .await
            .is_empty()
    );
    assert_eq!(server.token(&c, &[]).await.0, 200);
}
