//! A mock mail relay: an SMTP server speaking what a client says to a relay (RFC 5321's EHLO or
//! HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no authentication), which keeps every
//! message in a mailbox. Tests read the mailbox ([`MockMailbox::wait_for`]); the demo shows it
//! as a page (`GET /` on its web port, and `GET /messages.json`), so that whoever runs the demo
//! reads the portal's mail.
//!
//! Messages are decoded as the hub's client encodes them: RFC 2047 encoded words in the
//! subject, a base64, quoted-printable or 7/8-bit body.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The largest message kept (a bigger one is refused with `552`).
const MAX_MESSAGE: usize = 1 << 20;

/// A message the relay received.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReceivedMail {
    /// The envelope's sender.
    pub from: String,
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The subject, decoded.
    pub subject: String,
    /// The text, decoded.
    pub text: String,
}

#[derive(Default)]
struct Inner {
    messages: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
}

/// A running mock relay; cheap to clone.
#[derive(Clone, Default)]
pub struct MockMailbox {
    inner: Arc<Inner>,
}

impl MockMailbox {
    /// Serves SMTP on `listener` in a spawned task and returns at once.
    pub async fn serve(listener: TcpListener) -> std::io::Result<MockMailbox> {
        let mailbox = MockMailbox::default();
        let accepting = mailbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mailbox = accepting.clone();
                tokio::spawn(async move {
                    if let Err(error) = mailbox.session(stream).await {
                        tracing::debug!(%error, "mock mail relay: session ended");
                    }
                });
            }
        });
        Ok(mailbox)
    }

    /// Serves the mailbox's page on `listener` in a spawned task.
    pub fn serve_page(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/", get(page))
            .route("/messages.json", get(|State(mailbox): State<MockMailbox>| async move { Json(mailbox.messages()) }))
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "mock mailbox page stopped");
            }
        });
    }

    /// Every message received, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inner.messages.lock().map(|messages| messages.clone()).unwrap_or_default()
    }

    /// The messages to `address`, oldest first.
    pub fn to(&self, address: &str) -> Vec<ReceivedMail> {
        self.messages().into_iter().filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(address))).collect()
    }

    /// The messages once there are `count` at least, or what there is after 10 seconds.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        let waiting = async {
            loop {
                let arrived = self.inner.arrived.notified();
                let messages = self.messages();
                if messages.len() >= count {
                    return messages;
                }
                arrived.await;
            }
        };
        match tokio::time::timeout(Duration::from_secs(10), waiting).await {
            Ok(messages) => messages,
            Err(_) => self.messages(),
        }
    }

    async fn session(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        write.write_all(b"220 relais-mock-smtp ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = Vec::new();
        loop {
            line.clear();
            if (&mut read).take(4096).read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            let command = String::from_utf8_lossy(&line).trim_end().to_owned();
            let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-relais-mock-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "HELO" => b"250 relais-mock-smtp\r\n",
                "MAIL" => {
                    from = address(&command);
                    to.clear();
                    b"250 OK\r\n"
                }
                "RCPT" => {
                    to.push(address(&command));
                    b"250 OK\r\n"
                }
                "DATA" if to.is_empty() => b"503 RCPT first\r\n",
                "DATA" => {
                    write.write_all(b"354 End with <CRLF>.<CRLF>\r\n").await?;
                    match read_data(&mut read).await? {
                        Some(raw) => {
                            let (subject, text) = decode(&raw);
                            let mail = ReceivedMail { from: from.clone(), to: std::mem::take(&mut to), subject, text };
                            if let Ok(mut messages) = self.inner.messages.lock() {
                                messages.push(mail);
                            }
                            self.inner.arrived.notify_waiters();
                            b"250 OK queued\r\n"
                        }
                        None => b"552 Too big\r\n",
                    }
                }
                "RSET" => {
                    (from, to) = (String::new(), Vec::new());
                    b"250 OK\r\n"
                }
                "NOOP" => b"250 OK\r\n",
                "QUIT" => {
                    write.write_all(b"221 Bye\r\n").await?;
                    return Ok(());
                }
                _ => b"502 Not implemented\r\n",
            };
            write.write_all(reply).await?;
        }
    }
}

/// The address of `MAIL FROM:<a>` or `RCPT TO:<a>`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |at| at + 1);
    let end = command[start..].find('>').map_or(command.len(), |at| start + at);
    command[start..end].to_owned()
}

/// The message up to the line with a single dot, dot-stuffing undone; none when too big.
async fn read_data<R: AsyncBufReadExt + Unpin>(read: &mut R) -> std::io::Result<Option<String>> {
    let (mut raw, mut line, mut too_big) = (Vec::new(), Vec::new(), false);
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_big).then(|| String::from_utf8_lossy(&raw).into_owned()));
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        too_big |= raw.len() + content.len() > MAX_MESSAGE;
        if !too_big {
            raw.extend_from_slice(content);
        }
    }
}

/// The subject and the text of a raw message.
fn decode(raw: &str) -> (String, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let header = |name: &str| {
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let subject = decode_words(&header("Subject").unwrap_or_default());
    let encoding = header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
    let text = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        "quoted-printable" => String::from_utf8_lossy(&quoted_printable(&body.replace("=\n", ""), false)).into_owned(),
        _ => body.to_owned(),
    };
    (subject, text.replace("\r\n", "\n").trim_end().to_owned())
}

/// Quoted-printable bytes decoded (`_` is a space in an encoded word's `Q` form).
fn quoted_printable(text: &str, underscore_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let (mut out, mut index) = (Vec::new(), 0);
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|hex| std::str::from_utf8(hex).ok());
        match (bytes[index], hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (b'_', _) if underscore_is_space => {
                out.push(b' ');
                index += 1;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    out
}

/// A header's RFC 2047 encoded words decoded (the space between two of them dropped).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let word = rest[start + 2..].splitn(3, '?').collect::<Vec<_>>();
        let decoded = match word.as_slice() {
            [_, encoding, tail] => tail.find("?=").map(|end| {
                let text = &tail[..end];
                let bytes = match encoding.to_ascii_uppercase().as_str() {
                    "B" => base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default(),
                    _ => quoted_printable(text, true),
                };
                (String::from_utf8_lossy(&bytes).into_owned(), value.len() - tail.len() + end + 2)
            }),
            _ => None,
        };
        let Some((text, consumed_to)) = decoded else { break };
        let between = &rest[..start];
        if !(after_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        out.push_str(&text);
        after_word = true;
        rest = &value[consumed_to..];
    }
    out.push_str(rest);
    out
}

async fn page(State(mailbox): State<MockMailbox>) -> Html<String> {
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut items = String::new();
    for mail in mailbox.messages().iter().rev() {
        items.push_str(&format!(
            "<article><h2>{}</h2><p>À : {}</p><pre>{}</pre></article>",
            escape(&mail.subject),
            escape(&mail.to.join(", ")),
            escape(&mail.text)
        ));
    }
    if items.is_empty() {
        items.push_str("<p>Aucun message.</p>");
    }
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Boîte aux lettres de démonstration</title></head>\
         <body><main><h1>Boîte aux lettres de démonstration</h1><p>Les messages que le hub a envoyés, les plus récents d'abord.</p>{items}</main></body></html>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_subjects_and_bodies_are_read_back() {
        assert_eq!(
            decode_words("=?utf-8?b?RGVtYW5kZSB2YWxpZMOpZQ==?= =?utf-8?b?IMKrIENhbnRpbmUgwrs=?="),
            "Demande validée « Cantine »"
        );
        assert_eq!(decode_words("[Relais] =?UTF-8?Q?valid=C3=A9e_ici?= fin"), "[Relais] validée ici fin");
        assert_eq!(decode_words("plain"), "plain");
        let raw = "Subject: =?utf-8?b?w6l0w6k=?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=C3=A9j=\r\n=C3=A0 vu\r\n";
        assert_eq!(decode(raw), ("été".to_owned(), "déjà vu".to_owned()));
        let raw = "Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\nw6l0w6k=\r\n";
        assert_eq!(decode(raw).1, "été");
        assert_eq!(address("MAIL FROM:<a@b.example> BODY=8BITMIME"), "a@b.example");
    }
}
