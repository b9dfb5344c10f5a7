// Build the live editor: one minified IIFE in proposals/static/live/, and the licences
// of every package bundled into it (LICENSES.txt), so that the static files carry them.
import { build } from "esbuild";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";

const out = "../proposals/static/live";
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: ["src/live-editor.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outfile: join(out, "live-editor.js"),
  legalComments: "none",
  metafile: true,
  logLevel: "info",
});

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (!match || packages.has(match[1])) continue;
  const root = join("node_modules", match[1]);
  const meta = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"]
    .map((name) => join(root, name))
    .find((path) => existsSync(path));
  packages.set(match[1], {
    version: meta.version,
    license: meta.license,
    text: file ? readFileSync(file, "utf8").trim() : `${meta.license} (no licence file shipped)`,
  });
}
const parts = [...packages.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, p]) => `${name} ${p.version} (${p.license})\n\n${p.text}\n`);
writeFileSync(
  join(out, "LICENSES.txt"),
  "The live editor (live-editor.js) bundles these packages, built from frontend/ by esbuild.\n\n" +
    parts.join("\n" + "-".repeat(72) + "\n\n"),
);
console.log(`${packages.size} packages, licences in ${join(out, "LICENSES.txt")}`);
