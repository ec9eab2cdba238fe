//! The OpenID Connect protocols of Relais: validation of the service providers' requests,
//! the hub's keys and tokens (JOSE), discovery, and the hub's client towards identity
//! providers. Knows nothing of HTTP servers or storage.

#![warn(missing_docs)]

pub mod authorize;
pub mod checkpoint;
pub mod code_grant;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod introspection;
pub mod jose;
pub mod organisations;
pub mod params;
pub mod pkce;
pub mod random;
pub mod token;
pub mod token_exchange;
pub mod upstream;
pub mod upstream_keys;

pub use error::{ErrorCode, OAuthError};
