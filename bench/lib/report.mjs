// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// The rows of the report, their targets (as ratios Runner / reference), and
// the Markdown table.

const MB = 1024 * 1024;

const fmt = {
  ms: (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`,
  s: (v) => `${v.toFixed(2)} s`,
  mbs: (v) => `${v.toFixed(1)} MB/s`,
  mem: (v) => `${(v / MB).toFixed(1)} MiB`,
  rate: (v) => `${Math.round(v)} /s`,
  pct: (v) => `${(v * 100).toFixed(0)}%`,
};

/*
 * better: which way is good; target: the ratio Runner / reference to reach
 * (≥ target when higher is better, ≤ target when lower is better).
 */
export function rowSpecs(sizes, labels) {
  const files = sizes.dirs * sizes.filesPerDir;
  const kib = (b) => (b >= MB ? `${b / MB} MiB` : `${b / 1024} KiB`);
  const mbOut = ((4 * Math.ceil(sizes.streamRawBytes / 3)) / 1e6).toFixed(0);
  return [
    { id: "stream.lean", figure: `terminal output, ${mbOut} MB (${labels.lean})`, fmt: fmt.mbs, better: "higher", target: 3 },
    { id: "stream.real", figure: `terminal output, ${mbOut} MB (${labels.real})`, fmt: fmt.mbs, better: "higher", target: 3 },
    { id: "stream.share", figure: "terminal output as share of raw pty (lean client)", fmt: fmt.pct, better: "higher", absolute: 0.75 },
    ...["real", "lean"].flatMap((role) => ["p50", "p99"].map((q) => ({
      id: `echo.${q}.${role}`, figure: `key echo ${q}, ${sizes.echoSamples} keys ${sizes.keyIntervalMs} ms apart (${labels[role]})`,
      fmt: fmt.ms, better: "lower", target: 1 / 3,
    }))),
    ...["real", "lean"].flatMap((role) => ["p50", "p99"].map((q) => ({
      id: `echo.tight.${q}.${role}`, figure: `key echo ${q}, ${sizes.echoSamples} keys back to back (${labels[role]})`,
      fmt: fmt.ms, better: "lower", target: 1 / 3,
    }))),
    { id: "fetchDir.real", figure: `fetchDir, ${files} files, p50 (${labels.real})`, fmt: fmt.ms, better: "lower", target: 1 / 5 },
    { id: "fetchDir.lean", figure: `fetchDir, ${files} files, p50 (${labels.lean})`, fmt: fmt.ms, better: "lower", target: 1 / 5 },
    { id: "fetchContent.real", figure: `fetchContent ${kib(sizes.bigBytes)}, p50 (${labels.real})`, fmt: fmt.ms, better: "lower", target: 1 / 3 },
    { id: "fetchContent.lean", figure: `fetchContent ${kib(sizes.bigBytes)}, p50 (${labels.lean})`, fmt: fmt.ms, better: "lower", target: 1 / 3 },
    { id: "updateContent.real", figure: `updateContent ${kib(sizes.updateBytes)} → file:refresh, p50 (${labels.real})`, fmt: fmt.ms, better: "lower", target: 1 / 10 },
    { id: "updateContent.lean", figure: `updateContent ${kib(sizes.updateBytes)} → file:refresh, p50 (${labels.lean})`, fmt: fmt.ms, better: "lower", target: 1 / 10 },
    { id: "ready.http", figure: "time to ready: spawn → GET /files 200", fmt: fmt.ms, better: "lower", target: 1 / 4 },
    { id: "ready.socket", figure: `time to ready: spawn → socket connected (${labels.real})`, fmt: fmt.ms, better: "lower", target: 1 / 4 },
    { id: "rss.idle", figure: "idle RSS (server + shell)", fmt: fmt.mem, better: "lower", target: 1 / 3 },
    { id: "rss.load", figure: "RSS under load, peak during the terminal streams", fmt: fmt.mem, better: "lower" },
    { id: "rss.clients", figure: `RSS with ${sizes.clients} clients connected (${labels.real})`, fmt: fmt.mem, better: "lower", target: 1 / 5 },
    { id: "connect.rate", figure: `connection rate, ${sizes.connections} clients, 100 at a time (${labels.rate})`, fmt: fmt.rate, better: "higher", target: 3 },
    { id: "s3.small", figure: `S3 sync-down, ${sizes.s3Files} small files (aws s3 sync vs runner)`, fmt: fmt.s, better: "lower" },
    { id: "s3.big", figure: `S3 sync-down, one ${kib(sizes.s3BigBytes)} file (aws s3 cp vs runner)`, fmt: fmt.s, better: "lower" },
  ];
}

function ratioText(r, better) {
  if (!Number.isFinite(r) || r <= 0) return "—";
  if (better === "higher" || r >= 1) return `${r.toFixed(2)}×`;
  return `${r.toFixed(2)}× (1/${(1 / r).toFixed(1)})`;
}

function targetText(spec) {
  if (spec.absolute !== undefined) return `Runner ≥ ${fmt.pct(spec.absolute)}`;
  if (spec.target === undefined) return "—";
  return spec.better === "higher" ? `≥ ${spec.target}×` : `≤ 1/${Math.round(1 / spec.target)}`;
}

// cell: { value } | { error } | { na } | undefined (case not run)
function cellText(spec, cell) {
  if (!cell) return "not run";
  if (cell.na) return `n/a (${cell.na})`;
  if (cell.error) return "**failed**";
  return spec.fmt(cell.value);
}

/*
 * rows: { rowId: { reference: cell, runner: cell } }. Returns the table rows
 * with ratio and verdict, for both the Markdown and the JSON.
 */
export function evaluate(specs, rows) {
  return specs.map((spec) => {
    const ref = rows[spec.id]?.reference;
    const run = rows[spec.id]?.runner;
    const ok = (c) => c && !c.error && !c.na && Number.isFinite(c.value);
    let ratio = null, met = null;
    if (spec.absolute !== undefined) {
      if (ok(run)) met = run.value >= spec.absolute;
    } else if (ok(ref) && ok(run) && ref.value > 0) {
      ratio = run.value / ref.value;
      if (spec.target !== undefined) met = spec.better === "higher" ? ratio >= spec.target : ratio <= spec.target;
    }
    return { ...spec, reference: ref, runner: run, ratio, met };
  });
}

export function markdown(evaluated, { title, notes, errors }) {
  const lines = [`# ${title}`, ""];
  for (const n of notes) lines.push(`- ${n}`);
  lines.push("", "| figure | reference | Runner | ratio | target | met? |", "|---|---:|---:|---:|---|---|");
  for (const r of evaluated) {
    const met = r.met === null ? "—" : r.met ? "yes" : "**no**";
    const ratio = r.absolute !== undefined ? "—" : ratioText(r.ratio, r.better);
    lines.push(`| ${r.figure} | ${cellText(r, r.reference)} | ${cellText(r, r.runner)} | ${ratio} | ${targetText(r)} | ${met} |`);
  }
  if (errors.length) {
    lines.push("", "## Failures", "");
    for (const e of errors) lines.push(`- ${e.server}, ${e.case}: ${e.message.replace(/\s+/g, " ").slice(0, 400)}`);
  }
  return lines.join("\n") + "\n";
}
