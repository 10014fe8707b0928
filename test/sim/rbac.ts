// apid/machined authorization: roles come from the client certificate's Subject O values, and each
// method has the set of roles that may call it (machined's rule table). A method missing from the
// table falls back to admin only, as machined does.

export const ROLE = {
  admin: 'os:admin',
  operator: 'os:operator',
  reader: 'os:reader',
  etcdBackup: 'os:etcd:backup',
} as const;

/** Every role Talos knows; any other O value gives no role. */
const KNOWN_ROLES = new Set([
  'os:admin',
  'os:operator',
  'os:reader',
  'os:etcd:backup',
  'os:impersonator',
  'os:meta:writer',
  'os:image-verifier',
]);

export function parseRoles(organizations: string | string[] | undefined): string[] {
  const values = organizations === undefined ? [] : Array.isArray(organizations) ? organizations : [organizations];
  return [...new Set(values.filter((v) => KNOWN_ROLES.has(v)))];
}

const { admin, operator, reader, etcdBackup } = ROLE;

export const RULES: Record<string, readonly string[]> = {
  // Reader is allowed through to the handler, which refuses it outside maintenance mode.
  '/machine.MachineService/ApplyConfiguration': [admin, reader],
  '/machine.MachineService/Bootstrap': [admin],
  '/machine.MachineService/EtcdMemberList': [admin, operator, reader, etcdBackup],
  '/machine.MachineService/EtcdStatus': [admin, operator, reader, etcdBackup],
  '/machine.MachineService/GenerateClientConfiguration': [admin],
  '/machine.MachineService/Hostname': [admin, operator, reader],
  '/machine.MachineService/List': [admin, operator, reader],
  '/machine.MachineService/Logs': [admin, operator, reader],
  '/machine.MachineService/ServiceList': [admin, operator, reader],
  '/machine.MachineService/SystemStat': [admin, operator, reader],
  '/machine.MachineService/Version': [admin, operator, reader],
  '/cosi.resource.State/Get': [admin, operator, reader],
  '/cosi.resource.State/List': [admin, operator, reader],
  '/cosi.resource.State/Watch': [admin, operator, reader],
};

const FALLBACK = [admin];

export function isAuthorized(method: string, roles: readonly string[]): boolean {
  const allowed = RULES[method] ?? FALLBACK;
  return roles.some((r) => allowed.includes(r));
}

export const NOT_AUTHORIZED = 'not authorized';
