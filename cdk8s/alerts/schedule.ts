/**
 * The retraining period of a CronJob schedule: the longest gap between two consecutive runs, so a model is stale
 * only when a run was really missed (`0 3 * * 1-5` retrains every 24 h on weekdays, but 72 h over a weekend).
 */
import { Cron } from 'croner';
import { TRAINING_TIME_ZONE } from '../training.js';

/** Runs examined: enough for every weekly pattern of a quarter-hourly schedule, and months of a daily one. */
const RUNS = 1000;
/** A fixed start, so the period of a schedule is the same on every render (leap days and weekdays included). */
const FROM = '2025-01-01T00:00:00Z';

const cache = new Map<string, number>();

/** Seconds between the two furthest-apart consecutive runs of `schedule` (five fields or an `@` macro, UTC). */
export function retrainingPeriodSeconds(schedule: string): number {
  const hit = cache.get(schedule);
  if (hit !== undefined) return hit;
  let runs: Date[];
  try {
    // OR of day-of-month and day-of-week, as Kubernetes' cron library reads them.
    runs = new Cron(schedule, { timezone: TRAINING_TIME_ZONE, mode: '5-part', paused: true, domAndDow: false }).nextRuns(RUNS, FROM);
  } catch (err) {
    throw new Error(`spec.training.schedule: Invalid value: "${schedule}": ${(err as Error).message}`, { cause: err });
  }
  if (runs.length < 2) throw new Error(`spec.training.schedule: Invalid value: "${schedule}": it runs fewer than twice, so it has no retraining period`);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  const seconds = Math.round(longest / 1000);
  cache.set(schedule, seconds);
  return seconds;
}
