// wasp-sdk for JavaScript, wasp:plugin@0.2: many users per instance, async tasks.
//
//   import { User, task, between, exportUser } from "wasp-sdk/async";
//
//   class Quickstart extends User {
//     static wait = between(0.5, 1.5);
//     static tasks = [task("index", 3, (u) => u.index())];
//     async index() { await this.client.get("/"); }
//   }
//   export const behaviour = exportUser(Quickstart);
//
// Built with componentize-qjs (QuickJS) against wasp's WIT 0.2 (world user):
// see wasp-build. One instance of the component runs many simulated users
// (`wasp run --users-per-instance`), one object of your class per user. Tasks
// are async functions that `await` the host's HTTP, so that while one user
// waits for an answer the instance runs the others. Everything that acts for
// the user hangs off it: `this.client` (HTTP with its own cookies),
// `this.baggage`, `this.log`, `this.telemetry`, `this.flags`, `this.userId`.
// Module-level state is the instance's, shared by its users.

import witHttp from "wasp:plugin/http@0.2.1";
import witBaggage from "wasp:plugin/baggage@0.2.1";
import witLog from "wasp:plugin/log@0.2.1";
import witTelemetry from "wasp:plugin/telemetry@0.2.1";
import witFlags from "wasp:plugin/flags@0.2.1";
import witSession from "wasp:plugin/session@0.2.1";
import witSeed from "wasi:random/insecure-seed@0.2.12";

export const WIT_VERSION = "0.2.1";

import { BaseResponse, headersAndBody, logLevels, ms } from "../common.js";
export { between, constant, constantPacing, task } from "../common.js";

// Random numbers. The component is a snapshot taken at build time, so
// QuickJS's own Math.random would start from the same state in every
// instance of every run. Instead each instance seeds itself from the host's
// randomness when its first user is made (with `wasp run --seed` that is the
// run's seed, the same in every instance), and each user draws from a stream
// of its own, made from that seed and its id: `Math.random()` in a user's
// call, and `this.random()`, draw from it.

/** sfc32: a small fast generator with 128 bits of state (seeded by splitmix32). */
function stream(seed) {
  let x = seed >>> 0;
  const mix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

const u32 = (v) => (typeof v === "bigint" ? Number(v & 0xffffffffn) : v >>> 0);
/** The host's seed, read when the instance's first user is made. */
let runSeed = null;
/** Draws outside any user's call (until the first user seeds it: the snapshot's state). */
let instanceDraw = stream(0x2545f491);
/** The user whose call runs now (set when a call starts or resumes). */
let running = null;

/** A user's seed: the host's seed and the user's id, wherever the user is placed. */
function seedFor(userId) {
  if (runSeed === null) {
    const [lo, hi] = witSeed.insecureSeed();
    runSeed = (u32(lo) ^ Math.imul(u32(hi), 0x27d4eb2f)) >>> 0;
    instanceDraw = stream(runSeed ^ Math.imul(userId >>> 0, 0x85ebca6b) ^ 0x5bd1e995);
  }
  return (runSeed ^ Math.imul(userId >>> 0, 0x9e3779b1)) >>> 0;
}

Math.random = () => (running ? running.random() : instanceDraw());

// QuickJS has no TextEncoder/TextDecoder: UTF-8 by hand (what cannot be
// encoded or decoded becomes U+FFFD, where the Web's classes put it).
function utf8Encode(text) {
  const out = [];
  for (const ch of String(text)) {
    let c = ch.codePointAt(0);
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

function utf8Decode(bytes) {
  // The WHATWG decoder: each maximal invalid subpart becomes one U+FFFD, and
  // the byte that ended it is read again as the start of what follows.
  const points = [];
  let c = 0;
  let need = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const x = bytes[i];
    if (need === 0) {
      if (x < 0x80) points.push(x);
      else if (x >= 0xc2 && x <= 0xdf) {
        need = 1;
        c = x & 31;
      } else if (x >= 0xe0 && x <= 0xef) {
        need = 2;
        c = x & 15;
        if (x === 0xe0) lower = 0xa0; // no overlong forms
        if (x === 0xed) upper = 0x9f; // no surrogates
      } else if (x >= 0xf0 && x <= 0xf4) {
        need = 3;
        c = x & 7;
        if (x === 0xf0) lower = 0x90; // no overlong forms
        if (x === 0xf4) upper = 0x8f; // nothing past U+10FFFF
      } else points.push(0xfffd);
      continue;
    }
    if (x < lower || x > upper) {
      need = 0;
      lower = 0x80;
      upper = 0xbf;
      points.push(0xfffd);
      i -= 1;
      continue;
    }
    c = (c << 6) | (x & 63);
    need -= 1;
    lower = 0x80;
    upper = 0xbf;
    if (need === 0) points.push(c);
  }
  if (need !== 0) points.push(0xfffd); // cut short at the end
  let text = "";
  for (let k = 0; k < points.length; k += 4096) text += String.fromCodePoint(...points.slice(k, k + 4096));
  return text;
}

/** A response. Status >= 400 is a failure unless you call `success()`. */
export class Response extends BaseResponse {
  constructor(session, r) {
    super(r);
    this.session = session;
  }
  text() {
    return utf8Decode(this.body);
  }
  /** Counts this response as failed, with a message (a k6 check that failed). */
  failure(message) {
    witHttp.fail(this.session, this.id, String(message));
  }
  /** Counts this response as a success, whatever its status. */
  success() {
    witHttp.pass(this.session, this.id);
  }
}

/** No answer came: the kind is timeout, connect, protocol, denied or invalid. */
export class HttpError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

/** `this.client`: the user's requests through the host (its own connections
 * and cookies, redirects followed, paths joined to --host). Every method is
 * async: `await this.client.get("/")`. */
export class Client {
  constructor(session, user) {
    this.session = session;
    this.user = user;
  }

  async request(method, url, opts = {}) {
    const { headers, body } = headersAndBody(opts, utf8Encode);
    const req = {
      method,
      url: String(url),
      headers,
      body: body ?? null,
      name: opts.name === undefined ? null : String(opts.name),
      timeoutMs: opts.timeout === undefined ? null : ms(opts.timeout),
    };
    let r;
    try {
      r = await witHttp.send(this.session, req);
    } catch (e) {
      // The host's `http-error` variant: { tag, val }.
      if (e && typeof e === "object" && typeof e.tag === "string") throw new HttpError(e.tag, e.val);
      throw e;
    } finally {
      running = this.user;
    }
    return new Response(this.session, r);
  }

  get(url, opts) {
    return this.request("get", url, opts);
  }
  head(url, opts) {
    return this.request("head", url, opts);
  }
  post(url, opts) {
    return this.request("post", url, opts);
  }
  put(url, opts) {
    return this.request("put", url, opts);
  }
  patch(url, opts) {
    return this.request("patch", url, opts);
  }
  del(url, opts) {
    return this.request("delete", url, opts);
  }
  options(url, opts) {
    return this.request("options", url, opts);
  }
}

// WIT's 64-bit integers go to the host as BigInt.
function value(v) {
  if (typeof v === "boolean") return { tag: "boolean", val: v };
  if (typeof v === "bigint") return { tag: "int", val: BigInt.asIntN(64, v) };
  if (typeof v === "number") return Number.isSafeInteger(v) ? { tag: "int", val: BigInt(v) } : { tag: "float", val: v };
  return { tag: "str", val: String(v) };
}

/** The user's own baggage, logs, spans and flags, each bound to its session. */
function bound(s, user) {
  const resumed = async (p) => {
    try {
      return await p;
    } finally {
      running = user;
    }
  };
  return {
    baggage: {
      set: (k, v) => witBaggage.set(s, String(k), String(v)),
      get: (k) => witBaggage.get(s, String(k)),
      remove: (k) => witBaggage.remove(s, String(k)),
      entries: () => witBaggage.entries(s),
    },
    log: logLevels((level, m, a) => witLog.log(s, level, m, a)),
    telemetry: {
      setSpanName: (name) => witTelemetry.setSpanName(s, String(name)),
      setAttribute: (k, v) => witTelemetry.setAttribute(s, String(k), value(v)),
      /** Runs the async `f` inside a child span of the innermost open one. */
      async span(name, f) {
        witTelemetry.startSpan(s, String(name));
        try {
          return await f();
        } finally {
          witTelemetry.endSpan(s);
        }
      },
      event: (name, a) => witTelemetry.addEvent(s, String(name), Object.entries(a || {}).map(([k, v]) => [String(k), value(v)])),
      exception: (m) => witTelemetry.recordException(s, String(m)),
      /** Drops the span of the current task (or onStart/onStop): it is not exported. */
      discardSpan: () => witTelemetry.discardSpan(s),
    },
    /** Feature flags evaluated by the host (OpenFeature); the default when unknown. */
    flags: {
      bool: (k, d = false) => resumed(witFlags.getBool(s, String(k), Boolean(d))),
      int: async (k, d = 0) => Number(await resumed(witFlags.getInt(s, String(k), BigInt.asIntN(64, BigInt(Math.trunc(Number(d))))))),
      float: (k, d = 0) => resumed(witFlags.getFloat(s, String(k), Number(d))),
      string: (k, d = "") => resumed(witFlags.getString(s, String(k), String(d))),
    },
  };
}

/** Base class of users: give it `static tasks` and `static wait`; override
 * the async `onStart`/`onStop` if needed. */
export class User {
  constructor(session) {
    const b = bound(session, this);
    this.session = session;
    this.userId = Number(session.userId());
    /** A number in [0, 1) from this user's own stream (as `Math.random()` in its calls). */
    this.random = stream(seedFor(this.userId));
    this.client = new Client(session, this);
    this.baggage = b.baggage;
    this.log = b.log;
    this.telemetry = b.telemetry;
    this.flags = b.flags;
  }
  // Nothing done: no span for it.
  async onStart() {
    this.telemetry.discardSpan();
  }
  async onStop() {
    this.telemetry.discardSpan();
  }
}

/** The run's --host and the time since the run started (the instance's, not a user's). */
export const context = {
  host: () => witSession.host(),
  elapsedMs: () => Number(witSession.elapsedMs()),
};

/** A task's exception is a task error (result err), not a trap. */
function reason(e) {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The `behaviour` export for a user class: `export const behaviour = exportUser(MyUser);` */
export function exportUser(cls) {
  const tasks = cls.tasks || [];
  // The `user` resource the host makes per simulated user.
  class UserResource {
    constructor(session) {
      this.user = new cls(session);
    }
    async onStart() {
      running = this.user;
      try {
        await this.user.onStart();
      } catch (e) {
        throw reason(e);
      }
    }
    async runTask(index) {
      const t = tasks[index];
      if (!t) throw `no task #${index}`;
      running = this.user;
      try {
        await t.run(this.user);
      } catch (e) {
        throw reason(e);
      }
    }
    async onStop() {
      running = this.user;
      try {
        await this.user.onStop();
      } catch (e) {
        this.user.log.warn(`onStop: ${reason(e)}`);
      }
      // The user's last call: its object goes, so that an instance holds only its live users.
      if (running === this.user) running = null;
      this.user = null;
    }
  }
  return {
    describe: () => ({
      name: cls.behaviourName || cls.name,
      tasks: tasks.map((t) => ({ name: t.name, weight: t.weight, tags: t.tags })),
      wait: cls.wait || { tag: "none" },
    }),
    User: UserResource,
  };
}
