// `redox deploy kubernetes` through the real CLI: every generated object passes the Kubernetes
// OpenAPI schema (kubernetes-models), and carries the probes, limits and hardening the docs promise.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { spawnRedox, tempDir } from './support/harness';

// kubernetes-models is ESM-only; TypeScript's CommonJS output would turn import() into require().
const esm = new Function('s', 'return import(s)') as (s: string) => Promise<any>;
const dir = tempDir('redox-deploy-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function redox(args: string[]) {
  const p = spawnRedox(args, { cwd: dir });
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Validates each object against the schema of its kind; returns them by kind. */
async function validated(objects: any[]): Promise<Record<string, any>> {
  const { Deployment } = await esm('kubernetes-models/apps/v1');
  const { Service } = await esm('kubernetes-models/v1');
  const { HorizontalPodAutoscaler } = await esm('kubernetes-models/autoscaling/v2');
  const models: Record<string, any> = { Deployment, Service, HorizontalPodAutoscaler };
  const byKind: Record<string, any> = {};
  for (const o of objects) {
    const Model = models[o.kind];
    assert.ok(Model, `unexpected kind ${o.kind}`);
    new Model(o).validate();
    byKind[o.kind] = o;
  }
  assert.deepEqual(Object.keys(byKind).sort(), ['Deployment', 'HorizontalPodAutoscaler', 'Service']);
  return byKind;
}

describe('redox deploy kubernetes', { timeout: 300_000 }, () => {
  it('prints a Deployment, Service and HPA that validate, with probes, resources and hardening', async () => {
    const r = await redox(['deploy', 'kubernetes', '--name', 'shop', '--image', 'registry.example.com/shop:1.4',
      '--replicas', '3', '--workers', '4', '--memory-limit', '128MiB', '--shutdown-timeout', '20s']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const { Deployment: dep, Service: svc, HorizontalPodAutoscaler: hpa } = await validated(docs);

    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(dep.spec.replicas, 3);
    assert.equal(c.image, 'registry.example.com/shop:1.4');
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    assert.deepEqual(c.ports.find((p: any) => p.name === 'admin'), { name: 'admin', containerPort: 9100 });
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    assert.equal(env.REDOX_WORKERS, '4');
    assert.equal(env.REDOX_ADMIN_PORT, '9100');
    assert.equal(env.REDOX_MEMORY_LIMIT, String(128 * 1024 * 1024));
    assert.equal(env.REDOX_SHUTDOWN_TIMEOUT, '20000ms');
    // Four workers of 128 MiB Lua heap + 96 MiB each, plus the primary.
    assert.deepEqual(c.resources.limits, { cpu: '4', memory: `${4 * (128 + 96) + 96}Mi` });
    assert.ok(pod.terminationGracePeriodSeconds > 20 + c.lifecycle.preStop.sleep.seconds, 'grace covers preStop and the drain');
    assert.ok(c.lifecycle.preStop.sleep.seconds > 0);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.deepEqual(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.deepEqual(dep.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9100', 'prometheus.io/path': '/metrics' });
    assert.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels);
    assert.equal(svc.spec.ports[0].targetPort, 'http');
    assert.equal(hpa.spec.scaleTargetRef.name, 'shop');
    assert.equal(hpa.spec.minReplicas, 3);
    assert.equal(hpa.spec.maxReplicas, 12);
  });

  it('the schema check can fail: a broken Deployment is refused', async () => {
    const r = await redox(['deploy', 'kubernetes']);
    const dep = parseAllDocuments(r.stdout)[0].toJS();
    dep.spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds = 'five';
    const { Deployment } = await esm('kubernetes-models/apps/v1');
    assert.throws(() => new Deployment(dep).validate(), /seconds must be integer/);
  });

  it('writes the three files with --out', async () => {
    const r = await redox(['deploy', 'kubernetes', '--name', 'orders', '--out', 'k8s']);
    assert.equal(r.code, 0, r.stderr);
    const files = ['deployment.yaml', 'service.yaml', 'hpa.yaml'];
    assert.deepEqual(fs.readdirSync(path.join(dir, 'k8s')).sort(), [...files].sort());
    const objects = files.map((f) => parseAllDocuments(fs.readFileSync(path.join(dir, 'k8s', f), 'utf8'))[0].toJS());
    const { Deployment: dep } = await validated(objects);
    assert.equal(dep.spec.template.spec.containers[0].image, 'orders:latest');
  });

  it('redox build --image refuses a malformed image name before building (exit 2)', async () => {
    const r = await redox(['build', '--distro', 'minimal', '--image', 'Not A Name', '--out', 'never']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--image "Not A Name" is not an image name/);
    assert.match(r.stderr, /REDOX_USAGE/);
    assert.equal(fs.existsSync(path.join(dir, 'never')), false);
  });

  it('rejects bad input with usage errors (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--name', 'Bad_Name'], /--name "Bad_Name" is not a valid Kubernetes name/],
      [['--replicas', '0'], /--replicas must be a whole number from 1 to 1000, got "0"/],
      [['--workers', 'auto'], /--workers auto cannot size a pod/],
      [['--memory-limit', 'lots'], /--memory-limit must be 1048576, 512KiB or 2MiB, got "lots"/],
      [['--replicas', '5', '--max-replicas', '2'], /--max-replicas 2 is below --replicas 5/],
    ];
    for (const [args, message] of cases) {
      const r = await redox(['deploy', 'kubernetes', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /REDOX_USAGE/);
    }
  });
});
