//! Signing for the `b2c2` connector.
//!
//! B2C2 signs nothing: every request carries the account's API token as
//! `Authorization: Token <token>` (Django REST framework's token scheme), with no timestamp
//! and no nonce, so a request may be sent again as it is. The token never appears in a URL,
//! a log line or an error message.

use std::fmt;

use crate::endpoints::AUTHORIZATION_HEADER;

/// Holds the token and builds the one header it goes in.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct B2c2Signer {
    token: String,
}

impl fmt::Debug for B2c2Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("B2c2Signer")
            .field("token", &"<redacted>")
            .finish()
    }
}

impl B2c2Signer {
    pub(crate) fn new(token: &str) -> B2c2Signer {
        B2c2Signer {
            token: token.to_owned(),
        }
    }

    /// The headers of every authenticated request: `Authorization: Token <token>`.
    pub(crate) fn headers(&self) -> [(&'static str, String); 1] {
        [(AUTHORIZATION_HEADER, format!("Token {}", self.token))]
    }
}
