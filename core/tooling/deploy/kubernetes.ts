// `redox deploy kubernetes`: the Deployment, Service and HorizontalPodAutoscaler for one
// Redox binary per pod. Plain objects; the CLI prints them as YAML. Development CLI only.
import { RedoxError } from '../../errors';
import { LIMIT_SPECS, parseLimit } from '../../runtime/limits';
import { ADMIN_PORT, APP_PORT, IMAGE_UID } from '../build/image';

export interface KubernetesRequest {
  name?: string;
  image?: string;
  replicas?: string;
  maxReplicas?: string;
  workers?: string;
  memoryLimit?: string;
  shutdownTimeout?: string;
}

export interface KubernetesPlan {
  name: string;
  image: string;
  replicas: number;
  maxReplicas: number;
  workers: number;
  memoryLimitBytes: number;
  shutdownMs: number;
}

/** Seconds the pod keeps serving after it is marked for deletion, so load balancers stop
 *  sending it traffic before the drain begins. */
export const PRE_STOP_SECONDS = 5;
/** What a worker process needs besides its Lua heap (Node, wasm memory, sockets), measured
 *  roughly: a web binary idles at ~60 MiB RSS. */
const WORKER_OVERHEAD = 96 * 1024 * 1024;
const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const spec = (key: string) => LIMIT_SPECS.find((s) => s.key === key)!;

function count(text: string | undefined, flag: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) throw new RedoxError('REDOX_USAGE', `${flag} must be a whole number from 1 to ${max}, got "${text}"`);
  return n;
}

export function planKubernetes(req: KubernetesRequest): KubernetesPlan {
  const name = req.name ?? 'redox-app';
  if (!DNS_LABEL.test(name)) {
    throw new RedoxError('REDOX_USAGE', `--name "${name}" is not a valid Kubernetes name`,
      'use at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit');
  }
  const image = req.image ?? `${name}:latest`;
  if (/\s/.test(image) || image === '') throw new RedoxError('REDOX_USAGE', `--image "${image}" is not an image reference`, 'use NAME:TAG, e.g. registry.example.com/shop/orders:1.4');
  if (req.workers === 'auto') {
    throw new RedoxError('REDOX_USAGE', '--workers auto cannot size a pod: inside a container "auto" counts the node\'s CPUs, not the pod\'s',
      'give the number of workers per pod (--workers 2); the CPU limit is set to match');
  }
  const replicas = count(req.replicas, '--replicas', 2, 1000);
  const maxReplicas = count(req.maxReplicas, '--max-replicas', Math.max(replicas * 4, replicas + 1), 1000);
  if (maxReplicas < replicas) throw new RedoxError('REDOX_USAGE', `--max-replicas ${maxReplicas} is below --replicas ${replicas}`, 'the autoscaler needs max >= min');
  const workers = count(req.workers, '--workers', 2, 64);
  const mem = spec('memoryBytes');
  const memoryLimitBytes = req.memoryLimit === undefined ? mem.default : parseLimit(mem, req.memoryLimit, '--memory-limit');
  if (memoryLimitBytes === 0) throw new RedoxError('REDOX_USAGE', '--memory-limit 0 (no Lua heap limit) cannot size a pod', 'give the Lua heap limit per worker, e.g. --memory-limit 128MiB');
  const shut = spec('shutdownMs');
  const shutdownMs = req.shutdownTimeout === undefined ? shut.default : parseLimit(shut, req.shutdownTimeout, '--shutdown-timeout');
  return { name, image, replicas, maxReplicas, workers, memoryLimitBytes, shutdownMs };
}

const mi = (bytes: number) => `${Math.ceil(bytes / 1024 / 1024)}Mi`;

export function kubernetesObjects(plan: KubernetesPlan): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': plan.name, 'app.kubernetes.io/managed-by': 'redox' };
  const perWorker = plan.memoryLimitBytes + WORKER_OVERHEAD;
  // The primary process is small; each worker may grow its Lua heap to the limit.
  const memoryLimit = mi(plan.workers * perWorker + WORKER_OVERHEAD);
  const memoryRequest = mi(plan.workers * (WORKER_OVERHEAD + Math.min(plan.memoryLimitBytes, 64 * 1024 * 1024)) + WORKER_OVERHEAD);
  const probe = (path: string, period: number, failures: number) => ({
    httpGet: { path, port: 'admin' }, periodSeconds: period, failureThreshold: failures, timeoutSeconds: 2,
  });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: plan.name, labels },
    spec: {
      replicas: plan.replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': plan.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels,
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(ADMIN_PORT), 'prometheus.io/path': '/metrics' },
        },
        spec: {
          // The drain (shutdown timeout) starts after the preStop pause; leave room for both.
          terminationGracePeriodSeconds: Math.ceil(plan.shutdownMs / 1000) + PRE_STOP_SECONDS + 5,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: IMAGE_UID, runAsGroup: IMAGE_UID, fsGroup: IMAGE_UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'app',
            image: plan.image,
            ports: [{ name: 'http', containerPort: APP_PORT }, { name: 'admin', containerPort: ADMIN_PORT }],
            env: [
              { name: 'HOST', value: '0.0.0.0' },
              { name: 'PORT', value: String(APP_PORT) },
              { name: 'REDOX_ADMIN_HOST', value: '0.0.0.0' },
              { name: 'REDOX_ADMIN_PORT', value: String(ADMIN_PORT) },
              { name: 'REDOX_WORKERS', value: String(plan.workers) },
              { name: 'REDOX_MEMORY_LIMIT', value: String(plan.memoryLimitBytes) },
              { name: 'REDOX_SHUTDOWN_TIMEOUT', value: `${plan.shutdownMs}ms` },
              { name: 'TMPDIR', value: '/tmp' },
            ],
            resources: {
              requests: { cpu: `${plan.workers * 500}m`, memory: memoryRequest },
              limits: { cpu: String(plan.workers), memory: memoryLimit },
            },
            startupProbe: probe('/healthz', 1, 60),
            livenessProbe: probe('/healthz', 10, 3),
            readinessProbe: probe('/readyz', 2, 1),
            lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
            securityContext: {
              readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
            },
            // The only writable place: the binary extracts its wasm and native addons here.
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: plan.name, labels },
    spec: {
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': plan.name },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: plan.name, labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: plan.name },
      minReplicas: plan.replicas,
      maxReplicas: plan.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
  return [deployment, service, hpa];
}
