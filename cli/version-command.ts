// `redox version [--json]` for the development CLI: its own version and the Node running it
// (built binaries have their own `version`, from their build info).
import { Command } from 'commander';
import { DEFAULT_MAJOR, SUPPORTED_MAJORS } from '../core/tooling/build/node-versions';

export function addVersionCommand(program: Command, version: string, print: (text: string) => void): void {
  program.command('version')
    .description('print the redox version and the Node running it')
    .option('--json', 'print JSON for machines')
    .action((opts: { json?: boolean }) => {
      const data = {
        name: 'redox', redox: version, node: process.version, platform: process.platform, arch: process.arch,
        build: { defaultNodeVersion: String(DEFAULT_MAJOR), supportedNodeVersions: SUPPORTED_MAJORS.map(String) },
      };
      if (opts.json) return print(JSON.stringify(data, null, 2) + '\n');
      print(`redox ${version} (node ${process.version}, ${process.platform}-${process.arch}); builds on Node ${DEFAULT_MAJOR} by default\n`);
    });
}
