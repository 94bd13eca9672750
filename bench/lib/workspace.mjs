// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// The workspace each server gets: the same content for both, made fresh on
// every run.

import fs from "node:fs";
import path from "node:path";

export const BIG_FILE = "content/big.txt";
export const UPDATE_FILE = "content/update.txt";

// Printable ASCII with no character that JSON escapes, so the byte count of
// a file equals the length of its content string on the wire.
export function asciiText(bytes, seed = 0) {
  const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstuvwxyz.\n";
  let out = "";
  while (out.length < bytes) out += `${seed++} ${line}`;
  return out.slice(0, bytes);
}

/*
 * dirs x filesPerDir small files (d000/f000.txt ...), one file of bigBytes to
 * fetch, and the folder that updateContent writes into. Also a node_modules
 * and a .git folder, which both servers leave out of trees.
 */
export function makeWorkspace(root, { dirs, filesPerDir, bigBytes }) {
  const layout = { files: dirs * filesPerDir + 2, dirs: dirs + 1 };
  // Creating 20,000 files can take many seconds on a busy disk: a workspace
  // made with the same layout by an earlier run is reused, with the files
  // the benchmark writes put back.
  const stamp = path.join(path.dirname(root), "layout.json");
  const want = JSON.stringify({ dirs, filesPerDir, bigBytes });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want && fs.existsSync(path.join(root, BIG_FILE))) {
    fs.writeFileSync(path.join(root, UPDATE_FILE), "initial\n");
    return layout;
  }
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  for (let d = 0; d < dirs; d++) {
    const dir = path.join(root, `d${String(d).padStart(3, "0")}`);
    fs.mkdirSync(dir);
    for (let f = 0; f < filesPerDir; f++)
      fs.writeFileSync(path.join(dir, `f${String(f).padStart(3, "0")}.txt`), `file ${d}/${f}\n`);
  }
  fs.mkdirSync(path.join(root, "content"));
  fs.writeFileSync(path.join(root, BIG_FILE), asciiText(bigBytes));
  fs.writeFileSync(path.join(root, UPDATE_FILE), "initial\n");
  for (const hidden of ["node_modules/pkg", ".git/objects"]) {
    fs.mkdirSync(path.join(root, hidden), { recursive: true });
    fs.writeFileSync(path.join(root, hidden, "x"), "left out of trees\n");
  }
  fs.writeFileSync(stamp, want);
  return layout;
}

// Counts the files and folders of a tree as fetchDir returns it.
export function countTree(tree) {
  let files = 0, dirs = 0;
  const stack = [...tree];
  while (stack.length) {
    const e = stack.pop();
    if (e.type === "directory") {
      dirs++;
      if (Array.isArray(e.children)) stack.push(...e.children);
    } else {
      files++;
    }
  }
  return { files, dirs };
}
