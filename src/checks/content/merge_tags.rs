//! CNT010: merge tags left unfilled (`{{first_name}}`, `*|FNAME|*`, `%%name%%`), in the
//! Subject and the body alike. A rule of its own: its pattern of the mailing tools' tag
//! styles and the byte prefilter that spares most texts the search serve nothing else.

use std::sync::LazyLock;

use regex::Regex;

use super::evidence;
use crate::checks::Ctx;
use crate::message::Message;
use crate::report::Evidence;

/// Merge tags of the common mailing tools whose name is a personalisation field. The field
/// vocabulary keeps code in technical mail (`${HOME}`, `{{ item }}`) out.
static MERGE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    let field = r"(?:(?:first|last|full|user|customer|contact|company|sender|recipient|subscriber|member|client)[ _.-]?(?:name|email|e-mail)|f_?name|l_?name|name|e-?mail|email_?address|company|city|country|phone|unsubscribe(?:[_-]?(?:url|link))?|(?:contact|subscriber|recipient|customer|member|user)\.(?:first_?name|last_?name|name|email))";
    Regex::new(&format!(
        r"(?i)\{{\{{\s*{field}\s*(?:\|[^}}]{{0,40}})?\}}\}}|\*\|[A-Z0-9_:-]{{2,40}}\|\*|%%\s*{field}\s*%%|\$\{{\s*{field}\s*\}}|\[\s*(?:FIRST_?NAME|LAST_?NAME|FNAME|LNAME|FULL_?NAME|NAME|EMAIL|COMPANY)\s*\]|%RND_[A-Z_]+%?|https?://\[\s*[A-Za-z][A-Za-z _-]{{1,30}}\]|\{{\s*(?:first_?name|last_?name|fname|lname|email)\s*\}}"
    ))
    .expect("valid regex")
});

/// Whether `text` has a byte every merge tag has (`{`, `[`, `|` or `%`): a vector scan
/// that spares most texts the [`MERGE_TAG`] search.
fn may_have_merge_tag(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr3(b'{', b'[', b'|', b).is_some() || memchr::memchr(b'%', b).is_some()
}

/// Merge tags left unfilled in the text (CNT010).
pub(super) fn merge_tags(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    if cx.on("CNT010") {
        let mut found: Vec<(String, Evidence)> = Vec::new();
        for tp in msg.text.all().filter(|tp| may_have_merge_tag(&tp.decoded)) {
            for m in MERGE_TAG.find_iter(&tp.decoded).take(5) {
                if found.len() < 5 {
                    found.push((m.as_str().to_string(), evidence(tp, m.start(), m.end())));
                }
            }
        }
        if let Some((first, _)) = found.first() {
            let n = found.len();
            let first = first.clone();
            cx.hit(
                "CNT010",
                format!(
                    "Unresolved merge tag \u{201c}{first}\u{201d}{}",
                    if n > 1 {
                        format!(" and {} more", n - 1)
                    } else {
                        String::new()
                    }
                ),
                found.into_iter().map(|(_, e)| e).collect(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ids, msg};

    #[test]
    fn every_merge_tag_style_passes_the_byte_prefilter() {
        for tag in [
            "{{first_name}}",
            "{{ email | default }}",
            "*|FNAME|*",
            "%%name%%",
            "${firstname}",
            "[FIRSTNAME]",
            "%RND_NUMBER%",
            "https://[Your Link]",
            "{fname}",
        ] {
            let text = format!("Hi {tag}, your order shipped.");
            assert!(super::MERGE_TAG.is_match(&text), "{tag} is a merge tag");
            assert!(
                super::may_have_merge_tag(&text),
                "{tag} passes the prefilter"
            );
        }
        assert!(!super::may_have_merge_tag("Hi Ann, your order shipped."));
    }

    #[test]
    fn merge_tags() {
        for body in [
            "Hi {{first_name}}, welcome",
            "Hi {{ contact.first_name | default: 'there' }},",
            "Dear *|FNAME|*,",
            "Hello %%FirstName%%!",
            "Hi ${firstName}",
            "Dear [FIRSTNAME],",
            "ref %RND_NUMBER%",
        ] {
            assert_eq!(ids(&msg("Hello", body)), ["CNT010"], "{body}");
        }
        for body in [
            "export PATH=${HOME}/bin",
            "{% for item in items %}{{ item }}{% endfor %}",
            "see [1] and [RFC 5322]",
            "50%% off",
        ] {
            assert!(ids(&msg("Hello", body)).is_empty(), "{body}");
        }
        assert_eq!(ids(&msg("Hi {{first_name}}, your offer", "x")), ["CNT010"]);
    }
}
