#!/usr/bin/env node
// wasp-build app.js -o plugin.wasm: a JavaScript plugin into a WebAssembly
// component. The app and what it imports (`wasp-sdk`, other modules) are
// bundled into one module with rolldown, the WIT interfaces left as imports;
// then componentize-js (pinned by this package) builds it against the WIT
// shipped here, world `user`, without wasi:http (wasp gives HTTP itself).
import { rolldown } from "rolldown";
import { componentize } from "@bytecodealliance/componentize-js";
import { mkdtemp, rm, writeFile, rename, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const usage = "usage: wasp-build APP.js -o PLUGIN.wasm";
function fail(msg) {
  console.error(`wasp-build: ${msg}`);
  process.exit(2);
}

const args = process.argv.slice(2);
let app;
let out;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "-o" || args[i] === "--output") out = args[++i];
  else if (args[i] === "-h" || args[i] === "--help") {
    console.log(usage);
    process.exit(0);
  } else if (!app) app = args[i];
  else fail(`unexpected argument ${args[i]}\n${usage}`);
}
if (!app || !out) fail(usage);
app = resolve(app);
out = resolve(out);
if (!app.endsWith(".js") || !(await stat(app).catch(() => null))?.isFile()) fail(`${app}: not a JavaScript file`);

const here = dirname(fileURLToPath(import.meta.url));
const work = await mkdtemp(join(tmpdir(), "wasp-build-"));
try {
  // `wasp-sdk` is this package's own SDK, wherever the app lives.
  const bundle = await rolldown({
    input: app,
    platform: "neutral",
    external: [/^wasp:/, /^wasi:/],
    resolve: { alias: { "wasp-sdk": join(here, "wasp.js") } },
    logLevel: "silent",
  });
  const source = join(work, "app.js");
  await bundle.write({ file: source, format: "esm" });
  await bundle.close();
  const { component } = await componentize({
    sourcePath: source,
    witPath: join(here, "wit"),
    worldName: "user",
    disableFeatures: ["http", "fetch-event"],
  });
  await writeFile(`${out}.tmp`, component);
  await rename(`${out}.tmp`, out);
  console.log(out);
} catch (e) {
  fail(e.message ?? String(e));
} finally {
  await rm(work, { recursive: true, force: true });
}
