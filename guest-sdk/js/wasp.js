// wasp-sdk for JavaScript: write wasp users as a class, k6- and Locust-style.
//
//   import { User, task, between, http, exportUser } from "wasp-sdk";
//
//   class Quickstart extends User {
//     static wait = between(0.5, 1.5);
//     static tasks = [task("index", 3, (u) => u.index())];
//     index() { http.get("/"); }
//   }
//   export const behaviour = exportUser(Quickstart);
//
// Built into a WebAssembly component with jco (componentize-js) against wasp's
// WIT (world wasp:plugin/user); see scripts/build-js-plugins. One instance of
// the component is one simulated user, so one object of your class lives in it.
// The host picks tasks by weight, waits between them, and times and traces
// every request (traceparent and baggage included).

import * as wasiHttp from "wasp:plugin/http@0.1.2";
import * as wasiBaggage from "wasp:plugin/baggage@0.1.2";
import * as wasiLog from "wasp:plugin/log@0.1.2";
import * as wasiTelemetry from "wasp:plugin/telemetry@0.1.2";
import * as wasiContext from "wasp:plugin/context@0.1.2";
import * as wasiFlags from "wasp:plugin/flags@0.1.2";

export const WIT_VERSION = "0.1.2";

import { BaseResponse, headersAndBody, logLevels, ms } from "./common.js";
export { between, constant, constantPacing, task } from "./common.js";

/** A response. Status >= 400 is a failure unless you call `success()`. */
export class Response extends BaseResponse {
  text() {
    return new TextDecoder().decode(this.body);
  }
  /** Counts this response as failed, with a message (a k6 check that failed). */
  failure(message) {
    wasiHttp.fail(this.id, String(message));
  }
  /** Counts this response as a success, whatever its status. */
  success() {
    wasiHttp.pass(this.id);
  }
}

/** No answer came: the kind is timeout, connect, protocol, denied or invalid. */
export class HttpError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

const utf8 = (text) => new TextEncoder().encode(text);

function request(method, url, opts = {}) {
  const { headers, body } = headersAndBody(opts, utf8);
  const req = {
    method,
    url,
    headers,
    body,
    name: opts.name,
    timeoutMs: opts.timeout === undefined ? undefined : ms(opts.timeout),
  };
  try {
    return new Response(wasiHttp.send(req));
  } catch (e) {
    const p = e && e.payload;
    if (p && p.tag) throw new HttpError(p.tag, p.val);
    throw e;
  }
}

/** HTTP through the host: cookies per user, redirects followed, URLs joined to --host. */
export const http = {
  request,
  get: (url, opts) => request("get", url, opts),
  head: (url, opts) => request("head", url, opts),
  post: (url, opts) => request("post", url, opts),
  put: (url, opts) => request("put", url, opts),
  patch: (url, opts) => request("patch", url, opts),
  del: (url, opts) => request("delete", url, opts),
  options: (url, opts) => request("options", url, opts),
};

/** Log lines in the host's log, tied to the current span: `log.info(message, attributes)`. */
export const log = logLevels((level, m, a) => wasiLog.log(level, m, a));

function value(v) {
  if (typeof v === "boolean") return { tag: "boolean", val: v };
  if (typeof v === "bigint") return { tag: "int", val: v };
  if (typeof v === "number") return Number.isInteger(v) ? { tag: "int", val: BigInt(v) } : { tag: "float", val: v };
  return { tag: "str", val: String(v) };
}

/** Spans: rename the task's span, set attributes, open child spans. */
export const telemetry = {
  setSpanName: (name) => wasiTelemetry.setSpanName(name),
  setAttribute: (k, v) => wasiTelemetry.setAttribute(k, value(v)),
  /** Runs `f` inside a child span. */
  span(name, f) {
    wasiTelemetry.startSpan(name);
    try {
      return f();
    } finally {
      wasiTelemetry.endSpan();
    }
  },
  event: (name, a) => wasiTelemetry.addEvent(name, Object.entries(a || {}).map(([k, v]) => [k, value(v)])),
  exception: (m) => wasiTelemetry.recordException(String(m)),
  /** Drops the span of the current task (or onStart/onStop): it is not exported. */
  discardSpan: () => wasiTelemetry.discardSpan(),
};

export const baggage = {
  set: (k, v) => wasiBaggage.set(k, String(v)),
  get: (k) => wasiBaggage.get(k),
  remove: (k) => wasiBaggage.remove(k),
  entries: () => wasiBaggage.entries(),
};

export const context = {
  userId: () => Number(wasiContext.userId()),
  host: () => wasiContext.host(),
  elapsedMs: () => Number(wasiContext.elapsedMs()),
};

/** Feature flags evaluated by the host (OpenFeature); the default when unknown. */
export const flags = {
  bool: (k, d = false) => wasiFlags.getBool(k, d),
  int: (k, d = 0) => Number(wasiFlags.getInt(k, BigInt(d))),
  float: (k, d = 0) => wasiFlags.getFloat(k, d),
  string: (k, d = "") => wasiFlags.getString(k, d),
};

/** Base class of users: override onStart/onStop if needed. */
export class User {
  // Nothing done: no span for it.
  onStart() {
    wasiTelemetry.discardSpan();
  }
  onStop() {
    wasiTelemetry.discardSpan();
  }
}

/** The `behaviour` export for a user class: `export const behaviour = exportUser(MyUser);` */
export function exportUser(cls) {
  const tasks = cls.tasks || [];
  let user;
  const me = () => (user ??= new cls());
  const guard = (f) => {
    try {
      f();
    } catch (e) {
      // A task's exception is a task error (result err), not a trap.
      throw e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  };
  return {
    describe: () => ({
      name: cls.behaviourName || cls.name,
      tasks: tasks.map((t) => ({ name: t.name, weight: t.weight, tags: t.tags })),
      wait: cls.wait || { tag: "none" },
    }),
    onStart: () => guard(() => me().onStart()),
    runTask: (index) => guard(() => tasks[index].run(me())),
    onStop: () => {
      try {
        me().onStop();
      } catch (e) {
        log.warn(`onStop: ${e}`);
      }
    },
  };
}
