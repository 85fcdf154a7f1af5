//! The `headers` family.

use super::{Check, Ctx};
use crate::message::Message;

/// Code rules of the `headers` family.
pub struct HeadersCheck;

impl Check for HeadersCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, _msg: &Message<'_>, _cx: &mut Ctx<'_>) {}
}
