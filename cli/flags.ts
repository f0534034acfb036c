// Command-line flags for every subcommand through node:util's parseArgs. Its tokens are walked in
// order so each command keeps its own error words (a ConfigError for `sockeye agent`, a plain Error
// for `sockeye trace`), naming the flag exactly as the user wrote it.
import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** One flag as given: `name` from the spec, `raw` as written (`--pid`, `-h`), `arg` the whole argument. */
export interface Flag { name: string; raw: string; arg: string; value?: string }

export type FlagProblem = (kind: 'unknown' | 'missing', flag: Flag) => never;

/** The flags in the order given; an unknown flag, a stray argument or a missing value goes to `problem`. */
export function readFlags(args: string[], spec: FlagSpec, problem: FlagProblem): Flag[] {
  const { tokens } = parseArgs({ args, options: spec, strict: false, allowPositionals: true, tokens: true });
  const out: Flag[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') problem('unknown', { name: '', raw: t.value, arg: t.value });
    else if (t.kind === 'option-terminator') problem('unknown', { name: '', raw: '--', arg: '--' });
    else {
      const flag: Flag = { name: t.name, raw: t.rawName, arg: args[t.index]!, value: t.value };
      if (!Object.hasOwn(spec, t.name)) problem('unknown', flag);
      if (spec[t.name]!.type === 'string' && t.value === undefined) problem('missing', flag);
      out.push(flag);
    }
  }
  return out;
}
