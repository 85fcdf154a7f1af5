//! `preflight scan --format html`: one self-contained page (no external assets) for
//! people who would rather look than read: the verdict split, a bar chart of the most
//! frequent rules, and a table of drafts that sorts and filters, each row opening to its
//! findings with evidence, why and fix.
//!
//! The data travels as JSON in a `<script type="application/json">` element (with `<`
//! escaped, so no message text can close it) and the page's own script builds the DOM
//! with `textContent` only: nothing from a message is ever parsed as HTML.

use serde::Serialize;
use serde_json::{Value, json};

use crate::report::Report;
use crate::scan::{Item, Outcome, Summary};

/// Collects the drafts' rows as they come (compact JSON each), then writes the page.
#[derive(Default)]
pub struct HtmlReport {
    rows: Vec<String>,
}

#[derive(Serialize)]
struct Row<'a> {
    /// Path (with `#n` for mbox messages).
    p: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    l: Option<&'a str>,
    /// Verdict, or "error".
    v: &'a str,
    s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    r: Option<String>,
    f: Vec<Value>,
}

/// The predicted reply with how sure it is: "will be refused: 550 ...", "risk: a receiver
/// may answer 550 ...".
fn reply_line(report: &Report, reply: &crate::report::Reply) -> String {
    let lead = report
        .reply_likelihood
        .map_or("Predicted reply:", crate::report::ReplyLikelihood::lead);
    let mut lead = lead.to_string();
    if let Some(c) = lead.get_mut(..1) {
        c.make_ascii_uppercase();
    }
    format!("{lead} {}", reply.to_line())
}

fn findings(report: &Report) -> Vec<Value> {
    report
        .findings
        .iter()
        .map(|f| {
            let ev: Vec<Value> = f
                .evidence
                .iter()
                .map(|e| {
                    json!({
                        "part": e.part,
                        "line": e.line,
                        "text": e.snippet.display(),
                    })
                })
                .collect();
            json!({
                "id": f.id,
                "name": f.name,
                "family": f.family,
                "score": f.score,
                "reject": f.action == crate::report::Action::Reject,
                "message": f.message,
                "why": f.why,
                "fix": f.fix,
                "evidence": ev,
            })
        })
        .collect()
}

impl HtmlReport {
    /// Adds a draft (skipped files are left out).
    pub fn push(&mut self, item: &Item, label: Option<&str>) {
        let p = item.draft.display();
        let row = match &item.outcome {
            Outcome::Checked {
                report,
                duplicate_of,
                ..
            } => Row {
                p,
                l: label,
                v: report.verdict.as_str(),
                s: report.score,
                d: duplicate_of.as_deref(),
                e: None,
                r: report.reply.as_ref().map(|r| reply_line(report, r)),
                f: findings(report),
            },
            Outcome::Error { message, .. } => Row {
                p,
                l: label,
                v: "error",
                s: 0.0,
                d: None,
                e: Some(message),
                r: None,
                f: Vec::new(),
            },
            Outcome::Skipped { .. } => return,
        };
        if let Ok(s) = serde_json::to_string(&row) {
            self.rows.push(s);
        }
    }

    /// The whole page.
    pub fn finish(&self, s: &Summary, seconds: f64, title: &str) -> String {
        let top: Vec<Value> = s
            .top_rules()
            .iter()
            .take(20)
            .map(
                |(id, t)| json!({"id": id, "name": t.name, "family": t.family, "drafts": t.drafts}),
            )
            .collect();
        let summary = json!({
            "title": title,
            "drafts": s.drafts,
            "pass": s.pass,
            "flag": s.flag,
            "reject": s.reject,
            "errors": s.not_mail + s.unreadable,
            "duplicates": s.duplicates,
            "skipped": s.skipped,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "top": top,
            "families": s.families,
            "labels": s.labels.as_ref().map(|l| l.iter().map(|(k, t)| {
                (k.clone(), json!({"drafts": t.drafts, "pass": t.pass, "flag": t.flag,
                    "reject": t.reject, "errors": t.errors}))
            }).collect::<serde_json::Map<String, Value>>()),
        });
        let mut data =
            String::with_capacity(self.rows.iter().map(|r| r.len() + 1).sum::<usize>() + 4096);
        data.push_str("{\"summary\":");
        data.push_str(&summary.to_string());
        data.push_str(",\"rows\":[");
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            data.push_str(r);
        }
        data.push_str("]}");
        // `<` only occurs inside JSON strings, where \u003c means the same.
        let data = data.replace('<', "\\u003c");
        let (head, tail) = PAGE.split_once("{{DATA}}").unwrap_or((PAGE, ""));
        let mut page = head.replace("{{TITLE}}", &escape(title));
        page.push_str(&data);
        page.push_str(tail);
        page
    }
}

/// Text for HTML element content.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>preflight scan: {{TITLE}}</title>
<style>
:root { --pass: #1a7f37; --flag: #9a6700; --reject: #cf222e; --error: #6e7781; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header, main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 20px; margin: 8px 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: #59636e; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.pass { color: var(--pass); } .flag { color: var(--flag); } .reject { color: var(--reject); } .error { color: var(--error); }
.split { display: flex; height: 14px; border-radius: 7px; overflow: hidden; background: #eaeef2; margin: 8px 0 4px; }
.split div { height: 100%; }
.bg-pass { background: var(--pass); } .bg-flag { background: #d4a72c; } .bg-reject { background: var(--reject); } .bg-error { background: var(--error); }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.bar { display: grid; grid-template-columns: 70px 260px 1fr 60px; gap: 8px; align-items: center; margin: 3px 0; }
.bar .track { background: #eaeef2; border-radius: 4px; height: 12px; }
.bar .fill { background: #0969da; border-radius: 4px; height: 12px; }
.bar .id { font-family: ui-monospace, monospace; font-weight: 600; }
.bar .n { text-align: right; }
.controls { display: flex; gap: 8px; margin: 8px 0; flex-wrap: wrap; }
input, select { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { background: #f6f8fa; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
tr.draft { cursor: pointer; } tr.draft:hover { background: #f6f8fa; }
td.path { font-family: ui-monospace, monospace; word-break: break-all; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.finding { border-left: 3px solid var(--line); padding: 4px 12px; margin: 8px 0; }
.finding.rj { border-color: var(--reject); }
.finding .head { font-weight: 600; }
.ev { font-family: ui-monospace, monospace; background: #f6f8fa; padding: 2px 6px; margin: 2px 0; white-space: pre-wrap; word-break: break-all; }
.more { margin: 8px 0; }
</style>
</head>
<body>
<header>
<h1>preflight scan</h1>
<div class="muted" id="subtitle"></div>
<div class="cards">
  <div class="card">drafts<b id="count-drafts">0</b></div>
  <div class="card pass">pass<b id="count-pass">0</b></div>
  <div class="card flag">flag<b id="count-flag">0</b></div>
  <div class="card reject">reject<b id="count-reject">0</b></div>
  <div class="card error">errors<b id="count-error">0</b></div>
</div>
<div class="split" id="split" role="img" aria-label="verdict split"></div>
<div class="muted" id="split-legend"></div>
</header>
<main>
<h2>Most frequent rules</h2>
<div class="chart" id="chart"></div>
<div id="labels"></div>
<h2>Drafts</h2>
<div class="controls">
  <input id="filter" type="search" placeholder="filter by path or rule id" aria-label="filter">
  <select id="verdict" aria-label="verdict">
    <option value="">every verdict</option>
    <option value="reject">reject</option>
    <option value="flag">flag</option>
    <option value="pass">pass</option>
    <option value="error">error</option>
  </select>
  <span class="muted" id="shown"></span>
</div>
<table id="drafts">
<thead><tr><th data-key="p">draft</th><th data-key="v">verdict</th><th data-key="s" class="num">score</th><th data-key="n">rules</th></tr></thead>
<tbody></tbody>
</table>
<div class="more"><button id="more" type="button" hidden>show more</button></div>
</main>
<script id="data" type="application/json">{{DATA}}</script>
<script>
"use strict";
window.addEventListener("error", function (e) {
  document.body.dataset.errors = (document.body.dataset.errors || "") + e.message + ";";
});
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  var S = data.summary, rows = data.rows;
  var rank = { reject: 3, error: 2, flag: 1, pass: 0 };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function pct(k, n) { return n ? (100 * k / n).toFixed(1) + "%" : "0%"; }
  document.getElementById("subtitle").textContent = S.title + " \u2014 " + fmt(S.drafts) +
    " drafts checked in " + S.seconds + " s" + (S.duplicates ? ", " + fmt(S.duplicates) + " duplicates" : "") +
    (S.skipped ? ", " + fmt(S.skipped) + " other files skipped" : "");
  document.getElementById("count-drafts").textContent = fmt(S.drafts);
  ["pass", "flag", "reject"].forEach(function (v) {
    document.getElementById("count-" + v).textContent = fmt(S[v]);
  });
  document.getElementById("count-error").textContent = fmt(S.errors);
  var total = S.pass + S.flag + S.reject + S.errors, split = document.getElementById("split"), legend = [];
  ["pass", "flag", "reject", "error"].forEach(function (v) {
    var k = v === "error" ? S.errors : S[v];
    if (!k) return;
    var d = el("div", "bg-" + v);
    d.style.width = (100 * k / total) + "%";
    d.title = v + ": " + fmt(k);
    split.appendChild(d);
    legend.push(v + " " + pct(k, total));
  });
  document.getElementById("split-legend").textContent = legend.join(" \u00b7 ");
  var chart = document.getElementById("chart");
  if (!S.top.length) chart.appendChild(el("div", "muted", "No rule fired."));
  var most = S.top.length ? S.top[0].drafts : 1;
  S.top.forEach(function (t) {
    var b = el("div", "bar");
    b.appendChild(el("span", "id", t.id));
    b.appendChild(el("span", null, t.name));
    var track = el("div", "track"), fill = el("div", "fill");
    fill.style.width = (100 * t.drafts / most) + "%";
    track.appendChild(fill);
    b.appendChild(track);
    b.appendChild(el("span", "n", fmt(t.drafts)));
    b.title = t.family + ": " + fmt(t.drafts) + " drafts (" + pct(t.drafts, S.drafts) + ")";
    chart.appendChild(b);
  });
  if (S.labels) {
    var box = document.getElementById("labels");
    box.appendChild(el("h2", null, "By label"));
    var lt = el("table"), head = el("tr");
    ["label", "drafts", "pass", "flag", "reject", "errors"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    lt.appendChild(head);
    Object.keys(S.labels).forEach(function (k) {
      var t = S.labels[k], n = t.pass + t.flag + t.reject, tr = el("tr");
      tr.appendChild(el("td", null, k));
      tr.appendChild(el("td", "num", fmt(t.drafts)));
      tr.appendChild(el("td", "num pass", pct(t.pass, n)));
      tr.appendChild(el("td", "num flag", pct(t.flag, n)));
      tr.appendChild(el("td", "num reject", pct(t.reject, n)));
      tr.appendChild(el("td", "num", fmt(t.errors)));
      lt.appendChild(tr);
    });
    box.appendChild(lt);
  }
  rows.forEach(function (r, i) { r.i = i; r.n = r.f.length; r.ids = r.f.map(function (f) { return f.id; }).join(" "); });
  var tbody = document.querySelector("#drafts tbody"), filter = document.getElementById("filter"),
      vsel = document.getElementById("verdict"), more = document.getElementById("more");
  var sortKey = "v", sortDir = -1, limit = 500, view = [];
  function cmp(a, b) {
    var x, y;
    if (sortKey === "v") { x = rank[a.v]; y = rank[b.v]; if (x === y) { x = a.s; y = b.s; } }
    else { x = a[sortKey]; y = b[sortKey]; }
    if (x < y) return -sortDir;
    if (x > y) return sortDir;
    return a.i - b.i;
  }
  function details(r) {
    var td = el("td");
    td.colSpan = 4;
    if (r.e) td.appendChild(el("div", "error", r.e));
    if (r.d) td.appendChild(el("div", "muted", "Same bytes as " + r.d + " (checked once)."));
    if (r.r) td.appendChild(el("div", null, r.r));
    if (r.l) td.appendChild(el("div", "muted", "Label: " + r.l));
    if (!r.f.length && !r.e) td.appendChild(el("div", "muted", "No findings."));
    r.f.forEach(function (f) {
      var box = el("div", "finding" + (f.reject ? " rj" : ""));
      box.appendChild(el("div", "head", f.id + " " + f.name + " [" + f.family + "] " + (f.reject ? "reject" : "+" + f.score)));
      box.appendChild(el("div", null, f.message));
      f.evidence.forEach(function (e) {
        var where = (e.part ? "part " + e.part : "") + (e.line ? (e.part ? ", " : "") + "line " + e.line : "");
        box.appendChild(el("div", "ev", (where ? where + ": " : "") + e.text));
      });
      if (f.why) box.appendChild(el("div", null, "Why: " + f.why));
      if (f.fix) box.appendChild(el("div", null, "Fix: " + f.fix));
      td.appendChild(box);
    });
    var tr = el("tr", "details");
    tr.appendChild(td);
    return tr;
  }
  function row(r) {
    var tr = el("tr", "draft");
    tr.dataset.verdict = r.v;
    tr.appendChild(el("td", "path", r.p));
    tr.appendChild(el("td", r.v, r.v));
    tr.appendChild(el("td", "num", r.v === "error" ? "" : r.s));
    tr.appendChild(el("td", null, r.ids || (r.e ? r.e : "")));
    tr.addEventListener("click", function () {
      var next = tr.nextSibling;
      if (next && next.className === "details") { next.remove(); return; }
      tr.after(details(r));
    });
    return tr;
  }
  function render() {
    var q = filter.value.trim().toLowerCase(), v = vsel.value;
    view = rows.filter(function (r) {
      return (!v || r.v === v) && (!q || r.p.toLowerCase().indexOf(q) >= 0 || r.ids.toLowerCase().indexOf(q) >= 0);
    }).sort(cmp);
    tbody.textContent = "";
    var frag = document.createDocumentFragment();
    view.slice(0, limit).forEach(function (r) { frag.appendChild(row(r)); });
    tbody.appendChild(frag);
    more.hidden = view.length <= limit;
    document.getElementById("shown").textContent = fmt(Math.min(limit, view.length)) + " of " + fmt(view.length) + " drafts shown";
    document.querySelectorAll("#drafts th").forEach(function (th) {
      th.setAttribute("aria-sort", th.dataset.key === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }
  document.querySelectorAll("#drafts th").forEach(function (th) {
    th.addEventListener("click", function () {
      if (sortKey === th.dataset.key) sortDir = -sortDir; else { sortKey = th.dataset.key; sortDir = th.dataset.key === "p" ? 1 : -1; }
      render();
    });
  });
  filter.addEventListener("input", function () { limit = 500; render(); });
  vsel.addEventListener("change", function () { limit = 500; render(); });
  more.addEventListener("click", function () { limit += 500; render(); });
  render();
  document.body.dataset.ready = "1";
})();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_cannot_close_the_data_script() {
        let mut h = HtmlReport::default();
        h.rows.push(
            "{\"p\":\"</script><img src=x onerror=alert(1)>\",\"v\":\"pass\",\"s\":0,\"f\":[]}"
                .into(),
        );
        let page = h.finish(&Summary::default(), 0.5, "t<b>");
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "only the page's own two"
        );
        assert!(page.contains("\\u003c/script>\\u003cimg"));
        assert!(page.contains("preflight scan: t&lt;b&gt;"));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external assets"
        );
    }
}
