// The quickstart in JavaScript for wasp:plugin@0.2: many users per instance.
import { User, between, exportUser, task } from "wasp-sdk/async";

class Quickstart extends User {
  static wait = between(0.5, 1.5);
  static tasks = [task("index", 3, (u) => u.index()), task("create_item", 1, (u) => u.createItem(), ["write"])];

  async onStart() {
    this.created = 0;
  }

  async index() {
    this.log.info("browsing the home page");
    await this.client.get("/");
  }

  async createItem() {
    this.created += 1;
    const r = await this.client.post("/items", { json: { name: "wasp", user: this.userId, n: this.created } });
    if (r.status !== 200 && r.status !== 201) r.failure("check failed: created");
  }
}

export const behaviour = exportUser(Quickstart);
