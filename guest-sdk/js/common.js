// What both SDKs (wasp-sdk for wasp:plugin@0.1, wasp-sdk/async for 0.2)
// describe the same way: wait models and tasks. Plain JavaScript, no WIT.

/** Seconds as whole milliseconds, never negative. */
export const ms = (seconds) => Math.max(0, Math.round(seconds * 1000));

/** Wait uniformly between min and max seconds. */
export const between = (min, max) => ({ tag: "between", val: [ms(min), ms(max)] });
/** Wait this many seconds between tasks. */
export const constant = (s) => (s > 0 ? { tag: "constant", val: ms(s) } : { tag: "none" });
/** Start a task every `period` seconds. */
export const constantPacing = (period) => ({ tag: "pacing", val: ms(period) });

/**
 * A task: a name, a weight, the function that runs it (given the user; an
 * async function with wasp-sdk/async), tags.
 */
export function task(name, weight, run, tags = []) {
  return { name, weight, run, tags };
}

/**
 * What a response holds in both SDKs. Status >= 400 is a failure unless the
 * SDK's `success()` is called; `text()` is the SDK's own.
 */
export class BaseResponse {
  constructor(r) {
    this.id = r.id;
    this.status = r.status;
    this.headers = Object.fromEntries(r.headers.map(([k, v]) => [k.toLowerCase(), v]));
    this.body = r.body;
    this.truncated = r.truncated;
    this.url = r.url;
    this.elapsedMs = Number(r.elapsedUs) / 1000;
  }
  get ok() {
    return this.status < 400;
  }
  json() {
    return JSON.parse(this.text());
  }
}

/**
 * A request's headers and body from its options, as both SDKs send them:
 * headers as pairs of strings; `json` serialised and encoded (typed
 * application/json unless a content-type is given), a string `body` encoded,
 * bytes as they are. `encode` is the SDK's text to UTF-8 bytes.
 */
export function headersAndBody(opts, encode) {
  const headers = Object.entries(opts.headers || {}).map(([k, v]) => [String(k), String(v)]);
  let body;
  if (opts.json !== undefined) {
    body = encode(JSON.stringify(opts.json));
    if (!headers.some(([k]) => k.toLowerCase() === "content-type")) headers.push(["content-type", "application/json"]);
  } else if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? encode(opts.body) : opts.body;
  }
  return { headers, body };
}

/** Log attributes as the host takes them: pairs of strings. */
const attrs = (o) => Object.entries(o || {}).map(([k, v]) => [String(k), String(v)]);

/**
 * The `log` object of both SDKs: one method per level, each handing
 * `write(level, message, attributes)` its line.
 */
export function logLevels(write) {
  return Object.fromEntries(["trace", "debug", "info", "warn", "error"].map((level) => [level, (m, a) => write(level, String(m), attrs(a))]));
}
