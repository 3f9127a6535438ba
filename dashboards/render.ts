/** The dashboards Tandem ships, and their JSON exactly as `npm run dashboards` writes it to `dashboards/generated/`. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { businessDashboard } from './business.js';
import { operatorDashboard } from './operator.js';
import { recommenderDashboard } from './recommender.js';

export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'generated');

export interface DashboardSource {
  /** File name under `dashboards/generated/`. */
  readonly file: string;
  readonly build: () => Dashboard;
}

export const DASHBOARDS: readonly DashboardSource[] = [
  { file: 'tandem-recommender.json', build: recommenderDashboard },
  { file: 'tandem-business.json', build: businessDashboard },
  { file: 'tandem-operator.json', build: operatorDashboard },
];

/** The JSON text of a dashboard: two-space indented, newline-terminated, no timestamps, so regenerating is a no-op. */
export function dashboardJson(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Every dashboard file name with its JSON text. */
export function renderDashboards(): Map<string, string> {
  return new Map(DASHBOARDS.map((s) => [s.file, dashboardJson(s.build())]));
}
