/**
 * The certificates a control plane with a real node needs, made with the openssl CLI:
 * - a cluster CA that signs the API server's serving certificate (pods verify it through the
 *   `kube-root-ca.crt` ConfigMap) and the API server's client certificate for kubelets (logs, exec);
 * - a front-proxy CA and client certificate, so the aggregation layer can reach metrics-server.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodePki {
  readonly dir: string;
  readonly ca: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
  readonly frontProxyCa: string;
  readonly frontProxyClientCert: string;
  readonly frontProxyClientKey: string;
}

/** The in-cluster address of the `kubernetes` Service: the first address of the service range. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string, subject: string): { crt: string; key: string } {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '30', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { crt, key };
}

function signed(dir: string, name: string, ca: { crt: string; key: string }, subject: string, extensions: string): { crt: string; key: string } {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-out', crt, '-days', '30', '-extfile', ext]);
  return { crt, key };
}

export function makeNodePki(dir: string, nodeIp: string): NodePki {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, 'ca', '/CN=tandem-test-ca');
  const names = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'];
  const sans = [...names.map((n) => `DNS:${n}`), `IP:${KUBERNETES_SERVICE_IP}`, `IP:${nodeIp}`, 'IP:127.0.0.1'].join(',');
  const serving = signed(dir, 'apiserver', ca, '/CN=kube-apiserver',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`);
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  const kubeletClient = signed(dir, 'apiserver-kubelet-client', ca, '/O=system:masters/CN=kube-apiserver-kubelet-client', client);
  const frontProxyCa = makeCa(dir, 'front-proxy-ca', '/CN=tandem-test-front-proxy-ca');
  const frontProxyClient = signed(dir, 'front-proxy-client', frontProxyCa, '/CN=front-proxy-client', client);
  return {
    dir,
    ca: ca.crt,
    apiserverCert: serving.crt,
    apiserverKey: serving.key,
    kubeletClientCert: kubeletClient.crt,
    kubeletClientKey: kubeletClient.key,
    frontProxyCa: frontProxyCa.crt,
    frontProxyClientCert: frontProxyClient.crt,
    frontProxyClientKey: frontProxyClient.key,
  };
}
