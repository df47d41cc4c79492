// `redox features` and `redox distros`: what exists, for people (a table) and machines (--json).
import { Command } from 'commander';
import { Catalogue, distroFeatures } from '../core/tooling/catalogue/catalogue';

export function addCatalogueCommands(program: Command, catalogue: () => Catalogue, print: (text: string) => void): void {
  program.command('features')
    .description('list the features in the catalogue (features.json)')
    .option('--json', 'print JSON for machines')
    .action((opts: { json?: boolean }) => {
      const c = catalogue();
      const list = [...c.features.values()].map((f) => ({ name: f.name, description: f.description, requires: f.requires, packages: f.packages, assets: Object.keys(f.assets) }));
      if (opts.json) return print(JSON.stringify(list, null, 2) + '\n');
      const width = Math.max(...list.map((f) => f.name.length));
      print(list.map((f) => `${f.name.padEnd(width)}  ${f.description}${f.requires.length ? ` (requires ${f.requires.join(', ')})` : ''}`).join('\n') + '\n');
    });

  program.command('distros')
    .description('list the distros (distros/*.json) and the features each contains')
    .option('--json', 'print JSON for machines')
    .action((opts: { json?: boolean }) => {
      const c = catalogue();
      const list = [...c.distros.values()].map((d) => ({
        name: d.name, description: d.description, extends: d.extends ?? null,
        features: distroFeatures(c.distros, d.name), budget: d.budgetText ?? null,
      }));
      if (opts.json) return print(JSON.stringify(list, null, 2) + '\n');
      print(list.map((d) => `${d.name}: ${d.description}\n  features: ${d.features.join(', ') || '(core only)'}${d.budget ? `\n  budget: ${d.budget}` : ''}`).join('\n') + '\n');
    });
}
