//! The `size` family.

use super::{Check, Ctx};
use crate::message::Message;

/// Code rules of the `size` family.
pub struct SizeCheck;

impl Check for SizeCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, _msg: &Message<'_>, _cx: &mut Ctx<'_>) {}
}
