/**
 * Run ids: UUIDs of version 7 (RFC 9562), which begin with the time in
 * milliseconds. The journal keeps a unique index of run ids (and the queue
 * of accepted runs another): random ids land on a random leaf of that index
 * each, so every run's commit rewrote a page of its own there, and a journal
 * of many runs read the page back first; ids that grow with time all land on
 * the index's last leaf, which the runs committing together share.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A new run id: `tttttttt-tttt-7ccc-vrrr-rrrrrrrrrrrr`, with `t` the Unix
 * time in milliseconds, `c` a counter of the ids made in this millisecond
 * (so ids of one process sort in the order they were made, up to 4096 per
 * millisecond), and the variant and 62 random bits of a version 4 UUID.
 */
export function newRunId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    // the same millisecond, or the clock stepped back: keep growing from the last id's time
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  const t = lastMs.toString(16).padStart(12, '0');
  const random = randomUUID();
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${counter.toString(16).padStart(3, '0')}${random.slice(18)}`;
}
