// Drives Talos's Go client library (test/oracle client) against the simulator: the calls are described here,
// made by machinery's client in a child process, and the decoded replies come back as JSON.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORACLE_BIN } from './harness.ts';

export interface GoCall {
  id: string;
  endpoint: string;
  auth: { ca: string; crt: string; key: string } | null;
  node?: string;
  method: 'Version' | 'ServiceList' | 'SystemStat' | 'EtcdMemberList' | 'Bootstrap' | 'ApplyConfiguration' | 'LS' | 'Get' | 'List' | 'Watch';
  queryLocal?: boolean;
  namespace?: string;
  type?: string;
  resourceId?: string;
  data?: string;
  path?: string;
  timeoutMs?: number;
}

/** A COSI resource as Talos's client decoded it; `spec` is the decoded Go value as YAML. */
export interface GoResource {
  namespace: string;
  type: string;
  id: string;
  version: string;
  phase: string;
  spec: string;
  goType: string;
}

export interface GoResult {
  id: string;
  /** The gRPC code name as Go spells it: OK, FailedPrecondition, Unimplemented, ... */
  code: string;
  message: string;
  reply?: unknown;
}

/** Runs the calls in order in one child process; async, so the simulator in this process keeps serving. */
export async function goClient(calls: GoCall[]): Promise<Map<string, GoResult>> {
  const dir = mkdtempSync(join(tmpdir(), 'oracle-client-'));
  try {
    const spec = join(dir, 'calls.json');
    writeFileSync(spec, JSON.stringify(calls));
    const child = Bun.spawn([ORACLE_BIN, 'client', spec], { stdout: 'pipe', stderr: 'pipe' });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`oracle client exited ${code}: ${err}`);
    const results = JSON.parse(out) as GoResult[];
    return new Map(results.map((r) => [r.id, r]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function result(results: Map<string, GoResult>, id: string): GoResult {
  const r = results.get(id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
}
