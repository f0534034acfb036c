#!/usr/bin/env node
// Writes deploy/helm/sockeye/values.yaml: the hand-written head (values.yaml.head) followed by
// collector.config = processor-config/collector.yaml, so the chart deploys the repository's default
// pipeline. Run after editing either file: node deploy/helm/sync-collector-config.mjs
import { readFileSync, writeFileSync } from 'node:fs';
const root = new URL('../../', import.meta.url);
const chart = new URL('deploy/helm/sockeye/', root);
const head = readFileSync(new URL('values.yaml.head', chart), 'utf8');
const pipeline = readFileSync(new URL('processor-config/collector.yaml', root), 'utf8');
const block = pipeline.replace(/\n+$/, '').split('\n').map((l) => (l ? `    ${l}` : '')).join('\n');
writeFileSync(new URL('values.yaml', chart), `${head}  config: |\n${block}\n`);
