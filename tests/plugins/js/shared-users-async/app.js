// The JavaScript twin of tests/plugins/shared (wasp:plugin@0.2): users sharing
// instances, each with its own cookie, baggage, spans and task count.
import { User, exportUser, task } from "wasp-sdk/async";

class Shared extends User {
  static tasks = [
    task("hello", 1, (u) => u.hello(), ["hello"]),
    task("dice", 1, (u) => u.dice(), ["dice"]),
    task("utf8", 1, (u) => u.utf8(), ["utf8"]),
    task("spin", 1, (u) => u.spin(), ["spin"]),
  ];

  async onStart() {
    this.done = 0;
    for (const path of ["start", "login"]) {
      const r = await this.client.get(`/${path}?u=${this.userId}`);
      if (!r.ok) throw new Error(`/${path}: HTTP ${r.status}`);
    }
    this.baggage.set("wasp.test.user", String(this.userId));
  }

  async hello() {
    this.done += 1;
    const headers = { "x-user": String(this.userId), "x-seq": String(this.done) };
    await this.client.get(`/hello?u=${this.userId}`, { headers });
    const r = await this.client.get(`/whoami?u=${this.userId}`, { headers });
    if (!r.ok) throw new Error(`/whoami: HTTP ${r.status}`);
  }

  // Text of one, two, three and four UTF-8 bytes a character, there and back
  // (the SDK encodes and decodes UTF-8 itself: QuickJS has no TextEncoder).
  async utf8() {
    const text = `user ${this.userId}: héllo wörld ✓ 日本 😀`;
    const r = await this.client.post("/echo", { body: text });
    if (!r.ok) throw new Error(`/echo: HTTP ${r.status}`);
    if (r.text() !== text) throw new Error(`/echo: sent ${JSON.stringify(text)}, got ${JSON.stringify(r.text())}`);
    const j = await this.client.post("/echo", { json: { text } });
    if (j.json().text !== text) throw new Error(`/echo: JSON came back as ${j.text()}`);
    // Bytes that are not UTF-8 come out with U+FFFD where a browser's decoder
    // puts it; the target checks what was decoded.
    const bad = await this.client.get("/bad-utf8");
    const check = await this.client.post("/bad-utf8", { body: bad.text() });
    if (!check.ok) throw new Error(`/bad-utf8: HTTP ${check.status}: ${check.text()}`);
  }

  // User 3 computes without end in its tenth task, once in the run (the
  // target answers "first" once); everyone else says hello.
  async spin() {
    if (this.userId === 3 && this.done >= 9 && (await this.client.get("/once?key=spin")).text() === "first") {
      for (;;);
    }
    await this.hello();
  }

  // Random numbers drawn before and after an await, sent as x-r headers.
  async dice() {
    for (let i = 0; i < 2; i++) {
      const headers = { "x-user": String(this.userId), "x-r": String(Math.floor(Math.random() * 2 ** 40)) };
      await this.client.get(`/hello?u=${this.userId}`, { headers });
    }
  }
}

export const behaviour = exportUser(Shared);
