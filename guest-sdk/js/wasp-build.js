#!/usr/bin/env node
// wasp-build app.js -o plugin.wasm: a JavaScript plugin into a WebAssembly
// component. The app and what it imports (`wasp-sdk`, other modules) are
// bundled into one module with rolldown, the WIT interfaces left as imports.
// An app of `wasp-sdk` (wasp:plugin@0.1, one user per instance) is then built
// by componentize-js (pinned by this package) against the WIT shipped here,
// world `user`, without wasi:http (wasp gives HTTP itself). An app of
// `wasp-sdk/async` (wasp:plugin@0.2, users sharing instances, async tasks) is
// built by componentize-qjs (QuickJS), whose async exports and imports
// componentize-js lacks: the `componentize-qjs` command on the PATH, or the
// one WASP_COMPONENTIZE_QJS names.
import { rolldown } from "rolldown";
import { mkdtemp, rm, writeFile, rename, stat, readFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
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
// componentize-qjs 0.5.0 (crates.io: `cargo install componentize-qjs-cli@0.5.0 --locked`,
// Rust 1.97 or later): 0.4.x cannot build a world with async imports.
const QJS = "componentize-qjs";
const work = await mkdtemp(join(tmpdir(), "wasp-build-"));
let failed;
try {
  // `wasp-sdk` is this package's own SDK, wherever the app lives.
  const bundle = await rolldown({
    input: app,
    platform: "neutral",
    external: [/^wasp:/, /^wasi:/],
    resolve: { alias: { "wasp-sdk/async": join(here, "async", "wasp.js"), "wasp-sdk": join(here, "wasp.js") } },
    logLevel: "silent",
  });
  const source = join(work, "app.js");
  await bundle.write({ file: source, format: "esm" });
  await bundle.close();
  // The world version is the one the bundle imports (through whichever SDK,
  // from whichever of the app's modules): 0.2 is wasp-sdk/async's.
  const shared = /["']wasp:plugin\/[a-z-]+@0\.2\.\d+["']/.test(await readFile(source, "utf8"));
  if (shared) {
    const exe = process.env.WASP_COMPONENTIZE_QJS || QJS;
    const tmp = join(work, "plugin.wasm");
    const r = spawnSync(exe, ["--wit", join(here, "async", "wit"), "--world", "user-js", "--js", source, "-o", tmp], {
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
      env: { ...process.env, RUST_BACKTRACE: "0" },
    });
    if (r.error) throw new Error(`cannot run ${exe} (${r.error.code ?? r.error.message}): install it with \`cargo install componentize-qjs-cli@0.5.0 --locked\` (Rust 1.97 or later), or name it in WASP_COMPONENTIZE_QJS`);
    if (r.status !== 0) {
      // Its error and causes, without the backtrace.
      const lines = (r.stderr || "").split("\n").map((l) => l.trim());
      const why = lines.slice(Math.max(0, lines.findIndex((l) => l.startsWith("Error")))).filter((l) => l && l !== "Caused by:" && l !== "Error:");
      const end = why.findIndex((l) => l.startsWith("Stack backtrace"));
      throw new Error(`${exe} failed: ${why.slice(0, end < 0 ? 6 : Math.min(end, 6)).join(" / ")}`);
    }
    await rename(tmp, `${out}.tmp`).catch(async () => writeFile(`${out}.tmp`, await readFile(tmp)));
  } else {
    const { componentize } = await import("@bytecodealliance/componentize-js");
    const { component } = await componentize({
      sourcePath: source,
      witPath: join(here, "wit"),
      worldName: "user",
      disableFeatures: ["http", "fetch-event"],
    });
    await writeFile(`${out}.tmp`, component);
  }
  await rename(`${out}.tmp`, out);
} catch (e) {
  failed = e.message ?? String(e);
} finally {
  await rm(work, { recursive: true, force: true });
}
if (failed) fail(failed);
console.log(out);
