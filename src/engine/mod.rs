//! The engine: built once from configuration and rule packs, then shared (`Send + Sync`,
//! behind an `Arc`) by the CLI, batch scans and the milter.

pub mod examples;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::checks::{self, Check, Ctx, Hit};
use crate::config::Config;
use crate::dns::{Answers, Query, Resolver};
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::message::Message;
use crate::report::{Action, Finding, NotChecked, Report};
use crate::rules::{PatternSet, Rule, RuleSet};
use crate::verdict;

/// Checks messages. Build it once; `check` takes `&self` and is safe to call from many
/// threads at once.
pub struct Engine {
    config: Config,
    rules: RuleSet,
    enabled: Vec<bool>,
    /// Enabled rules and the rules enabled meta rules depend on.
    needed: Vec<bool>,
    /// Meta rules that run.
    metas: Vec<usize>,
    /// Content phrase rules that HTML006 looks for in hidden text: scoring ones that the
    /// configuration does not switch off (a selection of other rules does not narrow it).
    probed: Vec<bool>,
    index: IdIndex,
    checks: Vec<Box<dyn Check>>,
    /// Per check: whether every rule of it that runs needs corroboration, so it runs
    /// last, and only when something could corroborate it.
    deferred: Vec<bool>,
    /// Per check: whether it decides from DNS answers (runs only on the online path).
    online: Vec<bool>,
    /// Per rule: whether it needs corroboration and some other rule of the corroborating
    /// families runs (when none does, its finding stands alone).
    corroborable: Vec<bool>,
    patterns: PatternSet,
    models: crate::model::Models,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.rules().len())
            .field("patterns", &self.patterns)
            .finish()
    }
}

/// The content phrase rules HTML006 looks for in hidden text: scoring ones (an
/// informational phrase such as "20% off" does not count) that the configuration does not
/// switch off; a selection of other rules does not narrow it.
pub(crate) fn probed_rules(rules: &RuleSet, config: &Config) -> Vec<bool> {
    rules
        .rules()
        .iter()
        .map(|r| {
            r.enabled
                && r.family == "content"
                && r.pattern.is_some()
                && (r.score > 0.0 || r.action == Action::Reject)
                && !config.ignore.iter().any(|s| selector_matches(s, r))
        })
        .collect()
}

/// The probed rules (see [`probed_rules`]) that fire on `tp`, as `(rule id, matched)`.
pub(crate) fn probe_hits(
    rules: &RuleSet,
    patterns: &PatternSet,
    probed: &[bool],
    tp: &crate::message::text::TextPart,
) -> Vec<(String, String)> {
    patterns
        .probe_body(tp, &|i| probed.get(i).copied().unwrap_or(false))
        .into_iter()
        .map(|h| (rules.rules()[h.rule].id.clone(), h.matched))
        .collect()
}

/// Whether `id` is named by a selector: an exact id or a prefix (`HDR`, `HDR0`).
pub fn selector_matches(sel: &str, rule: &Rule) -> bool {
    rule.id.starts_with(sel) || sel == rule.family || sel == rule.name
}

/// What one run of the checks yields: findings (before scoring), internal errors as
/// (what failed, what it left unchecked), and the message's distinct link domains.
/// Whether a check runs the checks that need the network, and with what.
#[derive(Clone, Copy)]
enum Online<'a> {
    /// Offline: those checks do not run.
    Off,
    /// With these answers.
    Answers(&'a Answers),
    /// With the answers this resolver gives to what they ask.
    Resolve(&'a dyn Resolver),
}

/// What the checks found: findings (before scoring), internal errors with what they left
/// unchecked, the message's link domains, and the rules that could not decide for want
/// of DNS answers (`None`: offline).
struct Checked {
    findings: Vec<Finding>,
    errors: Vec<(String, String)>,
    domains: Vec<String>,
    not_checked: Option<Vec<(&'static str, String)>>,
}

/// Why a rule that needs DNS did not run offline.
pub const OFFLINE_WHY: &str =
    "the checks that need DNS are off: turn them on with --online or dns.enabled";

/// The code rules' ids and their rule indexes: asked on every `cx.on(id)`, a few hundred
/// times a message. Ids of up to 8 bytes (all of the shipped ones) are keyed by their bytes
/// read as a number, which hashes and compares in a few instructions; a string map hashed
/// with SipHash and compared with `memcmp` cost a tenth of a check.
#[derive(Default)]
struct IdIndex {
    short: HashMap<u64, usize, std::hash::BuildHasherDefault<ShortIdHasher>>,
    long: HashMap<&'static str, usize>,
}

impl IdIndex {
    /// The id's bytes as a number, when it has at most 8.
    fn key(id: &str) -> Option<u64> {
        let b = id.as_bytes();
        (b.len() <= 8).then(|| {
            let mut k = [0u8; 8];
            k[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(k)
        })
    }

    fn insert(&mut self, id: &'static str, i: usize) {
        match Self::key(id) {
            Some(k) => self.short.insert(k, i),
            None => self.long.insert(id, i),
        };
    }

    fn get(&self, id: &str) -> Option<usize> {
        match Self::key(id) {
            Some(k) => self.short.get(&k).copied(),
            None => self.long.get(id).copied(),
        }
    }
}

/// Hashes the one `u64` of a short id (multiply and fold: every byte reaches the low bits
/// the table indexes by).
#[derive(Default)]
struct ShortIdHasher(u64);

impl std::hash::Hasher for ShortIdHasher {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^ (h >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).rotate_left(5);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Engine {
    /// Loads the shipped rules and the configured local directories, and builds the engine.
    pub fn new(config: Config) -> Result<Engine, Error> {
        let rules = RuleSet::for_config(&config)?;
        Engine::with_rules(config, rules)
    }

    /// Builds the engine from an already loaded rule set (the receiver profile's limits
    /// and thresholds are put in force here; its rule overrides are the loader's,
    /// [`RuleSet::for_config`]).
    pub fn with_rules(mut config: Config, rules: RuleSet) -> Result<Engine, Error> {
        config.apply_profile()?;
        let checks = checks::all();
        let mut index = IdIndex::default();
        let mut problems = Vec::new();
        for c in &checks {
            for &id in c.ids() {
                match rules.index(id) {
                    Some(i)
                        if rules.rules()[i].pattern.is_none()
                            && rules.rules()[i].meta.is_none() =>
                    {
                        index.insert(id, i);
                    }
                    Some(_) => problems.push(format!(
                        "{id}: implemented in code but its YAML entry is a pattern or meta rule"
                    )),
                    None => {
                        problems.push(format!("{id}: implemented in code but has no YAML entry"))
                    }
                }
            }
        }
        for r in rules.rules() {
            if r.pattern.is_none() && r.meta.is_none() && index.get(&r.id).is_none() {
                problems.push(format!(
                    "{}: {}: rule has no pattern and no code implements it",
                    r.origin, r.id
                ));
            }
        }
        for sel in config.select.iter().chain(config.ignore.iter()) {
            if !rules.rules().iter().any(|r| selector_matches(sel, r)) {
                problems.push(format!("selector `{sel}` matches no rule"));
            }
        }
        if !problems.is_empty() {
            return Err(Error::new(ErrorKind::Rules, problems.join("\n")));
        }
        let models = crate::model::Models::build(&rules, &config)
            .map_err(|e| Error::new(ErrorKind::Config, format!("model: {e}")))?;
        let enabled: Vec<bool> = rules
            .rules()
            .iter()
            .map(|r| {
                r.enabled
                    && (config.select.is_empty()
                        || config.select.iter().any(|s| selector_matches(s, r)))
                    && !config.ignore.iter().any(|s| selector_matches(s, r))
            })
            .collect();
        // Rules that run: the enabled ones and, transitively, what enabled meta rules need.
        let mut needed = enabled.clone();
        let mut stack: Vec<usize> = (0..needed.len()).filter(|&i| needed[i]).collect();
        while let Some(i) = stack.pop() {
            if let Some(meta) = &rules.rules()[i].meta {
                for dep in meta.ids() {
                    if let Some(j) = rules.index(dep)
                        && !needed[j]
                    {
                        needed[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let metas: Vec<usize> = (0..needed.len())
            .filter(|&i| needed[i] && rules.rules()[i].meta.is_some())
            .collect();
        // Checks none of whose rules run are left out once, here, not asked per message.
        let checks: Vec<Box<dyn Check>> = checks
            .into_iter()
            .filter(|c| {
                c.ids()
                    .iter()
                    .any(|id| index.get(id).is_some_and(|i| needed[i]))
            })
            .collect();
        let deferred: Vec<bool> = checks
            .iter()
            .map(|c| {
                c.ids()
                    .iter()
                    .filter_map(|id| index.get(id).filter(|&i| needed[i]))
                    .all(|i| rules.rules()[i].corroboration.is_some())
            })
            .collect();
        let online: Vec<bool> = checks.iter().map(|c| c.online()).collect();
        let corroborable: Vec<bool> =
            rules
                .rules()
                .iter()
                .map(|r| {
                    r.corroboration.as_ref().is_some_and(|c| {
                        rules.rules().iter().enumerate().any(|(i, o)| {
                            needed[i] && o.id != r.id && c.families.contains(&o.family)
                        })
                    })
                })
                .collect();
        let probed = probed_rules(&rules, &config);
        let patterns = PatternSet::compile(
            rules
                .rules()
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.pattern.as_ref().map(|p| (i, p))),
        );
        Ok(Engine {
            config,
            rules,
            enabled,
            needed,
            metas,
            probed,
            index,
            checks,
            deferred,
            online,
            corroborable,
            patterns,
            models,
        })
    }

    /// The reference time: the configured `now`, or the clock.
    fn now(&self) -> i64 {
        self.config.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The loaded rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Whether a rule runs (loaded, enabled, selected and not ignored).
    pub fn is_enabled(&self, id: &str) -> bool {
        self.rules.index(id).is_some_and(|i| self.enabled[i])
    }

    /// Checks one message. Never fails: malformed input yields findings, and a check that
    /// panics is reported as an internal error finding-free report with `internal_errors`.
    ///
    /// Input that is not a mail message at all (empty, binary, no `Name: value` field at
    /// the start) is checked too, but its report has [`Report::not_mail`] set to the
    /// reason: test it to treat such input as the CLI does (exit status 65, no report),
    /// or call [`Engine::try_check`].
    pub fn check(&self, raw: &[u8], envelope: &Envelope) -> Report {
        self.checked(raw, envelope, Online::Off)
    }

    /// The DNS questions the checks that need the network still have for this message,
    /// given `answers` so far (empty at first): resolve them, add them to the answers and
    /// ask again until nothing new is needed ([`crate::dns::gather`] does this loop), then
    /// [`Engine::check_with`]. Empty when no such check runs.
    pub fn plan(&self, raw: &[u8], envelope: &Envelope, answers: &Answers) -> Vec<Query> {
        if !self.online.iter().any(|&o| o) {
            return Vec::new();
        }
        match self.parse(raw) {
            Ok(msg) => self.lookups(&msg, envelope, answers),
            Err(_) => Vec::new(),
        }
    }

    /// Checks one message as [`Engine::check`] does, and runs the checks that need the
    /// network too, deciding from `answers` (see [`Engine::plan`]). A question without an
    /// answer, or with a failed one, decides nothing.
    pub fn check_with(&self, raw: &[u8], envelope: &Envelope, answers: &Answers) -> Report {
        self.checked(raw, envelope, Online::Answers(answers))
    }

    /// [`Engine::check_with`] the answers `resolver` gives to what [`Engine::plan`] asks,
    /// round after round (the message is parsed once for all of it).
    pub fn check_online(&self, raw: &[u8], envelope: &Envelope, resolver: &dyn Resolver) -> Report {
        self.checked(raw, envelope, Online::Resolve(resolver))
    }

    /// Checks one message as the CLI does: input that is not a mail message at all is an
    /// error of kind [`ErrorKind::NotMail`] (its text says why) and is not checked;
    /// anything else is [`Engine::check`]ed (a message that would bounce is an `Ok`
    /// report with a reject verdict).
    pub fn try_check(&self, raw: &[u8], envelope: &Envelope) -> Result<Report, Error> {
        self.try_checked(raw, envelope, Online::Off)
    }

    /// [`Engine::try_check`] online: [`Engine::check_online`] for input that is mail.
    pub fn try_check_online(
        &self,
        raw: &[u8],
        envelope: &Envelope,
        resolver: &dyn Resolver,
    ) -> Result<Report, Error> {
        self.try_checked(raw, envelope, Online::Resolve(resolver))
    }

    /// The report on `raw`, marked when it is not mail.
    fn checked(&self, raw: &[u8], envelope: &Envelope, online: Online<'_>) -> Report {
        let mut r = self.report(raw, envelope, online);
        r.not_mail = crate::message::looks_like_mail(raw).err();
        r
    }

    /// The report on `raw`, or the error saying it is not mail.
    fn try_checked(
        &self,
        raw: &[u8],
        envelope: &Envelope,
        online: Online<'_>,
    ) -> Result<Report, Error> {
        crate::message::looks_like_mail(raw)
            .map_err(|why| Error::new(ErrorKind::NotMail, format!("not a mail message: {why}")))?;
        Ok(self.report(raw, envelope, online))
    }

    /// The report on `raw`, without the not-mail test.
    fn report(&self, raw: &[u8], envelope: &Envelope, online: Online<'_>) -> Report {
        match self.findings(raw, envelope, online) {
            Ok(c) => {
                let (errors, mut unchecked): (Vec<String>, Vec<String>) =
                    c.errors.into_iter().unzip();
                unchecked.dedup();
                let mut r = verdict::decide(&self.config, raw.len(), c.findings, errors);
                r.link_domains = c.domains;
                r.unchecked = unchecked;
                r.not_checked = self.not_checked(c.not_checked);
                r
            }
            Err(e) => verdict::internal_error(&self.config, raw.len(), e),
        }
    }

    /// The parsed message; a parser panic is an internal error.
    fn parse<'x>(&self, raw: &'x [u8]) -> Result<Message<'x>, &'static str> {
        catch_unwind(AssertUnwindSafe(|| {
            Message::parse_with(raw, self.config.limits.max_links)
        }))
        .map_err(|_| "message parser panicked")
    }

    /// What the online checks still ask about `msg`, given `answers`.
    fn lookups(&self, msg: &Message<'_>, envelope: &Envelope, answers: &Answers) -> Vec<Query> {
        let enabled = |id: &str| self.index.get(id).is_some_and(|i| self.needed[i]);
        let now = self.now();
        let mut out = Vec::new();
        for (c, _) in self.checks.iter().zip(&self.online).filter(|(_, o)| **o) {
            let cx = Ctx::new(&self.config, envelope, now, self.rules.lists(), &enabled)
                .with_answers(answers);
            if let Ok(qs) = catch_unwind(AssertUnwindSafe(|| c.lookups(msg, &cx))) {
                out.extend(qs);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The ids of every enabled rule that fires on a message, helpers with score 0
    /// included (a report leaves those out). For rule authors and tests.
    pub fn fired_ids(&self, raw: &[u8], envelope: &Envelope) -> Vec<String> {
        self.findings(raw, envelope, Online::Off)
            .map(|c| c.findings.into_iter().map(|f| f.id).collect())
            .unwrap_or_default()
    }

    /// Runs every check: the findings of enabled rules (before scoring), internal errors,
    /// and the distinct link domains of the message.
    fn findings(
        &self,
        raw: &[u8],
        envelope: &Envelope,
        online: Online<'_>,
    ) -> Result<Checked, &'static str> {
        let now = self.now();
        let msg = self.parse(raw)?;
        // Online, the answers given, or gathered here for this one parse.
        let gathered;
        let answers = match online {
            Online::Off => None,
            Online::Answers(a) => Some(a),
            Online::Resolve(r) => {
                gathered = crate::dns::gather(r, |a| self.lookups(&msg, envelope, a));
                Some(&gathered)
            }
        };
        let enabled = |id: &str| self.index.get(id).is_some_and(|i| self.needed[i]);
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        let mut not_checked = Vec::new();
        let probe = |tp: &crate::message::text::TextPart| {
            probe_hits(&self.rules, &self.patterns, &self.probed, tp)
        };
        let run = |c: &dyn Check,
                   findings: &mut Vec<Finding>,
                   errors: &mut Vec<(String, String)>,
                   not_checked: &mut Vec<(&'static str, String)>| {
            let mut cx = Ctx::new(&self.config, envelope, now, self.rules.lists(), &enabled)
                .with_probe(&probe)
                .with_models(&self.models);
            if let Some(a) = answers {
                cx = cx.with_answers(a);
            }
            match catch_unwind(AssertUnwindSafe(|| {
                c.run(&msg, &mut cx);
                cx.into_parts()
            })) {
                Ok((hits, unanswered)) => {
                    findings.extend(self.merge_hits(hits));
                    not_checked.extend(unanswered);
                }
                Err(_) => {
                    let family = c
                        .ids()
                        .first()
                        .and_then(|id| self.index.get(id))
                        .map_or("?", |i| self.rules.rules()[i].family.as_str());
                    errors.push((format!("the {family} check panicked"), family.to_string()));
                }
            }
        };
        // Offline, the checks that need the network do not run at all.
        let runs = |i: usize| answers.is_some() || !self.online[i];
        for (i, c) in self.checks.iter().enumerate() {
            if !self.deferred[i] && runs(i) {
                run(c.as_ref(), &mut findings, &mut errors, &mut not_checked);
            }
        }
        if !self.patterns.is_empty() {
            let en = |i: usize| self.needed[i];
            match catch_unwind(AssertUnwindSafe(|| {
                self.patterns.run(&msg, &en, self.config.max_evidence)
            })) {
                Ok(hits) => {
                    let mut by_rule: Vec<(usize, Vec<crate::rules::pattern::PatternHit>)> =
                        Vec::new();
                    for h in hits {
                        match by_rule.iter_mut().find(|(r, _)| *r == h.rule) {
                            Some((_, v)) => v.push(h),
                            None => by_rule.push((h.rule, vec![h])),
                        }
                    }
                    for (ri, hs) in by_rule {
                        let rule = &self.rules.rules()[ri];
                        // Each distinct match quoted once, with its count.
                        let mut quoted: Vec<(String, usize)> = Vec::new();
                        for h in &hs {
                            let q = format!(
                                "\u{201c}{}\u{201d}",
                                crate::util::truncate_str(&h.matched, 100)
                            );
                            match quoted.iter_mut().find(|(m, _)| *m == q) {
                                Some((_, n)) => *n += 1,
                                None => quoted.push((q, 1)),
                            }
                        }
                        let message = format!("{}: ", rule.summary);
                        let message = join_messages(message, &quoted, 0, ", ");
                        findings.push(self.finding(
                            rule,
                            message,
                            hs.into_iter().map(|h| h.evidence).collect(),
                        ));
                    }
                }
                Err(_) => errors.push(("pattern matching panicked".into(), "patterns".into())),
            }
        }
        self.apply_metas(&mut findings);
        findings.retain(|f| self.is_enabled(&f.id));
        // The checks whose rules all need corroboration (the content model) run only
        // when some finding could corroborate one of them: most legitimate mail never
        // pays for them.
        for (i, c) in self.checks.iter().enumerate() {
            if !self.deferred[i] || !runs(i) {
                continue;
            }
            let wanted = c.ids().iter().any(|id| {
                self.index
                    .get(id)
                    .and_then(|i| self.rules.rules()[i].corroboration.as_ref())
                    .is_some_and(|cor| self.corroborated(id, cor, &findings))
            });
            if wanted {
                run(c.as_ref(), &mut findings, &mut errors, &mut not_checked);
            }
        }
        self.require_corroboration(&mut findings);
        let domains =
            catch_unwind(AssertUnwindSafe(|| msg.link_domains().to_vec())).unwrap_or_default();
        Ok(Checked {
            findings,
            errors,
            domains,
            not_checked: answers.map(|_| not_checked),
        })
    }

    /// The report's [`Report::not_checked`]: offline every enabled rule of the checks
    /// that need DNS; online each rule that said so, with its reasons.
    fn not_checked(&self, online: Option<Vec<(&'static str, String)>>) -> Vec<NotChecked> {
        let Some(mut said) = online else {
            let mut rules: Vec<String> = self
                .checks
                .iter()
                .zip(&self.online)
                .filter(|(_, o)| **o)
                .flat_map(|(c, _)| c.ids().iter())
                .filter(|id| self.is_enabled(id))
                .map(|id| id.to_string())
                .collect();
            if rules.is_empty() {
                return Vec::new();
            }
            rules.sort();
            rules.dedup();
            return vec![NotChecked {
                rules,
                why: OFFLINE_WHY.to_string(),
            }];
        };
        // One entry per rule, its reasons joined (the first few, then how many more).
        said.sort();
        said.dedup();
        let mut out: Vec<NotChecked> = Vec::new();
        let mut i = 0;
        while i < said.len() {
            let id = said[i].0;
            let whys: Vec<&str> = said[i..]
                .iter()
                .take_while(|(r, _)| *r == id)
                .map(|(_, w)| w.as_str())
                .collect();
            i += whys.len();
            const SHOWN: usize = 3;
            let mut why = whys[..whys.len().min(SHOWN)].join("; ");
            if whys.len() > SHOWN {
                why.push_str(&format!("; and {} more", whys.len() - SHOWN));
            }
            // Rules with the same reasons share one entry.
            match out.iter_mut().find(|n| n.why == why) {
                Some(n) => n.rules.push(id.to_string()),
                None => out.push(NotChecked {
                    rules: vec![id.to_string()],
                    why,
                }),
            }
        }
        out
    }

    /// Drops the findings of rules that need corroboration (`corroboration:`, the learned
    /// models) when no finding of the families named scores enough beside them. When
    /// every rule of those families is switched off (`--select MDL001`), the rule's
    /// finding stands alone.
    fn require_corroboration(&self, findings: &mut Vec<Finding>) {
        let needs = |f: &Finding| {
            self.index
                .get(&f.id)
                .and_then(|i| self.rules.rules()[i].corroboration.as_ref())
        };
        if !findings.iter().any(|f| needs(f).is_some()) {
            return;
        }
        let keep: Vec<bool> = findings
            .iter()
            .map(|f| needs(f).is_none_or(|c| self.corroborated(&f.id, c, findings)))
            .collect();
        let mut k = keep.iter();
        findings.retain(|_| *k.next().unwrap_or(&true));
    }

    /// Whether rule `id`'s corroboration `c` holds among `findings`: a finding of another
    /// rule of its families that refuses or scores enough, or no rule of those families
    /// runs at all.
    fn corroborated(
        &self,
        id: &str,
        c: &crate::rules::Corroboration,
        findings: &[Finding],
    ) -> bool {
        !self.index.get(id).is_some_and(|i| self.corroborable[i])
            || findings.iter().any(|o| {
                o.id != id
                    && c.families.contains(&o.family)
                    && (o.action == Action::Reject || o.score >= c.score)
            })
    }

    /// Adds a finding for every meta rule whose combination holds. Meta rules may build on
    /// meta rules (the loader refused cycles), so passes repeat until nothing changes.
    fn apply_metas(&self, findings: &mut Vec<Finding>) {
        if self.metas.is_empty() {
            return;
        }
        let mut done = vec![false; self.metas.len()];
        // The fired ids as numbers (see `IdIndex`): hundreds of questions a message, each
        // a few integer comparisons.
        let mut keys: Vec<Option<u64>> = findings.iter().map(|f| IdIndex::key(&f.id)).collect();
        loop {
            let mut changed = false;
            for (k, &i) in self.metas.iter().enumerate() {
                if done[k] {
                    continue;
                }
                let rule = &self.rules.rules()[i];
                let Some(meta) = &rule.meta else { continue };
                let fired = |id: &str| match IdIndex::key(id) {
                    Some(key) => keys.contains(&Some(key)),
                    None => findings.iter().any(|f| f.id == id),
                };
                if meta.fires(&fired) {
                    let parts: Vec<&Finding> = findings
                        .iter()
                        .filter(|f| meta.all_of.contains(&f.id) || meta.any_of.contains(&f.id))
                        .collect();
                    let names: Vec<String> = parts
                        .iter()
                        .map(|f| format!("{} {}", f.id, f.name))
                        .collect();
                    let evidence = parts
                        .iter()
                        .flat_map(|f| f.evidence.iter().cloned())
                        .collect();
                    let message = format!("{}: {}", rule.summary, names.join(" + "));
                    let f = self.finding(rule, message, evidence);
                    keys.push(IdIndex::key(&f.id));
                    findings.push(f);
                    done[k] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn merge_hits(&self, hits: Vec<Hit>) -> Vec<Finding> {
        // One finding per rule id: the distinct messages joined (each once, with its
        // count), evidence concatenated without repeats, both bounded, and how many more
        // hits there were. A weight from a data list stands in for the rule's score; a hit
        // without one keeps the rule's own action for the whole finding.
        struct Merged {
            rule: usize,
            messages: Vec<(String, usize)>,
            evidence: Vec<crate::report::Evidence>,
            weight: Option<f64>,
            more: usize,
        }
        let cap = self.config.max_evidence;
        let places: Vec<(&str, Option<&str>)> = hits.iter().map(|h| (h.id, h.place)).collect();
        let mut out: Vec<Merged> = Vec::new();
        for h in hits {
            let Some(i) = self.index.get(h.id) else {
                continue;
            };
            let m = match out.iter().position(|m| m.rule == i) {
                Some(k) => {
                    let m = &mut out[k];
                    m.weight = checks::join_weights(m.weight, h.score);
                    m
                }
                None => {
                    out.push(Merged {
                        rule: i,
                        messages: Vec::new(),
                        evidence: Vec::new(),
                        weight: h.score,
                        more: 0,
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            m.more += h.more;
            if !h.message.is_empty() {
                match m.messages.iter_mut().find(|(t, _)| *t == h.message) {
                    Some((_, n)) => *n += h.times,
                    None => m.messages.push((h.message, h.times)),
                }
            }
            checks::add_evidence(&mut m.evidence, h.evidence, cap);
        }
        out.into_iter()
            .map(|m| {
                let message = join_messages(String::new(), &m.messages, m.more, "; ");
                let rule = &self.rules.rules()[m.rule];
                let mut f = self.finding(rule, message, m.evidence);
                f.fix = fix_for(rule, &places);
                if let Some(w) = m.weight {
                    f.action = Action::Score;
                    f.score = w;
                }
                f
            })
            .collect()
    }

    fn finding(
        &self,
        rule: &Rule,
        mut message: String,
        evidence: Vec<crate::report::Evidence>,
    ) -> Finding {
        // Every finding is bounded here, whatever built it: the message in bytes, the
        // evidence in count (without repeats) and each snippet in bytes.
        crate::report::cut_message(&mut message);
        let mut kept = Vec::with_capacity(evidence.len().min(self.config.max_evidence));
        checks::add_evidence(&mut kept, evidence, self.config.max_evidence);
        let evidence = kept;
        Finding {
            id: rule.id.clone(),
            name: rule.name.clone(),
            family: rule.family.clone(),
            action: rule.action,
            score: if rule.action == Action::Reject {
                0.0
            } else {
                rule.score
            },
            message,
            why: rule.why.clone(),
            fix: rule.fix.clone(),
            predicts: rule.predicts.clone(),
            evidence,
        }
    }
}

/// The fix a finding of `rule` shows: the rule's `fixes` entry for each place its hits
/// name (`fix` for a hit without one), each once, in the order of the hits.
fn fix_for(rule: &Rule, places: &[(&str, Option<&str>)]) -> String {
    if rule.fixes.is_empty() {
        return rule.fix.clone();
    }
    let mut parts: Vec<&str> = Vec::new();
    for (_, place) in places.iter().filter(|(id, _)| *id == rule.id) {
        let fix = place
            .and_then(|p| rule.fixes.get(p))
            .map_or(rule.fix.as_str(), String::as_str);
        if !parts.contains(&fix) {
            parts.push(fix);
        }
    }
    if parts.is_empty() {
        return rule.fix.clone();
    }
    parts.join(" ")
}

/// `head` followed by `items` (`message`, times seen) joined with `sep`, a count after
/// those seen more than once, while the whole stays within [`crate::report::MESSAGE_MAX`];
/// what does not fit, and `more` hits that kept no message, end it as "and N more".
fn join_messages(mut out: String, items: &[(String, usize)], more: usize, sep: &str) -> String {
    use crate::report::MESSAGE_MAX;
    // Room kept for the ending ("; and 18446744073709551615 more").
    const ENDING: usize = 32;
    let start = out.len();
    let mut left = more;
    for (k, (text, times)) in items.iter().enumerate() {
        let piece = if *times > 1 {
            format!("{text} ({times} times)")
        } else {
            text.clone()
        };
        let first = out.len() == start;
        let sep_len = if first { 0 } else { sep.len() };
        let room = MESSAGE_MAX.saturating_sub(out.len() + sep_len + ENDING);
        if piece.len() > room && !first {
            left += items[k..].iter().map(|(_, n)| n).sum::<usize>();
            break;
        }
        if !first {
            out.push_str(sep);
        }
        if piece.len() > room {
            // The first message alone is too long: cut, so the ending still fits.
            let cut = crate::util::truncate_str(&piece, room.saturating_sub(3));
            out.push_str(cut);
            out.push('\u{2026}');
        } else {
            out.push_str(&piece);
        }
    }
    if left > 0 {
        if out.len() > start {
            out.push_str(sep);
        }
        out.push_str(&format!("and {left} more"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_and_sync() {
        assert_send_sync::<Engine>();
    }

    fn finding(engine: &Engine, id: &str, score: f64) -> Finding {
        let rule = &engine.rules.rules()[engine.rules.index(id).unwrap()];
        let mut f = engine.finding(rule, String::new(), Vec::new());
        f.score = score;
        f
    }

    /// The content model counts only beside a strong finding of another kind, unless the
    /// selection switched every such rule off.
    #[test]
    fn the_model_needs_corroboration() {
        let engine = Engine::new(Config::default()).unwrap();
        let ids = |mut v: Vec<Finding>, e: &Engine| {
            e.require_corroboration(&mut v);
            v.into_iter().map(|f| f.id).collect::<Vec<_>>()
        };
        let weak = vec![
            finding(&engine, "MDL001", 4.0),
            finding(&engine, "MIME001", 1.0),
            finding(&engine, "CNT039", 0.5),
        ];
        assert_eq!(ids(weak, &engine), ["MIME001", "CNT039"]);
        let strong = vec![
            finding(&engine, "MDL001", 4.0),
            finding(&engine, "CNT040", 3.5),
        ];
        assert_eq!(ids(strong, &engine), ["MDL001", "CNT040"]);
        let alone = Engine::new(Config {
            select: vec!["MDL001".into(), "MIME".into()],
            ..Config::default()
        })
        .unwrap();
        let weak = vec![
            finding(&alone, "MDL001", 4.0),
            finding(&alone, "MIME001", 1.0),
        ];
        assert_eq!(ids(weak, &alone), ["MDL001", "MIME001"]);
    }

    /// A check that always panics, claiming an HTML rule.
    struct Panics;

    impl Check for Panics {
        fn ids(&self) -> &'static [&'static str] {
            &["HTML001"]
        }
        fn run(&self, _: &Message<'_>, _: &mut Ctx<'_>) {
            panic!("a bug in a check");
        }
    }

    #[test]
    fn a_panicking_check_is_named_and_the_others_still_run() {
        let mut engine = Engine::new(Config::default()).unwrap();
        engine.checks.push(Box::new(Panics));
        engine.deferred.push(false);
        engine.online.push(false);
        let r = engine.check(
            include_bytes!("../../samples/canary.eml"),
            &Envelope::default(),
        );
        assert_eq!(r.internal_errors, ["the html check panicked"]);
        assert_eq!(r.unchecked, ["html"]);
        // The rest was checked: the canary is still rejected by the content rules.
        assert!(r.findings.iter().any(|f| f.id == "CNT001"), "{r:?}");
        // And the milter judges it by those, saying what was not checked.
        #[cfg(feature = "milter")]
        milter_judges_by_the_rest(&engine, &r);
    }

    #[cfg(feature = "milter")]
    fn milter_judges_by_the_rest(engine: &Engine, r: &crate::Report) {
        let settings = crate::config::MilterConfig::default();
        let (replies, _) = crate::milter::reply::decide(&settings, r);
        assert!(
            matches!(&replies[..], [crate::milter::protocol::Response::ReplyCode(t)] if t.starts_with("554 5.7.1")),
            "{replies:?}"
        );
        let good = engine.check(
            include_bytes!("../../samples/good-personal-reply.eml"),
            &Envelope::default(),
        );
        let (replies, _) = crate::milter::reply::decide(&settings, &good);
        assert!(
            matches!(&replies[0], crate::milter::protocol::Response::AddHeader { value, .. } if value.ends_with("; unchecked=html")),
            "{replies:?}"
        );
    }

    #[test]
    fn network_checks_run_only_online_and_ask_in_rounds() {
        use crate::dns::{Fixed, Query, RecordType};
        let engine = Engine::new(Config {
            select: vec!["RCPT004".into()],
            ..Config::default()
        })
        .unwrap();
        let env = Envelope {
            rcpt_to: vec!["bob@lame.example".into()],
            ..Envelope::default()
        };
        let raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
        let zone = Fixed::parse("lame.example MX 10 mx.lame.example\n", "z").unwrap();
        // First the MX, then (with it answered) the exchanger's addresses.
        let mut answers = Answers::new();
        let first = engine.plan(raw, &env, &answers);
        assert_eq!(first, vec![Query::new("lame.example", RecordType::Mx)]);
        for (q, a) in crate::dns::Resolver::resolve(&zone, &first) {
            answers.insert(q, a);
        }
        assert_eq!(
            engine.plan(raw, &env, &answers),
            vec![
                Query::new("mx.lame.example", RecordType::A),
                Query::new("mx.lame.example", RecordType::Aaaa)
            ]
        );
        let ids = |r: &Report| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert!(!ids(&engine.check(raw, &env)).contains(&"RCPT004".to_string()));
        let online = engine.check_online(raw, &env, &zone);
        assert!(ids(&online).contains(&"RCPT004".to_string()), "{online:?}");
        // Failed lookups decide nothing.
        let failing = Fixed::parse("lame.example MX SERVFAIL\n", "z").unwrap();
        assert!(!ids(&engine.check_online(raw, &env, &failing)).contains(&"RCPT004".to_string()));
        // With the rule off, nothing is asked.
        let off = Engine::new(Config {
            ignore: vec!["RCPT004".into(), "REP".into()],
            ..Config::default()
        })
        .unwrap();
        assert!(off.plan(raw, &env, &Answers::new()).is_empty());
    }

    #[test]
    fn a_receiver_profile_brings_limits_reply_texts_overrides_and_thresholds() {
        let env = Envelope {
            rcpt_to: (0..101).map(|i| format!("r{i}@example.org")).collect(),
            ..Envelope::default()
        };
        let raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
        let rcpt002 = |profile: &str, dirs: Vec<std::path::PathBuf>| {
            let mut c = Config::default();
            c.limits.profile = profile.into();
            c.rules_dirs = dirs;
            let e = Engine::new(c)?;
            let r = e.check(raw, &env);
            Ok::<_, Error>((
                r.thresholds,
                r.findings.into_iter().find(|f| f.id == "RCPT002"),
            ))
        };
        // Postfix takes 1,000 recipients; Gmail 100, and answers in its own words.
        assert!(rcpt002("postfix", vec![]).unwrap().1.is_none());
        let (_, f) = rcpt002("gmail", vec![]).unwrap();
        let f = f.expect("RCPT002 under gmail");
        assert_eq!(
            f.predicts[0],
            "452 4.5.3 Your message has too many recipients."
        );
        assert!(f.message.contains("(the gmail profile)"), "{}", f.message);
        // A local profile: thresholds, a score override; a bad override is a rule error.
        let dir =
            std::env::temp_dir().join(format!("preflight-engine-profile-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("profiles")).unwrap();
        std::fs::write(
            dir.join("profiles/strict.yaml"),
            "name: strict\nreceiver: the strict relay's limit\nsummary: s\n\
             limits: {max_message_bytes: 100000, max_recipients: 10}\n\
             thresholds: {flag: 2, reject: 4}\noverrides:\n  - id: RCPT002\n    score: 3.5\n",
        )
        .unwrap();
        let (t, f) = rcpt002("strict", vec![dir.clone()]).unwrap();
        assert_eq!((t.flag, t.reject), (2.0, 4.0));
        assert_eq!(f.expect("RCPT002 under strict").score, 3.5);
        std::fs::write(
            dir.join("profiles/strict.yaml"),
            "name: strict\nreceiver: r\nsummary: s\nlimits: {max_message_bytes: 1, max_recipients: 1}\n\
             overrides:\n  - id: NOPE001\n    score: 1\n",
        )
        .unwrap();
        let e = rcpt002("strict", vec![dir.clone()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("strict.yaml") && e.contains("does not exist"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        let e = rcpt002("hotmail", vec![]).unwrap_err().to_string();
        assert!(
            e.contains("unknown profile `hotmail` (known: gmail, microsoft, postfix)"),
            "{e}"
        );
    }

    /// The ids implemented in code and the shipped YAML entries without a pattern or a
    /// meta combination agree both ways.
    #[test]
    fn code_and_yaml_ids_agree_both_ways() {
        use std::collections::BTreeSet;
        let code: BTreeSet<&str> = checks::all()
            .iter()
            .flat_map(|c| c.ids().iter().copied())
            .collect();
        let rules = RuleSet::load(&[]).unwrap();
        let yaml: BTreeSet<&str> = rules
            .rules()
            .iter()
            .filter(|r| r.pattern.is_none() && r.meta.is_none())
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            code,
            yaml,
            "code-only ids: {:?}, YAML-only ids: {:?}",
            code.difference(&yaml).collect::<Vec<_>>(),
            yaml.difference(&code).collect::<Vec<_>>()
        );
    }

    #[test]
    fn gtube_is_rejected() {
        let e = Engine::new(Config::default()).unwrap();
        let r = e.check(b"From: a@b.example\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n", &Envelope::default());
        assert_eq!(r.verdict, crate::report::Verdict::Reject);
        assert!(r.findings.iter().any(|f| f.id == "CNT001"));
    }

    /// The library and the CLI agree on what is not mail: `check` marks it (with the
    /// CLI's reason), `try_check` refuses it; real messages, however broken, are neither.
    #[test]
    fn not_mail_is_marked_by_check_and_refused_by_try_check() {
        let e = Engine::new(Config::default()).unwrap();
        let env = Envelope::default();
        for raw in [
            &b""[..],
            b" \r\n\n",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0",
            b"Dear Ann,\nsee you Monday.\n",
        ] {
            let why = crate::message::looks_like_mail(raw).unwrap_err();
            let r = e.check(raw, &env);
            assert_eq!(r.not_mail.as_deref(), Some(why.as_str()), "{raw:?}");
            let err = e.try_check(raw, &env).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotMail);
            assert_eq!(err.exit_code(), 65);
            assert!(err.to_string().contains(&why), "{err}");
        }
        for raw in [
            &b"Subject: x\r\nSubject: y\r\n\r\nbody\n"[..],
            b"From: a@b.example\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n",
        ] {
            let r = e.check(raw, &env);
            assert_eq!(r.not_mail, None);
            assert_eq!(r.verdict, crate::report::Verdict::Reject);
            assert_eq!(e.try_check(raw, &env).unwrap(), r);
        }
        // Not in the JSON of a message.
        let json = serde_json::to_string(&e.check(b"Subject: x\n\nhi\n", &env)).unwrap();
        assert!(!json.contains("not_mail"), "{json}");
    }

    #[test]
    fn messages_join_distinct_hits_with_counts_and_stay_bounded() {
        let items = vec![("a".to_string(), 3), ("b".to_string(), 1)];
        assert_eq!(
            join_messages(String::new(), &items, 0, "; "),
            "a (3 times); b"
        );
        assert_eq!(
            join_messages("S: ".into(), &items, 4, ", "),
            "S: a (3 times), b, and 4 more"
        );
        let long: Vec<(String, usize)> = (0..100).map(|i| (format!("{i:0>100}"), 1)).collect();
        let m = join_messages(String::new(), &long, 900, "; ");
        assert!(m.len() <= crate::report::MESSAGE_MAX, "{}", m.len());
        // Nine pieces fit; the other 91 and the 900 counted ones are the rest.
        assert!(m.ends_with("; and 991 more"), "{m}");
        // A first message of the whole size is cut so that the count still shows.
        let huge = vec![("x".repeat(crate::report::MESSAGE_MAX), 2)];
        let m = join_messages(String::new(), &huge, 7, "; ");
        assert!(m.len() <= crate::report::MESSAGE_MAX, "{}", m.len());
        assert!(m.ends_with("x\u{2026}; and 7 more"), "{m}");
    }

    #[test]
    fn a_phrase_seen_in_several_texts_is_quoted_once() {
        let e = Engine::new(Config {
            select: vec!["CNT032".into()],
            ..Config::default()
        })
        .unwrap();
        let raw = "From: a@b.example\nSubject: ACT NOW\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\nACT NOW please\n--B\nContent-Type: text/html\n\n<p>ACT NOW please</p>\n--B--\n";
        let r = e.check(raw.as_bytes(), &Envelope::default());
        let f = r
            .findings
            .iter()
            .find(|f| f.id == "CNT032")
            .expect("CNT032");
        assert!(
            f.message.ends_with(": \u{201c}ACT NOW\u{201d} (3 times)"),
            "{}",
            f.message
        );
        assert_eq!(f.evidence.len(), 3);
    }

    #[test]
    fn selectors_must_match_something() {
        let c = Config {
            select: vec!["NOPE".into()],
            ..Config::default()
        };
        assert!(Engine::new(c).is_err());
    }
}
