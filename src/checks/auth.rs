//! The `auth` family, the checks that need no network: who the SMTP AUTH login may send
//! as (AUTH001) and whether the envelope sender's domain can give DMARC an SPF pass
//! (AUTH002).

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::links::registrable;

/// Sender ownership and alignment, from the envelope and From.
pub(crate) struct AuthCheck;

/// The addresses of the From field, lower-cased.
pub(crate) fn from_addresses(msg: &Message<'_>) -> Vec<String> {
    msg.from_mailboxes()
        .iter()
        .filter_map(|m| m.address.as_deref())
        .filter(|a| a.contains('@'))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The domain of an address, lower-cased, without a trailing dot.
pub(crate) fn domain_of(address: &str) -> Option<String> {
    let (_, d) = address.rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// The organisational domain (RFC 7489 §3.2, by the public suffix list); an address
/// literal or a name the list does not know stands for itself.
fn org_domain(domain: &str) -> String {
    registrable(domain).unwrap_or_else(|| domain.to_string())
}

impl Check for AuthCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["AUTH001", "AUTH002"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let env = cx.envelope;
        let from = if cx.on("AUTH001") || cx.on("AUTH002") {
            from_addresses(msg)
        } else {
            return;
        };
        let mail_from = env.mail_from.as_deref().map(str::trim).unwrap_or("");
        if let Some(login) = env.auth_user.as_deref().filter(|l| !l.is_empty())
            && cx.on("AUTH001")
        {
            let senders = &cx.config.senders;
            let mut refused: Vec<(&str, &str)> = Vec::new();
            if !mail_from.is_empty() && senders.allows(login, mail_from) == Some(false) {
                refused.push(("MAIL FROM", mail_from));
            }
            for a in &from {
                if senders.allows(login, a) == Some(false) {
                    refused.push(("From", a.as_str()));
                }
            }
            if !refused.is_empty() {
                let list: Vec<String> = refused.iter().map(|(w, a)| format!("{w} {a}")).collect();
                let evidence = msg
                    .header("From")
                    .filter(|_| refused.iter().any(|(w, _)| *w == "From"))
                    .map(|h| vec![msg.header_evidence(h)])
                    .unwrap_or_default();
                cx.hit(
                    "AUTH001",
                    format!(
                        "The login {login} may not send as {}",
                        crate::util::truncate_str(&list.join(", "), 300)
                    ),
                    evidence,
                );
            }
        }
        // A null sender (a bounce) has no SPF domain of its own but the HELO name.
        if cx.on("AUTH002")
            && let Some(env_domain) = domain_of(mail_from)
            && let Some(from_domain) = from.first().and_then(|a| domain_of(a))
        {
            let (a, b) = (org_domain(&env_domain), org_domain(&from_domain));
            if a != b {
                cx.hit(
                    "AUTH002",
                    format!(
                        "The envelope sender's domain {env_domain} is not aligned with the From domain {from_domain} (organisational domains {a} and {b})"
                    ),
                    msg.header("From")
                        .map(|h| vec![msg.header_evidence(h)])
                        .unwrap_or_default(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Envelope;
    use crate::config::Config;

    fn fired(config: Config, env: &Envelope, raw: &str) -> Vec<String> {
        crate::checks::fired_with("auth", config, env, raw.as_bytes())
    }

    const MSG: &str = "From: Ann <ann@mail.example.com>\nTo: b@example.org\nSubject: hi\n\nbody\n";

    #[test]
    fn login_may_send_as_its_own_domain_or_what_the_map_allows() {
        let env = |login: &str, mail_from: &str| Envelope {
            auth_user: Some(login.into()),
            mail_from: Some(mail_from.into()),
            ..Envelope::default()
        };
        let c = Config::default;
        // Own domain by default (From's domain is mail.example.com, not example.com).
        assert_eq!(
            fired(
                c(),
                &env("ann@mail.example.com", "ann@mail.example.com"),
                MSG
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            fired(c(), &env("ann@other.example", "ann@other.example"), MSG),
            ["AUTH001", "AUTH002"]
        );
        // A login without a domain and no map entry: nothing to judge.
        assert_eq!(fired(c(), &env("ann", "x@y.example"), MSG), ["AUTH002"]);
        let mut mapped = Config::default();
        mapped
            .senders
            .logins
            .insert("Ann".into(), vec!["@mail.example.com".into()]);
        mapped
            .senders
            .logins
            .insert("relay".into(), vec!["*".into()]);
        assert_eq!(
            fired(mapped.clone(), &env("ann", "bounce@mail.example.com"), MSG),
            Vec::<String>::new()
        );
        assert_eq!(
            fired(mapped.clone(), &env("ann", "ann@evil.example"), MSG),
            ["AUTH001", "AUTH002"]
        );
        assert_eq!(
            fired(mapped, &env("RELAY", "x@mail.example.com"), MSG),
            Vec::<String>::new()
        );
        // No login: AUTH001 does not apply.
        let anon = Envelope {
            mail_from: Some("ann@mail.example.com".into()),
            ..Envelope::default()
        };
        assert!(fired(c(), &anon, MSG).is_empty());
    }

    #[test]
    fn alignment_is_by_organisational_domain() {
        let env = |mail_from: &str| Envelope {
            mail_from: Some(mail_from.into()),
            ..Envelope::default()
        };
        let c = Config::default;
        assert!(fired(c(), &env("bounces@example.com"), MSG).is_empty());
        assert!(fired(c(), &env("b@bounce.mail.example.com"), MSG).is_empty());
        assert_eq!(fired(c(), &env("b@esp.example.net"), MSG), ["AUTH002"]);
        // Under a public suffix with several labels.
        let uk = "From: a@shop.example.co.uk\nSubject: hi\n\nbody\n";
        assert!(fired(c(), &env("b@mail.example.co.uk"), uk).is_empty());
        assert_eq!(fired(c(), &env("b@other.co.uk"), uk), ["AUTH002"]);
        // The null sender and no envelope at all are not judged.
        assert!(fired(c(), &env(""), MSG).is_empty());
        assert!(fired(c(), &Envelope::default(), MSG).is_empty());
    }
}
