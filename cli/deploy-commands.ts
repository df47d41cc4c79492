// `redox deploy kubernetes`: prints (or writes with --out) the manifests from core/tooling/deploy.
// Development CLI only.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { RedoxError } from '../core/errors';
import { kubernetesObjects, planKubernetes } from '../core/tooling/deploy/kubernetes';
import { makeDirs } from '../core/make-dirs';

export function addDeployCommands(program: Command, print: (text: string) => void): void {
  const deploy = program.command('deploy').description('generate what an orchestrator needs to run a built binary');
  deploy.command('kubernetes')
    .description('a Deployment, a Service and a HorizontalPodAutoscaler for an image from `redox build --image`')
    .option('--name <name>', 'name of the objects and their app label', 'redox-app')
    .option('--image <ref>', 'image to run [<name>:latest]')
    .option('--replicas <n>', 'pods to start with (the autoscaler\'s minimum)', '2')
    .option('--max-replicas <n>', 'the autoscaler\'s maximum [4 x replicas]')
    .option('--workers <n>', 'worker processes per pod; the CPU limit matches', '2')
    .option('--memory-limit <size>', 'Lua heap limit per worker; pod memory is sized from it [256MiB]')
    .option('--shutdown-timeout <duration>', 'drain time on SIGTERM; the grace period is longer [10s]')
    .option('--out <dir>', 'write deployment.yaml, service.yaml, hpa.yaml here instead of printing')
    .action((opts: Record<string, string | undefined>) => {
      const objects = kubernetesObjects(planKubernetes({
        name: opts.name, image: opts.image, replicas: opts.replicas, maxReplicas: opts.maxReplicas,
        workers: opts.workers, memoryLimit: opts.memoryLimit, shutdownTimeout: opts.shutdownTimeout,
      }));
      // yaml takes ~25 ms to load: only this command needs it, not every `redox` start.
      const { stringify } = require('yaml') as typeof import('yaml');
      const docs = objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
      if (!opts.out) return print(docs.join('---\n'));
      const dir = path.resolve(opts.out);
      try {
        makeDirs(dir);
        const files = ['deployment.yaml', 'service.yaml', 'hpa.yaml'];
        files.forEach((f, i) => fs.writeFileSync(path.join(dir, f), docs[i]));
        print(files.map((f) => path.join(opts.out!, f)).join('\n') + '\n');
      } catch (err) {
        throw new RedoxError('REDOX_BUILD_OUT', `cannot write the manifests to ${dir}: ${(err as Error).message}`, 'pick a folder you can write with --out');
      }
    });
}
