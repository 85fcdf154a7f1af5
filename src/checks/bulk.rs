//! The `bulk` family.

use super::{Check, Ctx};
use crate::message::Message;

/// Code rules of the `bulk` family.
pub struct BulkCheck;

impl Check for BulkCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, _msg: &Message<'_>, _cx: &mut Ctx<'_>) {}
}
