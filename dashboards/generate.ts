/** `npm run dashboards`: writes the Grafana dashboards to `dashboards/generated/` (see README "Dashboards"). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GENERATED_DIR, renderDashboards } from './render.js';

mkdirSync(GENERATED_DIR, { recursive: true });
for (const [file, json] of renderDashboards()) {
  const path = join(GENERATED_DIR, file);
  writeFileSync(path, json);
  process.stdout.write(`wrote ${relative(process.cwd(), path)}\n`);
}
