//! Telling the owner: the outbox dispatcher for webhooks and email digests, and their pure
//! parts (signatures, payloads, story identity, digest rendering).

pub mod digest;
pub mod dispatch;
pub mod email;
pub mod payload;
pub mod signature;
pub mod story;
pub mod webhook;
