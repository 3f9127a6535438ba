/** Structured JSON logs (pino). Every line about a Recommender carries its key as `recommender`. */
import { pino, type Logger } from 'pino';

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { component: 'tandem-operator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
