//! Loading rule packs: each YAML file read with serde-saphyr into spanned maps (so every
//! problem has a `file:line:column`), checked field by field, overrides applied, meta
//! rules resolved, and every problem collected before [`RuleSet::load`] answers.

use super::*;

pub(super) const RULE_FIELDS: &[&str] = &[
    "id",
    "name",
    "family",
    "summary",
    "why",
    "fix",
    "fixes",
    "score",
    "action",
    "predicts",
    "literals",
    "literals_file",
    "regex",
    "target",
    "case",
    "whole_word",
    "min_hits",
    "examples",
    "enabled",
    "all_of",
    "any_of",
    "none_of",
    "at_least",
    "curve",
    "corroboration",
];
pub(super) const OVERRIDE_FIELDS: &[&str] = &["id", "score", "action", "enabled", "predicts"];

pub(super) type SpannedMap = BTreeMap<String, Spanned<Value>>;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    rules: Vec<Spanned<SpannedMap>>,
    #[serde(default)]
    overrides: Vec<Spanned<SpannedMap>>,
}

/// A receiver profile as the loader reads it: only its overrides (the configuration reads
/// the rest, [`crate::config::Profile`]).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(super) struct RawProfile {
    name: serde::de::IgnoredAny,
    receiver: serde::de::IgnoredAny,
    summary: serde::de::IgnoredAny,
    limits: serde::de::IgnoredAny,
    #[serde(default)]
    thresholds: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    overrides: Vec<Spanned<SpannedMap>>,
}

pub(super) struct Loader {
    pub(super) problems: Vec<LoadProblem>,
    pub(super) rules: Vec<Rule>,
    pub(super) by_id: HashMap<String, usize>,
    /// Every rule id defined so far, with its place, rules with problems included: a
    /// second definition is a duplicate however broken the first one is.
    pub(super) defined: HashMap<String, Origin>,
    /// Every rule name defined so far, with the id of its rule.
    pub(super) names: HashMap<String, String>,
}

/// Fields whose value is a string, and fields whose value is a list of strings (or one
/// string), in rules and overrides.
pub(super) const STRING_FIELDS: &[&str] = &[
    "id",
    "name",
    "family",
    "summary",
    "why",
    "fix",
    "action",
    "literals_file",
    "regex",
    "target",
    "case",
];
pub(super) const STRING_LIST_FIELDS: &[&str] =
    &["predicts", "literals", "all_of", "any_of", "none_of"];

/// The text of a scalar as written in `src`, from its place.
pub(super) fn written<'s>(src: &'s str, loc: &serde_saphyr::Location) -> Option<&'s str> {
    let span = loc.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    src.get(start..start.checked_add(len)?)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Reports the values YAML reads as booleans where a string belongs (`why: y`,
/// `literals: [yes, no]`): YAML 1.1 takes `y`, `yes`, `on`, `true` (and `n`, `no`, `off`,
/// `false`) for booleans. Each gets one problem that says to quote it; the value is then
/// put back as the string it was written as, so the other checks do not report it again
/// (the rule is refused either way).
pub(super) fn booleans_as_strings(
    file: &str,
    src: &str,
    m: &SpannedMap,
    problems: &mut Vec<(Origin, String)>,
) -> Option<SpannedMap> {
    let flip = |v: &Value| match v {
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    };
    let mut fixed: Option<SpannedMap> = None;
    for (k, v) in m {
        let at = origin(file, &v.referenced);
        let value = match (&v.value, k.as_str()) {
            (Value::Bool(b), key)
                if STRING_FIELDS.contains(&key) || STRING_LIST_FIELDS.contains(&key) =>
            {
                let shown =
                    written(src, &v.referenced).map_or_else(|| b.to_string(), str::to_string);
                problems.push((
                    at,
                    format!("`{k}` is a boolean ({shown} reads as {b} in YAML), quote it: {k}: \"{shown}\""),
                ));
                Value::String(shown)
            }
            (Value::Array(a), key)
                if STRING_LIST_FIELDS.contains(&key) && a.iter().any(Value::is_boolean) =>
            {
                problems.push((
                    at,
                    format!(
                        "`{k}` holds a boolean (YAML reads unquoted y, yes, on, n, no, off as true or false), quote it"
                    ),
                ));
                Value::Array(a.iter().map(flip).collect())
            }
            (Value::Object(o), "examples") => {
                let mut o2 = o.clone();
                let mut changed = false;
                for key in ["match", "no_match"] {
                    if let Some(Value::Array(a)) = o.get(key)
                        && a.iter().any(Value::is_boolean)
                    {
                        problems.push((
                            at.clone(),
                            format!(
                                "`examples.{key}` holds a boolean (YAML reads unquoted y, yes, on, n, no, off as true or false), quote it"
                            ),
                        ));
                        o2.insert(key.into(), Value::Array(a.iter().map(flip).collect()));
                        changed = true;
                    }
                }
                if !changed {
                    continue;
                }
                Value::Object(o2)
            }
            _ => continue,
        };
        fixed
            .get_or_insert_with(|| m.clone())
            .insert(k.clone(), Spanned::new(value, v.referenced, v.defined));
    }
    fixed
}

pub(super) fn origin(file: &str, loc: &serde_saphyr::Location) -> Origin {
    Origin {
        file: file.to_string(),
        line: loc.line(),
        column: loc.column(),
    }
}

pub(super) fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

impl Loader {
    fn problem(&mut self, o: Origin, id: &str, p: impl Into<String>) {
        self.problems.push(LoadProblem {
            origin: o,
            id: if id.is_empty() { "-".into() } else { id.into() },
            problem: p.into(),
        });
    }

    /// Parses `text` as `T`; a YAML error is a problem at its place in `file`.
    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &str, text: &str) -> Option<T> {
        serde_saphyr::from_str(text)
            .map_err(|e| {
                let (line, column, msg) = crate::util::yaml_error(&e);
                let o = Origin {
                    file: file.into(),
                    line,
                    column,
                };
                self.problem(o, "-", msg);
            })
            .ok()
    }

    pub(super) fn load_file(&mut self, file: &str, text: &str) {
        let Some(raw) = self.parse::<RawFile>(file, text) else {
            return;
        };
        for r in &raw.rules {
            let (rule, ok) = self.rule(file, text, r);
            // Ids and names are claimed by every definition, broken or not, so a
            // duplicate shows in the same run as the other problems.
            let mut unique = true;
            if !rule.id.is_empty() {
                if let Some(prev) = self.defined.get(&rule.id) {
                    let p = format!(
                        "duplicate id (first defined at {prev}); use `overrides:` to change a shipped rule"
                    );
                    self.problem(rule.origin.clone(), &rule.id, p);
                    unique = false;
                } else {
                    self.defined.insert(rule.id.clone(), rule.origin.clone());
                }
            }
            if !rule.name.is_empty() {
                if let Some(prev) = self.names.get(&rule.name) {
                    let p = format!("duplicate name `{}` (also used by {prev})", rule.name);
                    self.problem(rule.origin.clone(), &rule.id, p);
                    unique = false;
                } else {
                    self.names.insert(rule.name.clone(), rule.id.clone());
                }
            }
            if ok && unique {
                self.by_id.insert(rule.id.clone(), self.rules.len());
                self.rules.push(rule);
            }
        }
        for o in &raw.overrides {
            self.apply_override(file, text, o);
        }
    }

    /// Applies a receiver profile's overrides (it defines no rules).
    pub(super) fn load_profile(&mut self, file: &str, text: &str) {
        if let Some(raw) = self.parse::<RawProfile>(file, text) {
            for o in &raw.overrides {
                self.apply_override(file, text, o);
            }
        }
    }

    /// The id of an entry (a rule or an override), and its map with quoted booleans read
    /// as written (`None`: the map as it is). Quoted booleans and fields not in `allowed`
    /// (`what` names them in the problem: "field", "override field") are problems.
    fn entry(
        &mut self,
        file: &str,
        src: &str,
        e: &Spanned<SpannedMap>,
        allowed: &[&str],
        what: &str,
    ) -> (String, Option<SpannedMap>) {
        let id = e
            .value
            .get("id")
            .and_then(|v| v.value.as_str())
            .unwrap_or("")
            .trim()
            .to_string();
        let mut quoted = Vec::new();
        let fixed = booleans_as_strings(file, src, &e.value, &mut quoted);
        for (o, p) in quoted {
            self.problem(o, &id, p);
        }
        for (k, v) in fixed.as_ref().unwrap_or(&e.value) {
            if !allowed.contains(&k.as_str()) {
                self.problem(
                    origin(file, &v.referenced),
                    &id,
                    format!(
                        "unknown {what} `{k}` (expected one of: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        (id, fixed)
    }

    /// Reads one rule and checks it fully. Returns it with whether it is free of
    /// problems (a rule with problems still names its id, name and place).
    fn rule(&mut self, file: &str, src: &str, r: &Spanned<SpannedMap>) -> (Rule, bool) {
        let at = origin(file, &r.referenced);
        let before = self.problems.len();
        let (id, fixed) = self.entry(file, src, r, RULE_FIELDS, "field");
        let m = fixed.as_ref().unwrap_or(&r.value);
        let text = |this: &mut Self, key: &str, required: bool| -> String {
            match m.get(key) {
                Some(v) => match &v.value {
                    Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
                    _ => {
                        this.problem(
                            origin(file, &v.referenced),
                            &id,
                            format!("`{key}` must be a non-empty string"),
                        );
                        String::new()
                    }
                },
                None if required => {
                    this.problem(at.clone(), &id, format!("missing required field `{key}`"));
                    String::new()
                }
                None => String::new(),
            }
        };
        let _ = text(self, "id", true);
        let name = text(self, "name", true);
        let family = text(self, "family", true);
        let summary = text(self, "summary", true);
        let why = text(self, "why", true);
        let fix = text(self, "fix", true);
        if !id.is_empty() && !crate::family::valid_id(&id) {
            self.problem(
                at.clone(),
                &id,
                "id must be a family prefix and three digits (e.g. HDR001)",
            );
        }
        if !name.is_empty() && !is_kebab(&name) {
            self.problem(at.clone(), &id, format!("name `{name}` is not kebab-case"));
        }
        match crate::family::prefix(&family) {
            None if !family.is_empty() => {
                let names: Vec<_> = crate::family::FAMILIES.iter().map(|f| f.name).collect();
                self.problem(
                    at.clone(),
                    &id,
                    format!(
                        "unknown family `{family}` (expected one of: {})",
                        names.join(", ")
                    ),
                );
            }
            Some(p) if !id.is_empty() && !id.starts_with(p) => {
                self.problem(
                    at.clone(),
                    &id,
                    format!("id of a `{family}` rule must start with {p}"),
                );
            }
            _ => {}
        }
        let (score, action) = self.score_action(file, m, &id, &at, true);
        let predicts = self.predicts(file, m, &id).unwrap_or_default();
        if predicts.is_empty() && m.get("predicts").is_none() {
            self.problem(at.clone(), &id, "missing required field `predicts`");
        }
        let enabled = self.boolean(file, m, "enabled", &id).unwrap_or(true);
        let mut extra = None;
        if let Some(v) = m.get("literals_file") {
            match v.value.as_str().map(|rel| read_list(file, rel)) {
                Some(Ok(text)) => {
                    let list = parse_list(&text);
                    if list.is_empty() {
                        self.problem(
                            origin(file, &v.referenced),
                            &id,
                            "the `literals_file` list is empty",
                        );
                    }
                    extra = Some(list);
                }
                Some(Err(e)) => self.problem(origin(file, &v.referenced), &id, e),
                None => self.problem(
                    origin(file, &v.referenced),
                    &id,
                    "`literals_file` must be a path",
                ),
            }
        }
        let meta = self.meta(file, m, &id);
        let pattern = match pattern::PatternSpec::from_fields(m, extra) {
            Ok(p) => p,
            Err(problems) => {
                for (loc, msg) in problems {
                    let o = loc.map_or(at.clone(), |l| origin(file, &l));
                    self.problem(o, &id, msg);
                }
                None
            }
        };
        if meta.is_some() && pattern.is_some() {
            self.problem(
                at.clone(),
                &id,
                "a rule is either a pattern or a meta rule (all_of/any_of/none_of), not both",
            );
        }
        let examples = self.examples(file, m, &id);
        let fixes = self.fixes(file, m, &id);
        let curve = self.curve(file, m, &id);
        let corroboration = self.corroboration(file, m, &id);
        if !curve.is_empty() && (pattern.is_some() || meta.is_some()) {
            self.problem(
                at.clone(),
                &id,
                "`curve` is for rules implemented in code that score a probability",
            );
        }
        let ok = self.problems.len() == before;
        let rule = Rule {
            id,
            name,
            family,
            summary,
            why,
            fix,
            fixes,
            score,
            action,
            predicts,
            pattern,
            meta,
            curve,
            corroboration,
            examples,
            enabled,
            origin: at,
            overridden_at: None,
        };
        (rule, ok)
    }

    fn meta(&mut self, file: &str, m: &SpannedMap, id: &str) -> Option<MetaSpec> {
        let mut spec = MetaSpec::default();
        let mut any = false;
        for key in ["all_of", "any_of", "none_of"] {
            let Some(v) = m.get(key) else { continue };
            any = true;
            let list: Option<Vec<String>> = v
                .value
                .as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect());
            match list {
                Some(l) if !l.is_empty() => match key {
                    "all_of" => spec.all_of = l,
                    "any_of" => spec.any_of = l,
                    _ => spec.none_of = l,
                },
                _ => self.problem(
                    origin(file, &v.referenced),
                    id,
                    format!("`{key}` must be a non-empty list of rule ids"),
                ),
            }
        }
        if let Some(v) = m.get("at_least") {
            match v.value.as_u64() {
                Some(n) if n >= 1 && (n as usize) <= spec.any_of.len() => {
                    spec.at_least = n as usize
                }
                _ => self.problem(
                    origin(file, &v.referenced),
                    id,
                    "`at_least` must be a number from 1 to the length of `any_of`",
                ),
            }
        }
        if any
            && spec.all_of.is_empty()
            && spec.any_of.is_empty()
            && let Some(v) = m.get("none_of")
        {
            self.problem(
                origin(file, &v.referenced),
                id,
                "a meta rule needs `all_of` or `any_of`",
            );
        }
        any.then_some(spec)
    }

    fn boolean(&mut self, file: &str, m: &SpannedMap, key: &str, id: &str) -> Option<bool> {
        let v = m.get(key)?;
        match v.value.as_bool() {
            Some(b) => Some(b),
            None => {
                self.problem(
                    origin(file, &v.referenced),
                    id,
                    format!("`{key}` must be true or false"),
                );
                None
            }
        }
    }

    fn score_action(
        &mut self,
        file: &str,
        m: &SpannedMap,
        id: &str,
        at: &Origin,
        required: bool,
    ) -> (f64, Action) {
        let mut score = 0.0;
        let mut action = Action::Score;
        if let Some(v) = m.get("score") {
            match v.value.as_f64() {
                Some(s) if s.is_finite() && (-100.0..=100.0).contains(&s) => score = s,
                _ => self.problem(
                    origin(file, &v.referenced),
                    id,
                    "`score` must be a number between -100 and 100",
                ),
            }
        }
        if let Some(v) = m.get("action") {
            match v.value.as_str() {
                Some("reject") => action = Action::Reject,
                Some("score") => action = Action::Score,
                _ => self.problem(
                    origin(file, &v.referenced),
                    id,
                    "`action` must be `reject` or `score`",
                ),
            }
        }
        if required && m.get("score").is_none() && m.get("action").is_none() {
            self.problem(at.clone(), id, "needs a `score` or `action: reject`");
        }
        (score, action)
    }

    fn predicts(&mut self, file: &str, m: &SpannedMap, id: &str) -> Option<Vec<String>> {
        let v = m.get("predicts")?;
        let list: Vec<String> = match &v.value {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => {
                self.problem(
                    origin(file, &v.referenced),
                    id,
                    "`predicts` must be a reply string or a list of them",
                );
                return None;
            }
        };
        for p in &list {
            if crate::report::Reply::parse(p).is_none() {
                self.problem(
                    origin(file, &v.referenced),
                    id,
                    format!("`predicts` entry `{p}` does not start with an SMTP reply code"),
                );
            }
        }
        if list.is_empty() {
            self.problem(origin(file, &v.referenced), id, "`predicts` is empty");
        }
        Some(list)
    }

    /// `corroboration: {score: 2.5, families: [content, links]}`: a positive score and
    /// known families.
    fn corroboration(&mut self, file: &str, m: &SpannedMap, id: &str) -> Option<Corroboration> {
        let v = m.get("corroboration")?;
        let o = v.value.as_object();
        let score = o.and_then(|o| o.get("score")).and_then(Value::as_f64);
        let families: Option<Vec<String>> = o
            .and_then(|o| o.get("families"))
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|f| f.as_str().map(str::to_string)).collect());
        let known = |f: &String| crate::family::named(f).is_some();
        match (score, families) {
            (Some(score), Some(families))
                if score > 0.0
                    && !families.is_empty()
                    && families.iter().all(known)
                    && o.is_some_and(|o| o.len() == 2) =>
            {
                Some(Corroboration { score, families })
            }
            _ => {
                self.problem(
                    origin(file, &v.referenced),
                    id,
                    "`corroboration` must be {score: N, families: [...]} with a positive score and known families",
                );
                None
            }
        }
    }

    /// `curve: [[0.9, 0.0], [0.99, 1.0]]`: at least two points, probabilities rising
    /// strictly inside 0..=1, fractions of the score from 0 to 1 and never falling.
    fn curve(&mut self, file: &str, m: &SpannedMap, id: &str) -> Vec<(f64, f64)> {
        let Some(v) = m.get("curve") else {
            return Vec::new();
        };
        let points: Option<Vec<(f64, f64)>> = v.value.as_array().and_then(|a| {
            a.iter()
                .map(|p| match p.as_array().map(Vec::as_slice) {
                    Some([x, y]) => Some((x.as_f64()?, y.as_f64()?)),
                    _ => None,
                })
                .collect()
        });
        let good = points.as_ref().is_some_and(|p| {
            p.len() >= 2
                && p.iter()
                    .all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y))
                && p.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 >= w[0].1)
        });
        if !good {
            self.problem(
                origin(file, &v.referenced),
                id,
                "`curve` must be a list of at least two [probability, fraction] pairs, probabilities rising, both from 0 to 1, fractions never falling",
            );
            return Vec::new();
        }
        points.unwrap_or_default()
    }

    /// `fixes:`, a map from a place (kebab-case) to the fix for a defect there.
    fn fixes(&mut self, file: &str, m: &SpannedMap, id: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(v) = m.get("fixes") else {
            return out;
        };
        let o = origin(file, &v.referenced);
        let Some(map) = v.value.as_object().filter(|m| !m.is_empty()) else {
            self.problem(
                o,
                id,
                "`fixes` must be a map from a place (`header`) to its fix",
            );
            return out;
        };
        for (place, text) in map {
            match text.as_str().map(str::trim) {
                Some(t) if !t.is_empty() && is_kebab(place) => {
                    out.insert(place.clone(), t.to_string());
                }
                _ => self.problem(
                    o.clone(),
                    id,
                    format!("`fixes.{place}` must be a kebab-case place and a non-empty fix"),
                ),
            }
        }
        out
    }

    fn examples(&mut self, file: &str, m: &SpannedMap, id: &str) -> Examples {
        let mut ex = Examples::default();
        let Some(v) = m.get("examples") else {
            return ex;
        };
        let o = origin(file, &v.referenced);
        let Some(map) = v.value.as_object() else {
            self.problem(
                o,
                id,
                "`examples` must be a map with `match` and `no_match` lists",
            );
            return ex;
        };
        for (k, list) in map {
            let strings: Option<Vec<String>> = list
                .as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect());
            match (k.as_str(), strings) {
                ("match", Some(s)) => ex.matching = s,
                ("no_match", Some(s)) => ex.not_matching = s,
                ("limits", _) => {
                    match serde_json::from_value::<crate::config::Limits>(list.clone()) {
                        Ok(l) => ex.limits = Some(l),
                        Err(e) => self.problem(o.clone(), id, format!("`examples.limits`: {e}")),
                    }
                }
                ("sending", _) => {
                    match serde_json::from_value::<crate::config::Sending>(list.clone()) {
                        Ok(v) => ex.sending = Some(v),
                        Err(e) => self.problem(o.clone(), id, format!("`examples.sending`: {e}")),
                    }
                }
                ("answers", _) => match list.as_str() {
                    Some(text) => match crate::dns::Fixed::parse(text, "examples.answers") {
                        Ok(_) => ex.answers = Some(text.to_string()),
                        Err(e) => self.problem(o.clone(), id, e.to_string()),
                    },
                    None => self.problem(
                        o.clone(),
                        id,
                        "`examples.answers` must be text: DNS answers, one record per line",
                    ),
                },
                ("match" | "no_match", None) => self.problem(
                    o.clone(),
                    id,
                    format!("`examples.{k}` must be a list of strings"),
                ),
                _ => self.problem(
                    o.clone(),
                    id,
                    format!(
                        "unknown field `examples.{k}` (expected match, no_match, limits, sending, answers)"
                    ),
                ),
            }
        }
        ex
    }

    fn apply_override(&mut self, file: &str, src: &str, o: &Spanned<SpannedMap>) {
        let at = origin(file, &o.referenced);
        let before = self.problems.len();
        let (id, fixed) = self.entry(file, src, o, OVERRIDE_FIELDS, "override field");
        let m = fixed.as_ref().unwrap_or(&o.value);
        // The values are checked whether or not the rule exists, so every problem of
        // the override shows at once.
        let (score, action) = self.score_action(file, m, &id, &at, false);
        let enabled = self.boolean(file, m, "enabled", &id);
        let predicts = self.predicts(file, m, &id);
        if id.is_empty() {
            self.problem(at.clone(), "-", "override without an `id`");
            return;
        }
        let Some(&i) = self.by_id.get(&id) else {
            // A rule defined with problems has had them reported already.
            if !self.defined.contains_key(&id) {
                self.problem(at, &id, "override for a rule that does not exist");
            }
            return;
        };
        if self.problems.len() > before {
            return;
        }
        let rule = &mut self.rules[i];
        if m.contains_key("score") {
            rule.score = score;
            if !m.contains_key("action") {
                rule.action = Action::Score;
            }
        }
        if m.contains_key("action") {
            rule.action = action;
        }
        if let Some(e) = enabled {
            rule.enabled = e;
        }
        if let Some(p) = predicts {
            rule.predicts = p;
        }
        rule.overridden_at = Some(at);
    }
}

/// One error listing every problem, one per line (`file:line:column: ID: problem`),
/// then those of the data lists, if any.
pub(super) fn problems_error(problems: &[LoadProblem], lists: Option<&Error>) -> Error {
    let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    if let Some(e) = lists {
        lines.extend(e.to_string().lines().map(str::to_string));
    }
    Error::new(
        ErrorKind::Rules,
        format!(
            "{} problem(s) in rule packs:\n{}",
            lines.len(),
            lines.join("\n")
        ),
    )
}

/// Lists the `.yaml`/`.yml` files of a directory, sorted by name.
pub(super) fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::with_source(
            ErrorKind::Rules,
            format!("cannot read rules directory {}: {e}", dir.display()),
            e,
        )
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    Ok(files)
}
