/** What every Tandem workload on the node must show at the end of a test: locked down, and never restarted. */
import { expect } from 'vitest';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../cdk8s/constants.js';
import { kJson } from './stack.js';

interface Pod {
  metadata: { name: string; namespace: string };
  spec: {
    automountServiceAccountToken?: boolean;
    securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
    containers: { name: string; securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; capabilities?: { drop?: string[] } } }[];
  };
  status: { containerStatuses?: { name: string; restartCount: number }[] };
}

/**
 * Every pod Tandem created in `namespace` (the operator's children and the Jobs of its CronJob; or the pods
 * `selector` picks, e.g. the operator's own, which needs its `token`) runs
 * non-root with a read-only root filesystem, no privilege escalation, no capabilities and the runtime's
 * seccomp profile, without a service-account token unless it needs one, and none of its containers restarted. The namespace
 * enforces Pod Security `restricted` too, so the API server admitted them only because they comply.
 */
export async function expectHardenedAndStable(
  namespace: string,
  { selector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`, token = false }: { selector?: string; token?: boolean } = {},
): Promise<void> {
  const pods = (await kJson<{ items: Pod[] }>(['-n', namespace, 'get', 'pods', '-l', selector])).items;
  expect(pods.length, `Tandem pods in ${namespace}`).toBeGreaterThan(0);
  for (const pod of pods) {
    const where = `${namespace}/${pod.metadata.name}`;
    if (!token) expect(pod.spec.automountServiceAccountToken, `${where} mounts no token`).toBe(false);
    expect(pod.spec.securityContext?.seccompProfile?.type, `${where} seccomp`).toBe('RuntimeDefault');
    for (const c of pod.spec.containers) {
      expect(c.securityContext?.readOnlyRootFilesystem, `${where}/${c.name} read-only root`).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, `${where}/${c.name} no escalation`).toBe(false);
      expect(c.securityContext?.capabilities?.drop, `${where}/${c.name} drops ALL`).toContain('ALL');
      expect(c.securityContext?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot, `${where}/${c.name} non-root`).toBe(true);
    }
    for (const s of pod.status.containerStatuses ?? []) expect(s.restartCount, `${where}/${s.name} restarts`).toBe(0);
  }
}
