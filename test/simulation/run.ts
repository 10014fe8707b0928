// The simulation's command line (make simulate):
//   bun test/simulation/run.ts [--seeds 10000] [--first 1] [--variant correct|quorum-error|forgetful-acceptor|minority-quorum|no-agreement|quorum-error-unnoticed]
//   bun test/simulation/run.ts --seed 1234 [--variant ...]    replays one seed with its trace
import { failed, LIVENESS_BOUND_MS, runMany, runScenario, scenarioFor, VARIANTS, type Variant } from './world.ts';

const USAGE = `usage: bun test/simulation/run.ts [--seeds N] [--first N] [--variant V]
       bun test/simulation/run.ts --seed N [--variant V]
  --seeds N    how many schedules to run (default 10000)
  --first N    the first seed (default 1)
  --seed N     replay one seed and print its trace
  --variant V  correct (default) or quorum-error; broken on purpose (must fail): forgetful-acceptor,
               minority-quorum, no-agreement, quorum-error-unnoticed
exit 0: every schedule safe and live; 1: a failure (the seeds are printed with a replay command); 2: bad arguments`;

const FLAGS = ['seeds', 'first', 'seed', 'variant'];
const given = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string;
  if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  }
  const name = a.startsWith('--') ? a.slice(2) : undefined;
  if (name === undefined || !FLAGS.includes(name)) {
    console.error(`unknown argument ${a}; valid: --seeds, --first, --seed, --variant, --help`);
    process.exit(2);
  }
  const value = argv[i + 1];
  if (value === undefined || (name !== 'variant' && !/^[0-9]+$/.test(value))) {
    console.error(`--${name} needs ${name === 'variant' ? 'a variant' : 'a whole number'}, not ${value ?? 'nothing'}`);
    process.exit(2);
  }
  given.set(name, value);
  i++;
}

function arg(name: string): string | undefined {
  return given.get(name);
}

const variant = (arg('variant') ?? 'correct') as Variant;
if (!VARIANTS.includes(variant)) {
  console.error(`--variant must be one of ${VARIANTS.join(', ')}, not ${variant}`);
  process.exit(2);
}
const one = arg('seed');
if (one !== undefined) {
  const o = await runScenario(scenarioFor(Number(one), variant), { trace: true });
  for (const line of o.trace) console.log(line);
  console.log(JSON.stringify({ scenario: o.scenario, violations: o.violations, formedAfterHealMs: o.formedAfterHealMs, healAtMs: o.healAtMs, events: o.events }));
  process.exit(failed(o) ? 1 : 0);
}
const seeds = Number(arg('seeds') ?? 10_000);
const first = Number(arg('first') ?? 1);
const started = performance.now();
const s = await runMany(first, seeds, variant);
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${s.runs} schedules (${variant}, seeds ${first}..${first + seeds - 1}) (${s.events} events) in ${secs}s; failures: ${s.failures.length}; slowest bootstrap after heal ${(s.maxFormedAfterHealMs / 1000).toFixed(0)}s (bound ${LIVENESS_BOUND_MS / 1000}s); exercised: ${JSON.stringify(s.stats)}`);
for (const f of s.failures.slice(0, 20)) {
  console.log(`seed ${f.scenario.seed} N=${f.scenario.n} q=${f.scenario.q}: ${f.violations.join('; ') || 'no bootstrap within the liveness bound'}  (replay: bun test/simulation/run.ts --seed ${f.scenario.seed} --variant ${variant})`);
}
process.exit(s.failures.length > 0 ? 1 : 0);
