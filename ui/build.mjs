// Bundle the workspace into the Python package (src/recoupe/api/static/app), with every
// library inside: the page loads nothing from anywhere but its own server.
//   npm ci && npm run build      (or `make ui` from the project root)

import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--out");
const out = flag > 0 ? process.argv[flag + 1] : join(here, "..", "src", "recoupe", "api", "static", "app");

/** The digest of the sources, kept beside the bundle: a test tells a stale bundle. */
export function sourceDigest() {
  const hash = createHash("sha256");
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(here, "src"));
  files.push(join(here, "index.html"), join(here, "package-lock.json"), join(here, "build.mjs"));
  for (const path of files) {
    hash.update(relative(here, path).split("\\").join("/"));
    hash.update("\0");
    hash.update(readFileSync(path));
    hash.update("\0");
  }
  return hash.digest("hex");
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await esbuild.build({
  entryPoints: { main: join(here, "src", "main.js") },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["chrome110", "firefox115"],
  minify: true,
  legalComments: "linked",
  outdir: out,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  loader: { ".json": "json" },
  metafile: true,
  logLevel: "warning",
});
cpSync(join(here, "index.html"), join(out, "index.html"));
const sizes = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([path, info]) => [relative(out, path), info.bytes]),
);
writeFileSync(
  join(out, "build.json"),
  JSON.stringify({ sources: sourceDigest(), outputs: sizes }, null, 1) + "\n",
);
const total = Object.values(sizes).reduce((a, b) => a + b, 0);
console.log(`built ${Object.keys(sizes).length} files, ${(total / 1e6).toFixed(2)} MB, in ${out}`);
