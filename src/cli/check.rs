//! `preflight check`: check messages one by one.

use super::*;

#[derive(Args, Debug)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Messages to check (RFC 5322 files, LF or CRLF); "-" reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// One line per finding: no evidence, why or fix.
    #[arg(long)]
    brief: bool,
    #[command(flatten)]
    selection: Selection,
    /// Envelope sender (MAIL FROM); "" for the null sender. Checked against From
    /// (AUTH002) and the login (AUTH001).
    #[arg(long, value_name = "ADDR")]
    mail_from: Option<String>,
    /// Envelope recipient (RCPT TO), repeatable: syntax and count (RCPT001, RCPT002).
    #[arg(long = "rcpt", value_name = "ADDR")]
    rcpt_to: Vec<String>,
    /// SMTP client IP address (kept in the envelope for the DNS checks; no check reads it
    /// yet).
    #[arg(long, value_name = "IP")]
    ip: Option<IpAddr>,
    /// HELO/EHLO name of the client (kept for the DNS checks; no check reads it yet).
    #[arg(long, value_name = "NAME")]
    helo: Option<String>,
    /// SMTP AUTH login: the addresses it may send as are `senders.logins` (AUTH001).
    #[arg(long, value_name = "USER")]
    auth_user: Option<String>,
    #[command(flatten)]
    dns: DnsArgs,
}

/// What `check` has printed and seen so far, over every input.
pub(super) struct CheckRun<'a> {
    engine: &'a Engine,
    /// Answers for the checks that need DNS; `None`: offline.
    dns: Option<std::sync::Arc<dyn crate::dns::Source>>,
    envelope: Envelope,
    format: Format,
    opts: HumanOptions,
    /// Several reports (several inputs, or an mbox): an array, or a summary line.
    many: bool,
    counts: [usize; 3],
    errors: usize,
    worst: Verdict,
    worst_error: i32,
    array: render::json::ArrayWriter,
    single: Option<String>,
}

impl CheckRun<'_> {
    fn error(&mut self, err: &mut dyn Write, code: i32, msg: &str) {
        let _ = writeln!(err, "preflight: {msg}");
        self.errors += 1;
        self.worst_error = self.worst_error.max(code);
    }

    /// Checks one draft and prints its report (or why it is not mail).
    fn draft(
        &mut self,
        shown: &str,
        raw: &[u8],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Error> {
        let checked = match &self.dns {
            Some(dns) => self
                .engine
                .try_check_online(raw, &self.envelope, &*dns.session()),
            None => self.engine.try_check(raw, &self.envelope),
        };
        let report = match checked {
            Ok(r) => r,
            Err(e) => {
                self.error(err, e.exit_code(), &format!("{shown}: {e}"));
                return Ok(());
            }
        };
        self.counts[report.verdict.exit_code() as usize] += 1;
        self.worst = self.worst.max(report.verdict);
        match self.format {
            Format::Json if self.many => self
                .array
                .element(out, &render::json::report_text(&report, Some(shown)))
                .map_err(io_err)?,
            Format::Json => self.single = Some(render::json::report_text(&report, None)),
            Format::Human => {
                let text = render::human::report(shown, &report, &self.opts);
                if self.many && self.counts.iter().sum::<usize>() > 1 {
                    writeln!(out).map_err(io_err)?;
                }
                out.write_all(text.as_bytes()).map_err(io_err)?;
            }
        }
        Ok(())
    }

    /// Checks every message of an mbox, each shown as `file#N`.
    fn mbox(
        &mut self,
        shown: &str,
        raw: &[u8],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Error> {
        let mut n = 0;
        for m in crate::scan::MboxReader::new(raw) {
            n += 1;
            self.draft(&format!("{shown}#{n}"), &m, out, err)?;
        }
        if n == 0 {
            self.error(
                err,
                EX_DATAERR,
                &format!("{shown}: not an mbox: no message starts with a `From ` line"),
            );
        }
        Ok(())
    }
}

pub(super) fn check(a: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let settings = load_settings(&a.common.config, &a.common.rules_dirs)?;
    let mut config = settings.engine;
    a.selection.apply(&mut config)?;
    if a.files.iter().filter(|f| *f == "-").count() > 1 {
        return Err(Error::new(
            ErrorKind::Usage,
            "standard input (\"-\") can be read only once",
        ));
    }
    let engine = engine_for(config, &a.selection)?;
    let dns = a.dns.source(&settings.dns)?;
    let mut run = CheckRun {
        engine: &engine,
        dns,
        envelope: Envelope {
            mail_from: a.mail_from.clone(),
            rcpt_to: a.rcpt_to.clone(),
            client_ip: a.ip,
            helo: a.helo.clone(),
            auth_user: a.auth_user.clone(),
            queue_id: None,
        },
        format: a.common.format,
        opts: human_options(&a.common, a.brief),
        many: a.files.len() > 1,
        counts: [0; 3],
        errors: 0,
        worst: Verdict::Pass,
        worst_error: 0,
        array: render::json::ArrayWriter::default(),
        single: None,
    };
    for name in &a.files {
        let shown = if name == "-" {
            "<stdin>"
        } else {
            name.as_str()
        };
        let raw = match read_input(name) {
            Ok(r) => r,
            Err((code, msg)) => {
                run.error(err, code, &msg);
                continue;
            }
        };
        // An mbox (named so, or several messages after `From ` lines): every message.
        let named = name != "-" && crate::scan::is_mbox_name(std::path::Path::new(name));
        if named || crate::scan::holds_several_messages(&raw) {
            run.many = true;
            run.mbox(shown, &raw, out, err)?;
        } else {
            run.draft(shown, &raw, out, err)?;
        }
    }
    match run.format {
        Format::Json if run.many => std::mem::take(&mut run.array).finish(out).map_err(io_err)?,
        Format::Json => {
            if let Some(text) = &run.single {
                out.write_all(text.as_bytes()).map_err(io_err)?;
                out.write_all(b"\n").map_err(io_err)?;
            }
        }
        Format::Human if run.many => {
            let text = render::human::summary(run.counts, run.errors, &run.opts);
            out.write_all(format!("\n{text}").as_bytes())
                .map_err(io_err)?;
        }
        Format::Human => {}
    }
    out.flush().map_err(io_err)?;
    Ok(crate::scan::exit_status(run.worst, run.worst_error))
}
