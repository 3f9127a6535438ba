/**
 * Every alert follows the mixin conventions and has its runbook, and every runbook has its alert: severity, a
 * static summary, a templated description, a runbook_url to docs/runbooks/<AlertName>.md, which gives the meaning,
 * impact, diagnosis (exact kubectl and PromQL) and mitigation, and whose generated block is current.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docPath } from '../../hack/readme.js';
import { recommender } from '../test/fixtures.js';
import { ALERT_SECTION, INDEX_SECTION, alertBlock, alertsByName, indexTable } from './runbooks.js';
import { runbookUrl } from './types.js';

const RUNBOOKS = docPath('runbooks');
// The golden spec has every optional part on, so every alert a Recommender can have is rendered.
const byName = alertsByName(recommender().spec);
const block = (text: string, name: string) => new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(text)?.[1];
const page = (alert: string) => readFileSync(join(RUNBOOKS, `${alert}.md`), 'utf8');

describe('the alert conventions', () => {
  it.each([...byName.keys()])('%s has a severity, a static summary, a templated description and its runbook URL', (alert) => {
    for (const { rule } of byName.get(alert)!) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).not.toContain('{{');
      expect(rule.annotations.summary).toMatch(/^[A-Z].*\.$/);
      expect(rule.annotations.description).toMatch(/\{\{ .*\$(labels|value).* \}\}/);
      expect(rule.annotations.runbook_url).toBe(runbookUrl(alert));
      expect(rule.annotations.runbook_url).toMatch(new RegExp(`/docs/runbooks/${alert}\\.md$`));
    }
  });

  it('Only the burn-rate pages and a Recommender with no scoring pod are critical', () => {
    const critical = [...byName].filter(([, alerts]) => alerts.some((a) => a.rule.labels.severity === 'critical')).map(([name]) => name);
    expect(critical).toEqual(['TandemRecommenderAvailabilityBudgetBurn', 'TandemRecommenderLatencyBudgetBurn', 'TandemRecommenderDown']);
  });
});

describe('the runbooks', () => {
  it('When docs/runbooks/ is listed, Then there is exactly one page per alert, and the index', () => {
    const pages = readdirSync(RUNBOOKS).filter((f) => f.endsWith('.md') && f !== 'README.md').map((f) => f.replace(/\.md$/, ''));
    expect(pages.sort()).toEqual([...byName.keys()].sort());
  });

  it.each([...byName.keys()])('%s: the runbook gives the meaning, impact, diagnosis with kubectl and PromQL, and mitigation', (alert) => {
    const text = page(alert);
    expect(text.startsWith(`# ${alert}\n`)).toBe(true);
    const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['Meaning', 'Impact', 'Diagnosis', 'Mitigation', 'The rule']);
    const diagnosis = text.slice(text.indexOf('## Diagnosis'), text.indexOf('## Mitigation'));
    expect(diagnosis).toMatch(/```sh\n(.*\n)*?kubectl /);
    expect(diagnosis).toMatch(/```promql\n[a-z]/);
    // Links to other runbooks point at pages that exist.
    for (const [, target] of text.matchAll(/\]\((Tandem\w+)\.md\)/g)) expect(byName.has(target!), `${alert} links to ${target}`).toBe(true);
  });

  it.each([...byName.keys()])('%s: the generated block is what `npm run runbooks` writes from the rules', (alert) => {
    expect(block(page(alert), ALERT_SECTION), `docs/runbooks/${alert}.md is stale: run npm run runbooks`).toBe(alertBlock(alert, byName.get(alert)!));
  });

  it('The index lists every alert with its severity and summary', () => {
    expect(block(readFileSync(join(RUNBOOKS, 'README.md'), 'utf8'), INDEX_SECTION), 'docs/runbooks/README.md is stale: run npm run runbooks').toBe(indexTable(byName));
  });
});
