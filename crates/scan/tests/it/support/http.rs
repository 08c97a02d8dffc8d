//! A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1:0 that answers every request with one
//! canned response and hands the raw requests back, so tests can assert exactly what was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;

pub struct CannedServer {
    pub url: String,
    requests: mpsc::Receiver<String>,
    _thread: JoinHandle<()>,
}

impl CannedServer {
    /// Answers up to `max` requests with `status` and the JSON `body`.
    pub fn start(status: u16, body: String, max: usize) -> Self {
        Self::start_with(status, "", body, max)
    }

    /// As [`CannedServer::start`], with extra response header lines (each ending in `\r\n`).
    pub fn start_with(status: u16, headers: &str, body: String, max: usize) -> Self {
        let headers = headers.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for _ in 0..max {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body_in = vec![0u8; length];
                reader.read_exact(&mut body_in).unwrap();
                head.push_str(&String::from_utf8_lossy(&body_in));
                let _ = tx.send(head);
                let mut stream = stream;
                let reason = match status {
                    200 => "OK",
                    300..=399 => "Redirect",
                    _ => "Unauthorized",
                };
                write!(
                    stream,
                    "HTTP/1.1 {status} {reason}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                stream.flush().unwrap();
            }
        });
        Self {
            url,
            requests,
            _thread: thread,
        }
    }

    /// Every request received so far (head + body).
    pub fn requests(&self) -> Vec<String> {
        self.requests.try_iter().collect()
    }
}
