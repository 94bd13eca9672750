// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Patches a copy of shared/tools/s3-test-server/server.js in place.
// Its verifier recomputes signatures with aws4.sign(), which differs from S3
// in two ways that give false SignatureDoesNotMatch answers:
// - under doNotModifyHeaders aws4 ignores the request's x-amz-date and signs
//   with its own clock, so a request that crosses a second boundary between
//   client and server fails (about 5% of aws CLI requests here);
// - aws4 never signs `range` (nor user-agent, expect, ...), so every ranged
//   GET that signs it fails (the aws CLI does, for files over 8 MB).
// The patch signs at the date the client claimed, over exactly the headers
// the client says it signed. Does nothing once server.js is fixed.

import fs from "node:fs";

const file = process.argv[2];
let s = fs.readFileSync(file, "utf8");
const call = "const o = aws4.sign(";
if (s.includes(call) && !s.includes("function signAt(")) {
  s = s.replace(call, "const o = signAt(amzDate, ");
  s = s.replace("function verify(req, body) {", [
    "function signAt(amzDate, request, credentials) {",
    "  const signer = new aws4.RequestSigner(request, credentials);",
    "  signer.datetime = amzDate;",
    "  signer.filteredHeaders = Object.entries(request.headers)",
    "    .map(([k, v]) => [k.toLowerCase(), v === undefined ? \"\" : v])",
    "    .sort((a, b) => (a[0] < b[0] ? -1 : 1));",
    "  return signer.sign();",
    "}",
    "",
    "function verify(req, body) {",
  ].join("\n"));
  if (!s.includes("signAt(amzDate,") || !s.includes("function signAt(")) throw new Error(`cannot patch ${file}`);
  fs.writeFileSync(file, s);
}
