//! Relais's outgoing mail: plain-text messages to agents (the partner portal's invitations and
//! the moves of habilitation requests), handed to the operator's SMTP relay.
//!
//! The relay is named by a URL:
//! - `smtps://user:password@relay.example:465`: TLS from the first byte (port 465 by default);
//! - `smtp://relay.example:587?tls=required`: STARTTLS, required (port 587 by default);
//! - `smtp://127.0.0.1:2525`: no encryption, for a relay on the same host or network (port 25
//!   by default); credentials are refused there, they would travel in clear.
//!
//! `lettre` is the maintained SMTP client of the Rust ecosystem: async on tokio, rustls for TLS
//! (the same TLS stack as the hub's HTTP client), and the MIME encoding of French text
//! (RFC 2047 subjects, quoted-printable or base64 bodies), which is protocol code to take from
//! the field rather than write.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use url::Url;

/// How long a relay has to answer each step before the message is given up.
pub const RELAY_TIMEOUT: Duration = Duration::from_secs(10);

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The text (UTF-8, plain).
    pub text: String,
}

/// Why a message was not sent, or a mailer not made.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The relay's URL is not one of the three forms.
    #[error("mail relay URL: {0}")]
    Url(String),
    /// An address is not a mailbox.
    #[error("address `{0}` is not a mailbox")]
    Address(String),
    /// The message could not be built.
    #[error("message: {0}")]
    Message(String),
    /// The relay refused it, or could not be reached.
    #[error("mail relay {relay}: {reason}")]
    Send {
        /// The relay (`host:port`).
        relay: String,
        /// What failed.
        reason: String,
    },
}

/// Sends messages through one relay, from one sender; cheap to clone (its connection pool is
/// shared).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    relay: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("relay", &self.relay).field("from", &self.from.to_string()).finish()
    }
}

enum Security {
    Plain,
    StartTls,
    Tls,
}

impl Mailer {
    /// A mailer through the relay at `url`, sending as `from` (`Relais <ne-pas-repondre@…>`).
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::Address(from.to_owned()))?;
        let parsed = Url::parse(url).map_err(|error| MailError::Url(error.to_string()))?;
        let tls = parsed.query_pairs().find(|(key, _)| key == "tls").map(|(_, value)| value.into_owned());
        let security = match (parsed.scheme(), tls.as_deref()) {
            ("smtps", None) => Security::Tls,
            ("smtp", None) => Security::Plain,
            ("smtp", Some("required")) => Security::StartTls,
            ("smtp", Some(other)) => return Err(MailError::Url(format!("tls={other}: only tls=required is known"))),
            (scheme, _) => return Err(MailError::Url(format!("`{scheme}`: smtp or smtps"))),
        };
        let host = parsed.host_str().filter(|host| !host.is_empty()).ok_or(MailError::Url("no host".into()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
        let credentials = (!parsed.username().is_empty())
            .then(|| Credentials::new(decode(parsed.username()), decode(parsed.password().unwrap_or_default())));
        let unsent = |error: lettre::transport::smtp::Error| MailError::Url(error.to_string());
        let (builder, default_port) = match security {
            Security::Plain if credentials.is_some() => {
                return Err(MailError::Url("credentials need smtps:// or ?tls=required".into()))
            }
            Security::Plain => (AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host), 25),
            Security::StartTls => (AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host).map_err(unsent)?, 587),
            Security::Tls => (AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(unsent)?, 465),
        };
        let port = parsed.port().unwrap_or(default_port);
        let mut builder = builder.port(port).timeout(Some(RELAY_TIMEOUT));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        Ok(Self { transport: builder.build(), from, relay: format!("{host}:{port}") })
    }

    /// The relay, `host:port` (for the logs: never its credentials).
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// Hands `mail` to the relay.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|error| MailError::Message(error.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|error| MailError::Send { relay: self.relay.clone(), reason: error.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_of_relay_and_what_is_refused() {
        let from = "Relais <ne-pas-repondre@relais.example>";
        assert_eq!(Mailer::new("smtp://127.0.0.1:2525", from).unwrap().relay(), "127.0.0.1:2525");
        assert_eq!(Mailer::new("smtp://relay.example?tls=required", from).unwrap().relay(), "relay.example:587");
        assert_eq!(Mailer::new("smtps://u:p%40ss@relay.example", from).unwrap().relay(), "relay.example:465");
        for (url, expected) in [
            ("smtp://u:p@relay.example", "credentials"),
            ("http://relay.example", "smtp or smtps"),
            ("smtp://relay.example?tls=maybe", "tls=maybe"),
            ("not a url", "relative URL"),
        ] {
            let error = Mailer::new(url, from).unwrap_err().to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
        assert!(matches!(Mailer::new("smtp://127.0.0.1", "pas une adresse"), Err(MailError::Address(_))));
        let debug = format!("{:?}", Mailer::new("smtps://u:secret@relay.example", from).unwrap());
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[tokio::test]
    async fn a_relay_that_is_not_there_is_an_error_not_a_panic() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mailer = Mailer::new(&format!("smtp://127.0.0.1:{port}"), "r@relais.example").unwrap();
        let mail = Mail { to: "a@b.example".into(), subject: "s".into(), text: "t".into() };
        assert!(matches!(mailer.send(&mail).await, Err(MailError::Send { .. })));
        let bad = Mail { to: "pas une adresse".into(), ..mail };
        assert!(matches!(mailer.send(&bad).await, Err(MailError::Address(_))));
    }
}
