// Copies the minified builds of the dashboard's libraries (and their licences) from
// node_modules into bot/web/static/vendor/, where the Python package ships them: the page
// never loads a library from a CDN. Run from web/: `npm ci && npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const target = join(here, "..", "bot", "web", "static", "vendor");

// [package, file in the package, name under vendor/]
const files = [
  ["leaflet", "dist/leaflet.js", "leaflet/leaflet.js"],
  ["leaflet", "dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet", "LICENSE", "leaflet/LICENSE"],
  // leaflet.css points at these; the page draws circle markers, so they load only if a
  // future view uses Leaflet's default pin or layer switcher.
  ["leaflet", "dist/images/layers.png", "leaflet/images/layers.png"],
  ["leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"],
  ["leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"],
  ["leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"],
  ["leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"],
  ["uplot", "dist/uPlot.iife.min.js", "uplot/uPlot.iife.min.js"],
  ["uplot", "dist/uPlot.min.css", "uplot/uPlot.min.css"],
  ["uplot", "LICENSE", "uplot/LICENSE"],
];

rmSync(target, { recursive: true, force: true });
const versions = {};
for (const [pkg, from, to] of files) {
  const out = join(target, to);
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(join(modules, pkg, from), out);
  versions[pkg] ??= JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
for (const [pkg, version] of Object.entries(versions)) console.log(`${pkg} ${version} -> ${target}`);
