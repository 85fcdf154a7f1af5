//! The `mime` family.

use super::{Check, Ctx};
use crate::message::Message;

/// Code rules of the `mime` family.
pub struct MimeCheck;

impl Check for MimeCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, _msg: &Message<'_>, _cx: &mut Ctx<'_>) {}
}
