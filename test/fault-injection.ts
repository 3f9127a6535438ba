/**
 * Test-only fault injection, loaded with `node --import` by hack/monitoring-stack.ts and nowhere else: while the file
 * named by TANDEM_TEST_FAULT_FILE exists, every recommendation fails inside the use case, so the API answers 500
 * and the service's own metrics record it, as for a real fault. Production code has no such switch.
 */
import { existsSync } from 'node:fs';
import { RecommenderService } from '../recommender/src/service.js';

const file = process.env.TANDEM_TEST_FAULT_FILE;
if (file) {
  const recommend = RecommenderService.prototype.recommend;
  RecommenderService.prototype.recommend = function (this: RecommenderService, ...args: Parameters<typeof recommend>) {
    if (existsSync(file)) throw new Error('injected fault (TANDEM_TEST_FAULT_FILE)');
    return recommend.apply(this, args);
  };
}
