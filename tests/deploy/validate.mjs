// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Validates the Kubernetes manifests offline: every document against the
// Kubernetes schema (kubernetes-models), then the rules README.md
// "Deployment" promises (restricted security context everywhere, sized
// volumes, probes, no preStop, the journal on a claim, the metadata address
// blocked, valid names). Checks data/deploy/base/runner.yaml and, when
// `kubectl` is on PATH, the example overlay as kustomize renders it.
//   node validate.mjs [FILE...]   (default: the base, then the overlay)
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const deploy = join(here, "..", "..", "data", "deploy");
const models = {
  "v1/ConfigMap": require("kubernetes-models/v1").ConfigMap,
  "v1/Secret": require("kubernetes-models/v1").Secret,
  "v1/Service": require("kubernetes-models/v1").Service,
  "v1/Pod": require("kubernetes-models/v1").Pod,
  "v1/PersistentVolumeClaim": require("kubernetes-models/v1").PersistentVolumeClaim,
  "apps/v1/StatefulSet": require("kubernetes-models/apps/v1").StatefulSet,
  "networking.k8s.io/v1/NetworkPolicy": require("kubernetes-models/networking.k8s.io/v1").NetworkPolicy,
};

let failures = 0;
const problem = (where, what) => { failures++; console.error(`validate: ${where}: ${what}`); };
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkContainer(where, c, { main }) {
  const s = c.securityContext || {};
  if (s.runAsNonRoot !== true) problem(where, "runAsNonRoot is not true");
  if (s.allowPrivilegeEscalation !== false) problem(where, "allowPrivilegeEscalation is not false");
  if (s.readOnlyRootFilesystem !== true) problem(where, "the root filesystem is not read-only");
  if (!(s.capabilities?.drop || []).includes("ALL")) problem(where, "capabilities do not drop ALL");
  if (s.seccompProfile?.type !== "RuntimeDefault") problem(where, "no RuntimeDefault seccomp profile");
  for (const kind of ["requests", "limits"])
    for (const r of ["memory", "ephemeral-storage"])
      if (!c.resources?.[kind]?.[r]) problem(where, `no resources.${kind}.${r}`);
  if (!(c.volumeMounts || []).some((m) => m.mountPath === "/tmp")) problem(where, "no writable /tmp");
  if (c.lifecycle?.preStop) problem(where, "a preStop hook races Runner's own flush on SIGTERM");
  if (main) {
    for (const [probe, path] of [["startupProbe", null], ["readinessProbe", "/readyz"], ["livenessProbe", "/healthz"]]) {
      const p = c[probe];
      if (!p) { problem(where, `no ${probe}`); continue; }
      if (!p.timeoutSeconds || !p.periodSeconds) problem(where, `${probe} without timeoutSeconds/periodSeconds`);
      if (path && p.httpGet?.path !== path) problem(where, `${probe} does not GET ${path}`);
    }
  }
}

function checkPodSpec(where, spec, claims) {
  if (spec.automountServiceAccountToken !== false) problem(where, "automountServiceAccountToken is not false");
  if (spec.enableServiceLinks !== false) problem(where, "enableServiceLinks is not false");
  const s = spec.securityContext || {};
  if (s.runAsNonRoot !== true) problem(where, "pod runAsNonRoot is not true");
  if (s.fsGroup === undefined) problem(where, "no fsGroup");
  if (s.seccompProfile?.type !== "RuntimeDefault") problem(where, "pod seccomp profile is not RuntimeDefault");
  // Runner's flush on SIGTERM is bounded by 20 s.
  if (!(spec.terminationGracePeriodSeconds > 20)) problem(where, "terminationGracePeriodSeconds is not above Runner's 20 s flush");
  for (const v of spec.volumes || [])
    if (v.emptyDir && !v.emptyDir.sizeLimit) problem(where, `emptyDir ${v.name} has no sizeLimit`);
  const volumes = new Set([...(spec.volumes || []).map((v) => v.name), ...claims]);
  for (const c of [...(spec.initContainers || []), ...spec.containers])
    for (const m of c.volumeMounts || [])
      if (!volumes.has(m.name)) problem(where, `${c.name} mounts unknown volume ${m.name}`);
  for (const c of spec.initContainers || []) checkContainer(`${where} init ${c.name}`, c, { main: false });
  for (const c of spec.containers) checkContainer(`${where} ${c.name}`, c, { main: true });
  if (!(spec.initContainers || []).some((c) => (c.args || []).includes("sync-down")))
    problem(where, "no initContainer runs sync-down");
}

function checkDocument(file, doc) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const where = `${file}: ${doc.kind} ${doc.metadata?.name}`;
  const Model = models[key];
  if (!Model) return problem(where, `unexpected kind ${key}`);
  try {
    new Model(doc).validate();
  } catch (e) {
    return problem(where, e.message);
  }
  const name = doc.metadata.name;
  const valid = ["Service", "StatefulSet"].includes(doc.kind) ? dnsLabel : dnsSubdomain;
  if (!valid.test(name) || name.length > 63) problem(where, "name is not a valid DNS name");
  if (doc.kind === "StatefulSet") {
    if (doc.spec.replicas !== 1) problem(where, "replicas is not 1");
    const claims = (doc.spec.volumeClaimTemplates || []).map((t) => t.metadata.name);
    if (!claims.includes("state")) problem(where, "no volumeClaimTemplate for the sync journal (state)");
    checkPodSpec(where, doc.spec.template.spec, claims);
  }
  if (doc.kind === "Pod") checkPodSpec(where, doc.spec, []);
  if (doc.kind === "NetworkPolicy") {
    if (!doc.spec.policyTypes.includes("Egress")) problem(where, "egress is not restricted");
    const rules = doc.spec.egress || [];
    const ports = rules.flatMap((r) => (r.ports || []).map((p) => p.port));
    if (ports.some((p) => ![53, 443].includes(p)) || rules.some((r) => !r.ports)) problem(where, "egress beyond DNS and HTTPS");
    for (const r of rules)
      for (const t of r.to || [])
        if (t.ipBlock && !(t.ipBlock.except || []).includes("169.254.169.254/32"))
          problem(where, "the metadata address 169.254.169.254 is not blocked");
  }
}

function validateText(file, text) {
  const docs = parseAllDocuments(text);
  const kinds = [];
  for (const d of docs) {
    if (d.errors.length) { problem(file, d.errors[0].message); continue; }
    const doc = d.toJS();
    if (!doc) continue;
    kinds.push(doc.kind);
    checkDocument(file, doc);
  }
  for (const k of ["StatefulSet", "Service", "NetworkPolicy"])
    if (!kinds.includes(k)) problem(file, `no ${k}`);
  console.log(`validate: ${file}: ${kinds.length} documents (${kinds.join(", ")})`);
}

const files = process.argv.slice(2);
if (files.length) {
  for (const f of files) validateText(f, readFileSync(f, "utf8"));
} else {
  validateText("data/deploy/base/runner.yaml", readFileSync(join(deploy, "base", "runner.yaml"), "utf8"));
  let kubectl = true;
  try { execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" }); } catch { kubectl = false; }
  if (kubectl) {
    const tmp = mkdtempSync(join(tmpdir(), "runner-kustomize-"));
    try {
      cpSync(deploy, tmp, { recursive: true });
      for (const f of ["s3.env", "token.env"]) copyFileSync(join(tmp, "example", `${f}.example`), join(tmp, "example", f));
      validateText("kubectl kustomize data/deploy/example", execFileSync("kubectl", ["kustomize", join(tmp, "example")], { encoding: "utf8" }));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    console.log("validate: no kubectl: the example overlay is not rendered here");
  }
}
if (failures) { console.error(`validate: ${failures} problem(s)`); process.exit(1); }
console.log("validate: the manifests are valid");
