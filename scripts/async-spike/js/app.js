import { get } from 'wasp:spike/http@0.2.0';

class User {
  constructor(id) {
    this.id = id;
    this.done = 0n;
  }
  async runTask(index) {
    const status = await get(`/?u=${this.id}&t=${index}`);
    if (status !== 200) throw `status ${status}`;
    this.done += 1n;
    return this.done;
  }
}

export const behaviour = { User };
