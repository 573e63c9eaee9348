//! Everything the CLI prints: tables for people, JSON for machines
//! (`--json`), progress bars on stderr when it is a terminal.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use godwit_host::engine::{CopyReport, Observer, Plan, RunReport, TableReport, ValidationReport};
use godwit_host::project::ValidatorPhase;
use godwit_host::Error;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::scaffold::{InspectInfo, ListedPlugin};

/// Prints a line on stdout, scrubbed of secrets. A closed pipe (`| head`)
/// ends the output quietly instead of panicking.
fn out(s: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{}", godwit_host::redact::scrub(s)).is_err() {
        std::process::exit(godwit_host::EXIT_OK);
    }
}

fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => out(&s),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

/// Prints an error: to stderr, or as `{"error": ...}` on stdout with `--json`.
pub fn error(e: &Error, json: bool) {
    if json {
        print_json(&serde_json::json!({
            "error": { "kind": e.kind, "code": e.code, "message": godwit_host::redact::scrub(&e.message), "retryable": e.retryable, "exit_code": e.exit_code() }
        }));
    } else {
        eprintln!("error: {}", godwit_host::redact::scrub(&e.to_string()));
    }
}

/// Reports a created file or folder.
pub fn created(path: &std::path::Path, json: bool) {
    if json {
        print_json(&serde_json::json!({ "created": path.display().to_string() }));
    } else {
        out(&format!("created {}", path.display()));
    }
}

/// Prints a one-line message (`{"message": ...}` with `--json`).
pub fn message(text: &str, json: bool) {
    if json {
        print_json(&serde_json::json!({ "message": text }));
    } else {
        out(text);
    }
}

/// Prints a bundle's verification or inspection.
pub fn bundle_report(r: &crate::bundles::BundleReport, json: bool) {
    if json {
        return print_json(r);
    }
    out(&format!(
        "bundle:     {} {} ({})",
        r.name, r.version, r.path
    ));
    out(&format!("digest:     {}", r.digest));
    for c in &r.components {
        out(&format!(
            "component:  {} [{}] {} sha256:{} ({} bytes)",
            c.name,
            c.worlds.join(","),
            c.wit,
            &c.sha256[..c.sha256.len().min(16)],
            c.size
        ));
        for q in &c.requests {
            out(&format!("  requests  {q}"));
        }
        if c.requests.is_empty() {
            out("  requests  (none)");
        }
        for g in c.granted.iter().flatten() {
            out(&format!("  grant     {g}"));
        }
    }
    if r.signatures.is_empty() {
        out("signatures: none");
    }
    for s in &r.signatures {
        out(&format!(
            "signature:  {} key {} {}{}",
            s.reviewer,
            s.key,
            if s.valid { "valid" } else { "INVALID" },
            match s.trusted {
                Some(true) => ", trusted",
                Some(false) => ", not trusted",
                None => "",
            }
        ));
    }
    out(&match &r.problem {
        None => "result:     OK".to_owned(),
        Some(p) => format!("result:     REFUSED: {p}"),
    });
}

/// A plain text table with left-aligned columns.
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[&str]) -> Self {
        Self {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    /// Adds a row. Cells may hold plugin text: escaped and cut to
    /// `MAX_TERMINAL_CELL` characters (the full text is in report.json).
    fn row(&mut self, r: Vec<String>) {
        use godwit_host::text::{plugin_text, MAX_TERMINAL_CELL};
        self.rows.push(
            r.iter()
                .map(|c| plugin_text(c, MAX_TERMINAL_CELL))
                .collect(),
        );
    }
    fn render(&self) -> String {
        let n = self.head.len();
        let mut w = vec![0; n];
        for r in std::iter::once(&self.head).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            r.iter()
                .enumerate()
                // Padded by hand: `format!` widths stop at 65,535.
                .map(|(i, c)| {
                    let pad = w[i].saturating_sub(c.chars().count());
                    format!("{c}{}", " ".repeat(pad))
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let mut s = line(&self.head);
        s.push('\n');
        s.push_str(
            &w.iter()
                .map(|x| "-".repeat(*x))
                .collect::<Vec<_>>()
                .join("  "),
        );
        for r in &self.rows {
            s.push('\n');
            s.push_str(&line(r));
        }
        s
    }
}

/// Prints a plan.
pub fn plan(p: &Plan, json: bool) {
    if json {
        return print_json(p);
    }
    out(&format!(
        "Plan for project {} (dry run: nothing is written)\n",
        p.project
    ));
    for c in &p.copies {
        out(&format!(
            "copy {}: {} -> {}{}",
            c.name,
            c.from,
            c.to,
            if c.prefix.is_empty() {
                String::new()
            } else {
                format!(" (prefix {})", c.prefix)
            }
        ));
        out(&format!(
            "  {} objects, {:.2} MiB; {} already present with the same size (checked by content on run); {} rejected by the rule{}",
            c.objects,
            c.bytes as f64 / (1 << 20) as f64,
            c.present,
            c.rejected,
            if c.delete_extraneous {
                "; target objects missing from the source are DELETED"
            } else {
                ""
            }
        ));
        for r in &c.samples {
            out(&format!(
                "  key ({}): {} -> {}{}",
                r.rule,
                r.before,
                r.after,
                if r.rejected { " [rejected]" } else { "" }
            ));
        }
        out("");
    }
    for s in &p.steps {
        out(&format!(
            "step {}: {} -> {} (mode {:?})",
            s.name, s.source, s.target, s.mode
        ));
        let mut t = Table::new(&["#", "source", "target", "rows", "columns"]);
        for (i, tb) in s.tables.iter().enumerate() {
            t.row(vec![
                (i + 1).to_string(),
                tb.source.clone(),
                tb.target.clone(),
                match (tb.rows, tb.rows_estimated) {
                    (None, _) => "?".into(),
                    (Some(r), false) => r.to_string(),
                    (Some(r), true) => format!("~{r}"),
                },
                tb.columns.len().to_string(),
            ]);
        }
        out(&t.render());
        if !s.cycles_broken_at.is_empty() {
            out(&format!(
                "  foreign-key cycles broken at: {}",
                s.cycles_broken_at.join(", ")
            ));
        }
        if !s.excluded_tables.is_empty() {
            out(&format!(
                "  tables not copied: {}",
                godwit_host::engine::skipped_line(&s.excluded_tables)
            ));
        }
        if !s.dropped_columns.is_empty() {
            out(&format!(
                "  columns not copied: {}",
                godwit_host::engine::skipped_line(&s.dropped_columns)
            ));
        }
        if !s.skipped_views.is_empty() {
            out(&format!(
                "  views not copied: {}",
                s.skipped_views.join(", ")
            ));
        }
        for tb in &s.tables {
            if tb.write == "sql" {
                out(&format!(
                    "\n  {} -> {} on connection {}",
                    tb.source, tb.target, tb.target_connection
                ));
            } else {
                out(&format!(
                    "\n  {} -> {} (written by the target plugin)",
                    tb.source, tb.target
                ));
            }
            out(&format!("    read: {}", tb.read));
            for n in &tb.notes {
                out(&format!("    target: {n}"));
            }
            for st in &tb.pre {
                out(&format!(
                    "    before: {}",
                    st.replace('\n', "\n            ")
                ));
            }
            for st in &tb.post {
                out(&format!("    after:  {st}"));
            }
            for st in &tb.constraints {
                out(&format!("    last:   {st}"));
            }
            for note in &tb.mapping {
                out(&format!("    column: {note}"));
            }
            for t in &tb.types {
                use godwit_host::text::{plugin_text, MAX_TERMINAL_CELL};
                let declared = if t.declared.trim().is_empty() {
                    "(no type)".to_owned()
                } else {
                    plugin_text(&t.declared, MAX_TERMINAL_CELL)
                };
                out(&format!(
                    "    type{} {}: declared {declared}, holds {} -> {}{}",
                    if t.warning { "!" } else { ": " },
                    plugin_text(&t.column, MAX_TERMINAL_CELL),
                    t.observed,
                    t.chosen,
                    t.why
                        .as_ref()
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default()
                ));
            }
            for r in &tb.rewrites {
                out(&format!(
                    "    rewrite {} ({}): {} -> {}{}",
                    r.column,
                    r.rule,
                    r.before,
                    r.after,
                    if r.rejected { " [rejected]" } else { "" }
                ));
            }
        }
        out("");
    }
    for (when, label) in [
        (ValidatorPhase::Before, "validators before writing"),
        (ValidatorPhase::After, "validators after writing"),
    ] {
        let these: Vec<String> = p
            .validators
            .iter()
            .filter(|v| v.when == when)
            .map(|v| format!("{} (step {})", v.plugin, v.step))
            .collect();
        if !these.is_empty() {
            out(&format!("{label}: {}", these.join(", ")));
        }
    }
    out("\nplugins:");
    for pl in &p.plugins {
        out(&format!(
            "  {} = {} {} ({}), grants: [{}]{}",
            pl.instance,
            pl.name,
            pl.version,
            short(&pl.digest),
            pl.granted.join(", "),
            if pl.not_granted.is_empty() {
                String::new()
            } else {
                format!(", NOT granted: [{}]", pl.not_granted.join(", "))
            }
        ));
    }
}

fn short(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("sha256:{}", &hex[..hex.len().min(12)])
}

/// Prints a run report.
pub fn run(r: &RunReport, json: bool) {
    if json {
        return print_json(r);
    }
    if !r.copies.is_empty() {
        let mut t = Table::new(&[
            "copy",
            "from",
            "to",
            "objects",
            "copied",
            "skipped",
            "failed",
            "MiB copied",
            "seconds",
            "MiB/s",
        ]);
        for c in &r.copies {
            t.row(vec![
                c.name.clone(),
                c.from.clone(),
                c.to.clone(),
                c.objects.to_string(),
                if c.repaired > 0 {
                    format!("{} ({} repaired)", c.copied, c.repaired)
                } else {
                    c.copied.to_string()
                },
                c.skipped.to_string(),
                c.failed.to_string(),
                format!("{:.2}", c.bytes_copied as f64 / (1 << 20) as f64),
                format!("{:.2}", c.seconds),
                format!("{:.1}", c.bytes_per_second / (1 << 20) as f64),
            ]);
        }
        out(&t.render());
        for c in r.copies.iter().filter(|c| c.unreadable.objects > 0) {
            out(&godwit_host::engine::unreadable_line(c));
        }
        for c in r.copies.iter().filter(|c| c.deleted > 0) {
            out(&format!(
                "copy {}: {} extraneous target objects deleted",
                c.name, c.deleted
            ));
        }
        out("");
    }
    let mut t = Table::new(&[
        "step", "source", "target", "read", "written", "rejected", "MiB", "seconds", "rows/s",
    ]);
    for s in &r.steps {
        for tb in &s.tables {
            t.row(vec![
                s.name.clone(),
                tb.source.clone(),
                if tb.resumed {
                    format!("{} (done earlier)", tb.target)
                } else {
                    tb.target.clone()
                },
                tb.rows_read.to_string(),
                tb.rows_written.to_string(),
                tb.rows_rejected.to_string(),
                format!("{:.2}", tb.bytes as f64 / (1 << 20) as f64),
                format!("{:.2}", tb.seconds),
                format!("{:.0}", tb.rows_per_second),
            ]);
        }
    }
    if !r.steps.is_empty() || r.copies.is_empty() {
        out(&t.render());
    }
    // What was not copied is said here as well as in report.md.
    for s in &r.steps {
        use godwit_host::text::{plugin_text, MAX_TERMINAL_CELL};
        let names = |v: &[String]| {
            v.iter()
                .map(|n| plugin_text(n, MAX_TERMINAL_CELL))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for t in &s.tables {
            for o in &t.orphans {
                out(&format!(
                    "step {}: {}",
                    s.name,
                    godwit_host::engine::orphan_line(&t.target, o)
                ));
            }
            for r in &t.rewritten {
                out(&format!(
                    "step {}: {}",
                    s.name,
                    godwit_host::engine::rewrite_line(r)
                ));
            }
            if let Some(at) = &t.location {
                out(&format!(
                    "step {}: {} written to {}",
                    s.name,
                    t.target,
                    plugin_text(at, MAX_TERMINAL_CELL)
                ));
            }
        }
        for n in &s.target_notes {
            out(&format!(
                "step {}: target: {}",
                s.name,
                plugin_text(n, MAX_TERMINAL_CELL)
            ));
        }
        if !s.excluded_tables.is_empty() {
            out(&format!(
                "step {}: tables not copied: {}",
                s.name,
                godwit_host::engine::skipped_line(&s.excluded_tables)
            ));
        }
        if !s.dropped_columns.is_empty() {
            out(&format!(
                "step {}: columns not copied: {}",
                s.name,
                godwit_host::engine::skipped_line(&s.dropped_columns)
            ));
        }
        if !s.skipped_views.is_empty() {
            out(&format!(
                "step {}: views not copied (recreate them in the target): {}",
                s.name,
                names(&s.skipped_views)
            ));
        }
        if !s.skipped_triggers.is_empty() {
            out(&format!(
                "step {}: triggers not copied (recreate them in the target): {}",
                s.name,
                names(&s.skipped_triggers)
            ));
        }
    }
    if let Some(f) = &r.rejects_file {
        out(&format!(
            "\n{} rows rejected, {} objects not copied; details in {f}",
            r.rows_rejected(),
            r.objects_failed()
        ));
    }
    out("");
    validation(&r.validation);
    out(&format!(
        "finished in {:.2} s; report: {}/report.md",
        r.seconds, r.run_dir
    ));
}

/// Prints the report of `godwit validate`.
pub fn validate(r: &RunReport, json: bool) {
    if json {
        return print_json(r);
    }
    validation(&r.validation);
    out(&format!("report: {}/report.md", r.run_dir));
}

/// Prints validation findings.
fn validation(v: &ValidationReport) {
    if v.findings.is_empty() {
        out("validation: no validators configured");
        return;
    }
    let mut t = Table::new(&["result", "when", "check", "subject", "message"]);
    for f in &v.findings {
        let result = match f.severity.as_str() {
            "error" => "FAIL",
            "warning" => "warn",
            _ => "ok",
        };
        t.row(vec![
            result.into(),
            match f.when {
                ValidatorPhase::Before => "before",
                ValidatorPhase::After => "after",
            }
            .into(),
            f.check.clone(),
            f.subject.clone(),
            f.message.clone(),
        ]);
    }
    out(&t.render());
    let failed = v.findings.iter().filter(|f| f.severity == "error").count();
    out(&if v.passed {
        format!("validation passed ({} checks)", v.findings.len())
    } else {
        format!("validation FAILED: {failed} of {} checks", v.findings.len())
    });
}

/// Prints the plugin list.
pub fn plugin_list(items: &[ListedPlugin], json: bool) {
    if json {
        return print_json(&items);
    }
    let mut t = Table::new(&[
        "plugin",
        "kinds",
        "contract",
        "version",
        "digest",
        "description",
    ]);
    for p in items {
        t.row(vec![
            p.reference.clone(),
            p.kinds.join(","),
            p.contract.trim_start_matches("godwit:plugin@").to_owned(),
            p.version.clone(),
            short(&p.digest),
            p.description.clone(),
        ]);
    }
    out(&t.render());
}

/// Prints one plugin's details.
pub fn inspect(i: &InspectInfo, json: bool) {
    if json {
        return print_json(i);
    }
    out(&format!("plugin:       {}", i.reference));
    out(&format!("name:         {} {}", i.info.name, i.info.version));
    out(&format!("description:  {}", i.info.description));
    out(&format!(
        "worlds:       {} ({})",
        i.worlds.join(", "),
        i.wit_package
    ));
    out(&format!("imports:      {}", i.imports.join(", ")));
    out(&format!("digest:       {}", i.digest));
    out("requests:");
    if i.info.requests.is_empty() {
        out("  (none)");
    }
    for r in &i.info.requests {
        let grant = match &i.granted {
            None => String::new(),
            Some(g) => match g
                .iter()
                .find(|x| x.starts_with(&format!("{}:{} ", r.kind, r.label)))
            {
                Some(x) => format!("  [granted: {}]", x.split(" -> ").nth(1).unwrap_or("")),
                None => "  [NOT granted]".into(),
            },
        };
        out(&format!("  {}:{}  {}{grant}", r.kind, r.label, r.purpose));
    }
    if let Some(l) = &i.limits {
        out(&format!(
            "limits:       memory {} MiB, call {} ms, host call {} ms",
            l.memory_bytes >> 20,
            l.call_timeout.as_millis(),
            l.host_call_timeout.as_millis()
        ));
    }
    out(&format!("parameters:\n{}", indent(&i.info.params_doc)));
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Progress bars for `run`, drawn on stderr when it is a terminal.
pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Progress {
    /// Enabled unless `--json` or stderr is not a terminal.
    pub fn new(json: bool) -> Arc<Self> {
        Arc::new(Self {
            bar: Mutex::new(None),
            enabled: !json && std::io::stderr().is_terminal(),
        })
    }
    /// Clears any bar.
    pub fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("progress lock").take() {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn table_started(&self, step: &str, table: &str, estimate: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match estimate {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {pos}/{len} rows {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} rows {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(format!("{step}: {table}"));
        if let Some(old) = self.bar.lock().expect("progress lock").replace(bar) {
            old.finish_and_clear();
        }
    }
    fn rows_written(&self, rows: u64) {
        if let Some(b) = self.bar.lock().expect("progress lock").as_ref() {
            b.inc(rows);
        }
    }
    fn table_finished(&self, _report: &TableReport) {
        self.finish();
    }
    fn copy_started(&self, step: &str, objects: u64, bytes: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(bytes).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{step}: {objects} objects"));
        if let Some(old) = self.bar.lock().expect("progress lock").replace(bar) {
            old.finish_and_clear();
        }
    }
    fn bytes_copied(&self, bytes: u64) {
        self.rows_written(bytes);
    }
    fn object_skipped(&self, bytes: u64) {
        self.rows_written(bytes);
    }
    fn copy_finished(&self, _report: &CopyReport) {
        self.finish();
    }
}

/// The run directory's log file, once `run` or `validate` knows it.
static LOG_FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Starts copying log records (scrubbed, info level and up) to `path`.
pub fn log_to(path: &std::path::Path) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
    }
    let f =
        std::fs::File::create(path).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
    *LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    Ok(())
}

/// A log record on its way to the run directory's log file (if any).
pub struct ScrubbedFile(Vec<u8>);

impl ScrubbedFile {
    /// A new, empty record.
    pub fn new() -> Self {
        Self(Vec::new())
    }
}

impl std::io::Write for ScrubbedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbedFile {
    fn drop(&mut self) {
        if let Some(f) = LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let text = godwit_host::redact::scrub(&String::from_utf8_lossy(&self.0));
            let _ = std::io::Write::write_all(f, text.as_bytes());
        }
    }
}

/// A log record on its way to stderr: buffered, scrubbed of secrets, written
/// whole when dropped (tracing makes one writer per event).
pub struct ScrubbedStderr(Vec<u8>);

impl ScrubbedStderr {
    /// A new, empty record.
    pub fn new() -> Self {
        Self(Vec::new())
    }
}

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbedStderr {
    fn drop(&mut self) {
        let text = godwit_host::redact::scrub(&String::from_utf8_lossy(&self.0));
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    }
}
