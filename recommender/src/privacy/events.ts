/**
 * What happens to shopper events before they are used, at ingestion (POST /v1/events) and at training
 * alike: an erased shopper's events are dropped, so are events older than the retention, and shopper ids
 * are replaced by their pseudonyms.
 */
import { filterEvents, type EventColumns } from '../engine/events.js';
import type { ShopEvent } from '../schemas.js';
import type { Pseudonymiser } from './pseudonym.js';
import type { SubjectSet } from './subject-set.js';

export interface EventPolicyOptions {
  pseudonymiser: Pseudonymiser;
  erased: SubjectSet;
  /** Events older than this many days before now are dropped; none when unset. */
  retentionDays?: number;
  now?: () => number;
}

export interface Dropped {
  erased: number;
  expired: number;
}

function cutoff(opts: EventPolicyOptions): number {
  return opts.retentionDays === undefined ? -Infinity : (opts.now ?? Date.now)() - opts.retentionDays * 86_400_000;
}

/** One event at ingestion: the event to use (shopper pseudonymised), or why it was dropped. */
export function admitEvent(ev: ShopEvent, opts: EventPolicyOptions): ShopEvent | keyof Dropped {
  if (Date.parse(ev.timestamp) < cutoff(opts)) return 'expired';
  if (opts.erased.size > 0 && opts.erased.has(opts.pseudonymiser.all(ev.userId))) return 'erased';
  return { ...ev, userId: opts.pseudonymiser.pseudonym(ev.userId) };
}

/**
 * The training events with the same policy, in one pass: the pseudonym and the erased check are computed
 * once per distinct shopper, not per event. Shoppers left without events (erased, or all expired) leave
 * the user list too, so not even their pseudonym reaches the model.
 */
export function privatiseEvents(ev: EventColumns, opts: EventPolicyOptions): { events: EventColumns; dropped: Dropped } {
  const erasedUser = new Uint8Array(ev.userIds.length);
  if (opts.erased.size > 0) ev.userIds.forEach((id, u) => (erasedUser[u] = opts.erased.has(opts.pseudonymiser.all(id)) ? 1 : 0));
  const from = cutoff(opts);
  const dropped: Dropped = { erased: 0, expired: 0 };
  const events = filterEvents(ev, (i) => {
    if (ev.ts[i]! < from) {
      dropped.expired++;
      return false;
    }
    if (erasedUser[ev.user[i]!]) {
      dropped.erased++;
      return false;
    }
    return true;
  });
  const renumber = new Int32Array(ev.userIds.length).fill(-1);
  const userIds: string[] = [];
  for (let j = 0; j < events.length; j++) {
    const u = events.user[j]!;
    if (renumber[u] === -1) {
      renumber[u] = userIds.length;
      userIds.push(opts.pseudonymiser.pseudonym(ev.userIds[u]!));
    }
    events.user[j] = renumber[u]!;
  }
  return { events: { ...events, userIds }, dropped };
}
