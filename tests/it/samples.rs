//! The shipped samples behave as documented: good drafts pass with every rule on, the
//! canary is always rejected, and each bad draft shows findings of its family.

use preflight::{Envelope, Verdict};

use crate::support::{engine, read, sample};

#[test]
fn good_samples_pass_with_every_rule_on() {
    let e = engine();
    for name in [
        "good-newsletter.eml",
        "good-receipt-with-pdf.eml",
        "good-personal-reply.eml",
    ] {
        let r = e.check(&sample(name), &Envelope::default());
        assert_eq!(r.verdict, Verdict::Pass, "{name}: {:#?}", r.findings);
        assert!(
            r.findings.is_empty(),
            "{name} should have no findings: {:#?}",
            r.findings
        );
    }
}

#[test]
fn canary_is_always_rejected() {
    let r = engine().check(&sample("canary.eml"), &Envelope::default());
    assert_eq!(r.verdict, Verdict::Reject);
    assert_eq!(r.findings[0].id, "CNT001");
    let reply = r.reply.unwrap();
    assert_eq!((reply.code, reply.enhanced.as_str()), (554, "5.7.1"));
}

#[test]
fn bad_samples_show_their_family() {
    let e = engine();
    for (name, family) in [
        ("bad-headers.eml", "headers"),
        ("bad-encoding.eml", "encoding"),
        ("bad-mime.eml", "mime"),
        ("bad-size-too-many-attachments.eml", "size"),
        ("bad-bulk-no-unsubscribe.eml", "bulk"),
    ] {
        let r = e.check(&sample(name), &Envelope::default());
        assert!(
            r.findings.iter().any(|f| f.family == family),
            "{name}: no {family} finding: {:#?}",
            r.findings
        );
        if family != "bulk" {
            assert_ne!(
                r.verdict,
                Verdict::Pass,
                "{name} should not pass: {:#?}",
                r.findings
            );
        }
    }
}

#[test]
fn samples_report_the_same_with_crlf_and_lf() {
    let e = engine();
    for name in [
        "good-newsletter.eml",
        "good-receipt-with-pdf.eml",
        "canary.eml",
        "bad-headers.eml",
    ] {
        let crlf = sample(name);
        let lf: Vec<u8> = String::from_utf8(crlf.clone())
            .unwrap()
            .replace("\r\n", "\n")
            .into_bytes();
        let a = e.check(&crlf, &Envelope::default());
        let b = e.check(&lf, &Envelope::default());
        assert_eq!(a.verdict, b.verdict, "{name}");
        assert_eq!(a.rule_ids(), b.rule_ids(), "{name}");
    }
}

/// A campaign as an e-mail service sends it: click-tracking links of its own ESP,
/// a tracking pixel, images with alt text, a hidden preheader padded with `&zwnj;`, a
/// template that zeroes font sizes in cells and a mobile-only block hidden on desktop.
/// It passes; the html and links families note the pixel and nothing that scores.
#[test]
fn esp_newsletter_passes() {
    let raw = read("tests/fixtures/mail/esp-newsletter.eml");
    let r = engine().check(&raw, &Envelope::default());
    assert_eq!(r.verdict, Verdict::Pass, "{:#?}", r.findings);
    assert!(r.rule_ids().contains(&"HTML003"), "{:?}", r.rule_ids());
    for f in &r.findings {
        assert!(
            f.score <= 0.05,
            "{} weighs {} on an honest newsletter: {}",
            f.id,
            f.score,
            f.message
        );
    }
    assert!(r.link_domains.iter().any(|d| d == "klclick.com"));
}
