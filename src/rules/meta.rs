//! Meta rules: rules that fire on a combination of other rules, and the load-time checks
//! that keep them sound (every rule they name exists, and none depends on itself).

use std::collections::{HashMap, HashSet};

use super::{LoadProblem, Origin, Rule};

/// A meta rule's combination of other rules: it fires when every `all_of` rule fired, at
/// least `at_least` (default 1) of the `any_of` rules fired (when the list is not empty) and
/// no `none_of` rule fired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetaSpec {
    /// Rules that must all fire.
    pub all_of: Vec<String>,
    /// Rules of which at least one must fire (ignored when empty).
    pub any_of: Vec<String>,
    /// Rules that must not fire.
    pub none_of: Vec<String>,
    /// How many `any_of` rules must fire (`at_least`, default 1).
    pub at_least: usize,
}

impl MetaSpec {
    /// Every rule id it refers to.
    pub fn ids(&self) -> impl Iterator<Item = &String> {
        self.all_of.iter().chain(&self.any_of).chain(&self.none_of)
    }
    /// Whether it fires, given whether each rule fired.
    pub fn fires(&self, fired: &dyn Fn(&str) -> bool) -> bool {
        self.all_of.iter().all(|i| fired(i))
            && (self.any_of.is_empty()
                || self.any_of.iter().filter(|i| fired(i)).count() >= self.at_least.max(1))
            && !self.none_of.iter().any(|i| fired(i))
    }
}

/// The problems of the meta rules among `rules`: rules they name that `defined` does not
/// have (a rule defined with problems exists: its problems are reported on their own),
/// and cycles.
pub(super) fn problems(rules: &[Rule], defined: &HashMap<String, Origin>) -> Vec<LoadProblem> {
    let known: HashMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Vec::new();
    let mut problem = |r: &Rule, problem: String| {
        out.push(LoadProblem {
            origin: r.origin.clone(),
            id: r.id.clone(),
            problem,
        })
    };
    for r in rules {
        let Some(meta) = &r.meta else { continue };
        for dep in meta.ids() {
            if !defined.contains_key(dep.as_str()) {
                problem(r, format!("meta rule refers to unknown rule `{dep}`"));
            }
        }
        // Depth-first walk: reaching the rule itself again is a cycle.
        let mut stack: Vec<&str> = meta.ids().map(String::as_str).collect();
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some(d) = stack.pop() {
            if d == r.id {
                problem(r, "meta rule depends on itself".to_string());
                break;
            }
            if seen.insert(d)
                && let Some(m) = known.get(d).and_then(|x| x.meta.as_ref())
            {
                stack.extend(m.ids().map(String::as_str));
            }
        }
    }
    out
}
