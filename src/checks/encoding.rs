//! The `encoding` family.

use super::{Check, Ctx};
use crate::message::Message;

/// Code rules of the `encoding` family.
pub struct EncodingCheck;

impl Check for EncodingCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, _msg: &Message<'_>, _cx: &mut Ctx<'_>) {}
}
