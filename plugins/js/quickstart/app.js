// The quickstart in JavaScript: browse the home page, now and then post an item.
import { User, between, context, exportUser, http, log, task } from "wasp-sdk";

class Quickstart extends User {
  static wait = between(0.5, 1.5);
  static tasks = [task("index", 3, (u) => u.index()), task("create_item", 1, (u) => u.createItem(), ["write"])];

  onStart() {
    this.created = 0;
  }

  index() {
    log.info("browsing the home page");
    http.get("/");
  }

  createItem() {
    this.created += 1;
    const r = http.post("/items", { json: { name: "wasp", user: context.userId(), n: this.created } });
    if (r.status !== 200 && r.status !== 201) r.failure("check failed: created");
  }
}

export const behaviour = exportUser(Quickstart);
