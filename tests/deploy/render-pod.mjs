// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Renders data/deploy/base/runner.yaml into what `podman kube play` (4.3)
// runs: the StatefulSet's pod template as a Pod, its volumeClaimTemplate as a
// PersistentVolumeClaim (a podman volume), and the ConfigMap with this run's
// settings. Podman 4.3 runs no StatefulSet and restarts a finished
// initContainer unless restartPolicy is OnFailure.
//   node render-pod.mjs NAME IMAGE HOST_PORT KEY=VALUE...   (ConfigMap entries)
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";

const [name, image, hostPort, ...settings] = process.argv.slice(2);
if (!name || !image || !hostPort) {
  console.error("usage: render-pod.mjs NAME IMAGE HOST_PORT KEY=VALUE...");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const docs = parseAllDocuments(readFileSync(join(here, "..", "..", "data", "deploy", "base", "runner.yaml"), "utf8"))
  .map((d) => d.toJS());
const config = docs.find((d) => d.kind === "ConfigMap");
const set = docs.find((d) => d.kind === "StatefulSet");

config.metadata.name = `${name}-config`;
for (const kv of settings) {
  const i = kv.indexOf("=");
  config.data[kv.slice(0, i)] = kv.slice(i + 1);
}

const spec = structuredClone(set.spec.template.spec);
spec.restartPolicy = "OnFailure";
const claims = [];
for (const t of set.spec.volumeClaimTemplates) {
  const claim = `${name}-${t.metadata.name}`;
  claims.push({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: claim }, spec: t.spec });
  spec.volumes.push({ name: t.metadata.name, persistentVolumeClaim: { claimName: claim } });
}
for (const c of [...spec.initContainers, ...spec.containers]) {
  c.image = image;
  for (const from of c.envFrom || []) if (from.configMapRef) from.configMapRef.name = config.metadata.name;
  for (const p of c.ports || []) if (p.containerPort === 3001) p.hostPort = Number(hostPort);
}
const pod = { apiVersion: "v1", kind: "Pod", metadata: { name, labels: set.spec.template.metadata.labels }, spec };
process.stdout.write([config, ...claims, pod].map((d) => stringify(d, { aliasDuplicateObjects: false })).join("---\n"));
