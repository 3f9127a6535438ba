/**
 * Removes events from a JSON Lines events file on the volume (erased shoppers, events past retention):
 * the file is rewritten aside and renamed over the original, and left alone if it changed meanwhile
 * (whoever feeds it then wins, and the next run prunes again). Lines that are not valid events are kept:
 * they are the feeder's to fix, and training reports them.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { checker } from '../data/validate.js';
import { ShopEvent } from '../schemas.js';

const isEvent = checker(ShopEvent);

export interface PruneResult {
  kept: number;
  removed: number;
  /** Set when the file was not replaced, and why. */
  skipped?: string;
}

/** Keeps the lines for which `keep` is true; returns the counts. */
export async function pruneEventsFile(path: string, keep: (ev: ShopEvent) => boolean): Promise<PruneResult> {
  const before = await stat(path);
  const tmp = `${path}.prune-${process.pid}.tmp`;
  const out = createWriteStream(tmp, 'utf8');
  let kept = 0;
  let removed = 0;
  try {
    for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      if (isEvent.Check(value) && !keep(value)) {
        removed++;
        continue;
      }
      kept++;
      if (!out.write(line + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const after = await stat(path);
    if (removed === 0 || after.mtimeMs !== before.mtimeMs || after.size !== before.size) {
      await unlink(tmp);
      return { kept, removed, ...(removed > 0 ? { skipped: `${path} changed while it was pruned` } : {}) };
    }
    await rename(tmp, path);
    return { kept, removed };
  } catch (err) {
    out.destroy();
    await unlink(tmp).catch(() => undefined);
    throw new Error(`failed to prune ${path}: ${(err as Error).message}`, { cause: err });
  }
}
