// Source 4: machined's socket. Talos v1.13+ lets ext-* services call it with `talos-role: os:admin`; the
// OS CA is the sensitive resource OSRootSecrets/os (spec.issuingCA, crt and key each base64 of PEM), and
// the machine type is MachineTypes/machine-type. Nothing else of the config is asked for.
import { existsSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { MachinedSocketClient, SocketCallError } from '../talos/machined-socket.ts';
import { MACHINE_TYPE, OS_ROOT_SECRETS } from '../talos/resources.ts';
import { pemField, type MachineConfigFacts, type MachineType } from '../pki/machine-config.ts';
import { PkiError } from '../pki/pem.ts';
import { describeFailure } from './describe.ts';
import type { CredentialSource } from './source.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TYPES: MachineType[] = ['controlplane', 'init', 'worker'];

export const machinedSocket: CredentialSource = async (ctx) => {
  const path = ctx.paths.machinedSocket;
  if (!existsSync(path)) return { ok: false, reason: `${path} does not exist (machined serves it on every Talos; mount it into the service to use it)` };
  const client = new MachinedSocketClient(path, ctx.socketDeadlineMs);
  try {
    const root = await client.get(OS_ROOT_SECRETS);
    const typeSpec = await client.get(MACHINE_TYPE).catch(() => undefined);
    const typed = typeof typeSpec === 'string' && (TYPES as string[]).includes(typeSpec) ? (typeSpec as MachineType) : undefined;
    const what = `${OS_ROOT_SECRETS.type}/${OS_ROOT_SECRETS.id} over ${path}`;
    if (root === undefined) return { ok: false, reason: `${what}: not found (machined has not read a machine config yet?)` };
    const spec = isMap(root) ? root : {};
    const issuing = spec.issuingCA;
    if (issuing !== undefined && issuing !== null && !isMap(issuing)) {
      return { ok: false, reason: `${what}: issuingCA is not a mapping; expected {crt, key}` };
    }
    // Talos drops issuingCA when the config has no CA key, which is what a worker's config looks like.
    // Only a control plane's config carries the CA key, so an issuing CA implies one when the type is unreadable.
    // Whether etcd is configured is not in these resources; nothing here decides on it (Bootstrap itself
    // answers InvalidArgument when it is not).
    const facts: MachineConfigFacts = { machineType: typed ?? (issuing ? 'controlplane' : 'unknown'), etcdConfigured: false };
    if (issuing) {
      const crt = pemField(issuing.crt, 'OSRootSecrets issuingCA.crt', 'CERTIFICATE');
      const key = pemField(issuing.key, 'OSRootSecrets issuingCA.key');
      if (crt) facts.caCertPem = crt;
      if (key) facts.caKeyPem = key;
    } else if (facts.machineType === 'unknown') {
      return { ok: false, reason: `${what} has no issuingCA and the machine type could not be read` };
    }
    return { ok: true, facts, from: what };
  } catch (e) {
    if (e instanceof SocketCallError) {
      const hint =
        e.code === status.PERMISSION_DENIED
          ? ' (machined lets only ext-* services on Talos v1.13+ read it with talos-role os:admin)'
          : e.code === status.UNAVAILABLE
            ? ' (is machined listening there?)'
            : '';
      return { ok: false, reason: `${path}: machined answered ${e.message}${hint}` };
    }
    if (e instanceof PkiError) return { ok: false, reason: e.message };
    return { ok: false, reason: `${path}: ${describeFailure(e)}` };
  } finally {
    client.close();
  }
};
