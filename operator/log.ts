/** Structured JSON logs (pino). Every line about a Recommender carries its key as `recommender`. */
import { pino, type Logger } from 'pino';

export function createLogger(options: { level?: string; file?: string } = {}): Logger {
  const settings = { level: options.level ?? process.env.LOG_LEVEL ?? 'info', base: { component: 'tandem-operator' }, timestamp: pino.stdTimeFunctions.isoTime };
  return options.file ? pino(settings, pino.destination({ dest: options.file, mkdir: true, sync: false })) : pino(settings);
}
