//! `preflight rules list|explain|test`: the rules in force, their documentation and
//! their examples.

use super::*;

/// Which rules `rules list` and `rules test` take.
#[derive(Args, Debug)]
pub(super) struct Only {
    /// Only these rules: ids, id prefixes, families or names (comma-separated), as
    /// `check --select` takes them.
    // `--only`, the old name, stays as a hidden alias for existing scripts.
    #[arg(
        long = "select",
        alias = "only",
        value_delimiter = ',',
        value_name = "RULES"
    )]
    pub(super) only: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub(super) enum RulesCommand {
    /// List every rule with its action and summary.
    List {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        only: Only,
    },
    /// Show a rule's documentation: why receivers refuse, how to fix, examples.
    Explain {
        #[command(flatten)]
        common: Common,
        /// Rule id or name (HDR004 or duplicate-single-header).
        rule: String,
    },
    /// Check every rule against its own `match` and `no_match` examples.
    Test {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        only: Only,
    },
}

pub(super) fn load_rules(c: &Common) -> Result<(Config, RuleSet, Engine), Error> {
    let config = load_config(&c.config, &c.rules_dirs)?;
    let rules = RuleSet::for_config(&config)?;
    let engine = Engine::with_rules(config.clone(), rules.clone())?;
    Ok((config, rules, engine))
}

pub(super) fn rules_list(c: &Common, only: &[String], out: &mut dyn Write) -> Result<i32, Error> {
    let (_, rules, engine) = load_rules(c)?;
    let chosen: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| only.is_empty() || only.iter().any(|s| selector_matches(s, r)))
        .map(|r| (r, engine.is_enabled(&r.id)))
        .collect();
    if chosen.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("--select {}: matches no rule", only.join(",")),
        ));
    }
    let text = match c.format {
        Format::Json => render::json::to_text(&serde_json::Value::Array(
            chosen
                .iter()
                .map(|(r, on)| render::json::rule_value(r, *on))
                .collect(),
        )),
        Format::Human => render::human::rule_list(&chosen, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(0)
}

pub(super) fn rules_explain(c: &Common, id: &str, out: &mut dyn Write) -> Result<i32, Error> {
    let (_, rules, engine) = load_rules(c)?;
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!("no rule {id:?} (see `preflight rules list`)"),
            )
        })?;
    let on = engine.is_enabled(&rule.id);
    let text = match c.format {
        Format::Json => render::json::to_text(&render::json::rule_value(rule, on)),
        Format::Human => render::human::rule_doc(rule, on, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(0)
}

pub(super) fn rules_test(c: &Common, only: &[String], out: &mut dyn Write) -> Result<i32, Error> {
    let (config, rules, _) = load_rules(c)?;
    for s in only {
        if !rules.rules().iter().any(|r| selector_matches(s, r)) {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("--select {s}: matches no rule"),
            ));
        }
    }
    let report = crate::engine::examples::run(&rules, &config, only);
    let text = match c.format {
        Format::Json => render::json::to_text(&render::json::examples_value(&report)),
        Format::Human => render::human::examples(&report, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(if report.all_passed() { 0 } else { 1 })
}
