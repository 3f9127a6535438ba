/** `npm run operator`: runs the operator against the current kubeconfig until SIGTERM or Ctrl-C. */
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startOperator } from './operator.js';

const log = createLogger();
try {
  const config = loadConfig(process.argv.slice(2));
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const operator = await startOperator(kc, config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight work, then releasing the lease');
    operator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'operator failed to start');
  process.exit(1);
}
