// `autobootstrap run`: from environment to exit code. Order matters: configuration is validated before
// anything is read, minted or called; a worker leaves after local checks only.
import { failurePause, KNOWN_VARIABLES, loadConfig, WIDEST_SCAN_BITS, type Config } from './config.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { readBootId } from './host/boot-id.ts';
import { readBootTime } from './host/boot-time.ts';
import { detectRole, etcdSecretsPresent } from './host/control-plane.ts';
import { detectNodeAddress, detectScanPrefixOnHost, localInterfaces } from './host/node-address.ts';
import { checkOwnAddress, interfaceAddresses } from './host/own-address.ts';
import { inspectPeer } from './discovery/inspect-peer.ts';
import { localNodeOf, selfCheckProblem, type LocalNode } from './bootstrap/self-check.ts';
import { MembersWatch } from './discovery/members-watch.ts';
import { concurrencyWithin, readOpenFilesLimit } from './host/fd-limit.ts';
import { mutualTlsCredentials } from './talos/channel.ts';
import { formatIPv4, parseIPv4, type IPv4Prefix } from './util/ipv4.ts';
import { Wakeup } from './util/wakeup.ts';
import { hostPaths, type HostPaths } from './host/paths.ts';
import { createLogger, type Logger } from './log.ts';
import { readCredentials, type CredentialsRead } from './credentials/read-credentials.ts';
import type { SourceContext } from './credentials/source.ts';
import { lazyLibcMount } from './host/mount/libc.ts';
import { ClientIdentities, clientCommonName } from './pki/client-identities.ts';
import { controlPlaneCA, type MachineCA } from './pki/machine-ca.ts';
import { startAgreement } from './agreement/daemon-setup.ts';
import { runDaemonLoop } from './bootstrap/runner.ts';
import { TalosView } from './bootstrap/talos-view.ts';
import { formatDuration } from './util/duration.ts';
import { sleep, Stopped } from './util/sleep.ts';
import { VERSION } from './version.ts';
import { SYSTEM_CLOCK } from './model/clock.ts';

/** How long a control plane whose config is read but whose etcd secrets are not written yet may wait for them. */
export const SECRETS_WAIT_MS = 10 * 60_000;
const SECRETS_POLL_MS = 1_000;
// machined waits up to 5 s for an unknown caller's PID to show up as a service before refusing it; a
// longer deadline lets that refusal (PermissionDenied, with its reason) arrive instead of a timeout.
const SOCKET_DEADLINE_MS = 10_000;

export async function runDaemon(env: Record<string, string | undefined>, signal: AbortSignal): Promise<ExitCode> {
  const loaded = loadConfig(env);
  const level = loaded.ok ? loaded.config.logLevel : 'info';
  const log = createLogger(level);
  // Typos first: a misspelt name is often the cause of the problems below it.
  for (const w of loaded.warnings) {
    const event = KNOWN_VARIABLES.includes(w.variable) ? 'config-warning' : 'config-unknown-variable';
    log.warn({ event, variable: w.variable, value: w.value ?? null }, `${w.variable}${w.value === undefined ? '' : `="${w.value}"`}: ${w.problem}`);
  }
  if (!loaded.ok) {
    for (const p of loaded.problems) {
      log.error({ event: 'config-invalid', variable: p.variable, value: p.value ?? null }, `invalid ${p.variable}${p.value === undefined ? '' : `="${p.value}"`}: ${p.problem}`);
    }
    log.error({ event: 'config-summary' }, `configuration has ${loaded.problems.length} problem(s); nothing was done`);
    return exitAfterPause(EXIT.CONFIG, failurePause(env), log, signal);
  }
  let code: ExitCode;
  try {
    code = await daemon(loaded.config, log, signal);
  } catch (e) {
    // An unforeseen error still gets one clear line and the pause, never a tight restart loop.
    log.error({ event: 'unexpected-error', error: e instanceof Error ? e.message : String(e) }, `unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
    code = EXIT.FAILURE;
  }
  return exitAfterPause(code, loaded.config.failurePauseMs, log, signal);
}

/**
 * Talos restarts a failed service (restart: untilSuccess) within seconds. A failure that will repeat —
 * a bad configuration, a refusal for safety — would then fill the log with the same lines every few
 * seconds; pausing first keeps the log readable. A stop request ends the pause at once.
 */
async function exitAfterPause(code: ExitCode, pauseMs: number, log: Logger, signal: AbortSignal): Promise<ExitCode> {
  if (code !== EXIT.OK && pauseMs > 0 && !signal.aborted) {
    log.info({ event: 'pause-before-exit', code, pauseMs }, `exiting with code ${code} in ${formatDuration(pauseMs)}, so that the restart does not repeat these lines every few seconds`);
    try {
      await sleep(pauseMs, signal);
    } catch (e) {
      if (!(e instanceof Stopped)) throw e;
    }
  }
  log.info({ event: 'exit', code }, `exiting with code ${code}`);
  return code;
}

async function daemon(config: Config, log: Logger, signal: AbortSignal): Promise<ExitCode> {
  const paths = hostPaths(config.hostRoot);
  log.info(
    { event: 'start', version: VERSION, quorum: config.quorumNodes, discovery: config.discovery, dryRun: config.dryRun },
    `autobootstrap ${VERSION} starting: quorum ${config.quorumNodes}, discovery ${config.discovery.join(',')}${config.dryRun ? ', DRY RUN' : ''}`,
  );

  const read = await readCredentials(config.caSource, sourceContext(config, paths, log, signal));
  if (signal.aborted) return EXIT.OK;
  logSources(read, log);
  if (!read.ok && !etcdSecretsPresent(paths)) {
    // Without a machine config and without the etcd PKI nothing says what this node is. Calling it a worker
    // would exit 0 for good (restart: untilSuccess) and could leave a control plane out of the quorum.
    log.error(
      { event: 'role-unknown' },
      `cannot tell whether this node is a control plane: no CA source could read the machine config and ${paths.etcdSecrets}/ca.crt is not there; exiting so Talos restarts the service`,
    );
    return EXIT.FAILURE;
  }
  let role = detectRole(paths, read.ok ? read.facts.machineType : undefined);
  if (role.role === 'worker') {
    log.info({ event: 'worker', why: role.why }, `not a control plane (${role.why}); nothing to do`);
    return EXIT.OK;
  }
  if (role.role === 'pending') {
    log.info({ event: 'waiting-secrets', why: role.why }, `${role.why}; waiting up to ${formatDuration(SECRETS_WAIT_MS)} for them`);
    try {
      await waitForSecrets(paths, signal);
    } catch (e) {
      if (e instanceof Stopped) return EXIT.OK;
      throw e;
    }
    if (!etcdSecretsPresent(paths)) {
      log.error({ event: 'secrets-missing' }, `the etcd PKI (${paths.etcdSecrets}/ca.crt) did not appear within ${formatDuration(SECRETS_WAIT_MS)}; is time synced (talosctl time) and etcd configured?`);
      return EXIT.FAILURE;
    }
    role = detectRole(paths, 'controlplane');
  }
  log.info({ event: 'control-plane', why: role.why }, `control plane: ${role.why}`);

  if (!read.ok) {
    log.error({ event: 'ca-unavailable', caSource: config.caSource }, `machine CA not available from any source TALOS_AUTO_BOOTSTRAP_CA_SOURCE=${config.caSource} allows`);
    return EXIT.FAILURE;
  }
  let identities: ClientIdentities;
  let self: string;
  let machineCa: MachineCA;
  let selfFrom: string;
  let btime: bigint | undefined;
  try {
    const ca = controlPlaneCA(read.facts);
    machineCa = ca;
    // The CA is loaded; the key's PEM text is no longer needed by anything.
    delete read.facts.caKeyPem;
    const detected = config.nodeIp ? { address: config.nodeIp, why: 'TALOS_AUTO_BOOTSTRAP_NODE_IP' } : detectNodeAddress(paths);
    if ('error' in detected) {
      log.error({ event: 'config-invalid', variable: 'TALOS_AUTO_BOOTSTRAP_NODE_IP' }, `cannot determine this node's address (${detected.error}); set TALOS_AUTO_BOOTSTRAP_NODE_IP`);
      return EXIT.CONFIG;
    }
    self = detected.address;
    selfFrom = detected.why;
    // Every mint is logged once: the first certificate of each role, then each renewal (no certificate text).
    identities = new ClientIdentities(ca, clientCommonName(self), undefined, config.clientCertTtlMs, (role, cert, renewed) =>
      log.info(
        { event: 'client-certificate', role, renewed, notAfter: cert.notAfter.toISOString() },
        `${renewed ? 'renewed' : 'minted'} the ${role} client certificate, valid until ${cert.notAfter.toISOString()}`,
      ),
    );
    // Mint once now, so a CA that cannot sign fails here with its own message, not mid-loop.
    identities.reader();
    btime = readBootTime([paths.hostProc, paths.proc]);
    log.info(
      { event: 'identity', node: self, nodeFrom: detected.why, bootTime: btime?.toString(), caSource: read.source, caFrom: read.from, caKeyType: ca.keyType },
      `this node is ${self} (${detected.why}, booted ${btime ?? 'at an unknown time'}); machine CA (${ca.keyType}) from ${read.from}; client certificates minted in memory`,
    );
  } catch (e) {
    log.error({ event: 'ca-invalid' }, `cannot use the machine CA: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.FAILURE;
  }

  // NODE_IP must be this node's: local on this host, and the local apid (this machine's, by its boot time)
  // must carry it. The local apid also names this node's identity, by which the loop finds itself.
  const own = checkOwnAddress(self, paths, localInterfaces);
  let local: LocalNode;
  try {
    local = await readLocalNode(config, identities, log, signal);
  } catch (e) {
    if (e instanceof Stopped) return EXIT.OK;
    throw e;
  }
  const problem = selfCheckProblem({ nodeIp: self, nodeIpFrom: selfFrom, own, local, hostBootTime: btime });
  if (problem) {
    log.error({ event: 'node-ip-invalid', node: self, localApid: config.localApid }, `${problem}; never calling Bootstrap with it`);
    return EXIT.CONFIG;
  }
  log.info(
    { event: 'self', node: self, identity: local.identity, hostname: local.hostname, bootTime: local.bootTime.toString() },
    `this node is ${local.hostname || self} (node id ${local.identity}); ${self} is local (${own.source}) and in its apid certificate`,
  );

  // The agreement on the one bootstrapper (docs/agreement.md): its port serves before the first round.
  // Peers reach this node at any address its apid certificate carries (they dial where apid answered them);
  // those on this host's interfaces are where the agreement listens. A certSAN no interface carries (a VIP held
  // elsewhere) is left out.
  const onInterfaces = interfaceAddresses(paths, localInterfaces);
  const listenAddresses = local.certAddresses.filter((a) => onInterfaces.has(parseIPv4(a) ?? -1));
  const agreement = await startAgreement({ config, log, ca: machineCa, self, listenAddresses, selfIdentity: local.identity, hostProc: paths.hostProc, bootId: readBootId([paths.hostProc, paths.proc]) });
  if (!agreement.ok) return agreement.exitCode;

  const scanPrefixes = scanPrefixesFor(config, paths, log, self);
  const wakeup = new Wakeup();
  // The members watch lives as long as the loop, not as long as the process.
  const sourcesStop = new AbortController();
  const stopSources = () => sourcesStop.abort();
  signal.addEventListener('abort', stopSources, { once: true });
  const members = config.discovery.includes('members')
    ? new MembersWatch({
        self,
        port: config.apidPort,
        credentials: () => mutualTlsCredentials(self, identities.reader()),
        listDeadlineMs: config.scanTimeoutMs,
        log,
        wakeup,
        signal: sourcesStop.signal,
        random: Math.random,
      })
    : undefined;
  members?.start();
  let result;
  try {
    result = await runDaemonLoop({
      config,
      log,
      self,
      selfIdentity: local.identity,
      io: new TalosView(config, self, identities, { members, scanPrefixes, concurrency: scanConcurrency(config, log) }, { identity: local.identity, apidAddress: local.apidAddress }),
      signal,
      random: Math.random,
      wakeup,
      agreement: agreement.agreement,
    });
  } finally {
    signal.removeEventListener('abort', stopSources);
    sourcesStop.abort();
    agreement.stop();
  }
  log.info({ event: 'result', reason: result.reason }, `done: ${result.reason}`);
  return result.exitCode;
}

/** What the credential sources need from the daemon: host paths, the mount system calls, and a log for progress. */
function sourceContext(config: Config, paths: HostPaths, log: Logger, signal: AbortSignal): SourceContext {
  return {
    paths,
    sys: lazyLibcMount(),
    sleep: (ms) => sleep(ms, signal).catch((e) => {
      if (!(e instanceof Stopped)) throw e;
    }),
    signal,
    random: Math.random,
    mountRetryBudgetMs: signal.aborted ? 0 : config.stateBusyTimeoutMs,
    socketDeadlineMs: SOCKET_DEADLINE_MS,
    note: (event, message, fields = {}, level = 'info') => log[level]({ event, ...fields }, message),
  };
}

/**
 * One line per source tried: which were skipped and why, then the one used — or, when none worked, one
 * error line per source with its reason.
 */
function logSources(read: CredentialsRead, log: Logger): void {
  if (read.ok) {
    for (const s of read.skipped) log.info({ event: 'ca-source-skipped', source: s.source, reason: s.reason }, `CA source ${s.source} skipped: ${s.reason}`);
    const after = read.skipped.length ? ` (after ${read.skipped.map((s) => s.source).join(', ')})` : '';
    log.info({ event: 'ca-source-used', source: read.source, from: read.from }, `machine config read by CA source ${read.source} from ${read.from}${after}`);
    return;
  }
  for (const s of read.attempts) log.error({ event: 'ca-source-failed', source: s.source, reason: s.reason }, `CA source ${s.source} failed: ${s.reason}`);
}

/** SCAN_CONCURRENCY, lowered (with a warning) when the open-file limit could not hold that many sockets. */
function scanConcurrency(config: Config, log: Logger): number {
  const limit = readOpenFilesLimit();
  const n = concurrencyWithin(config.scanConcurrency, limit);
  if (n < config.scanConcurrency) {
    log.warn(
      { event: 'scan-concurrency-capped', configured: config.scanConcurrency, used: n, openFilesLimit: limit },
      `TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY=${config.scanConcurrency} needs more open files than the limit of ${limit}; probing ${n} at a time`,
    );
  }
  return n;
}

/** SCAN_CIDR as configured, else the default-route interface's prefix; empty when the scan is off or finds none. */
/** A prefix wider than /16 narrowed to its /16 holding `self`; undefined when self is outside it. */
export function narrowToWidest(p: IPv4Prefix, self: string): IPv4Prefix | undefined {
  if (p.bits >= WIDEST_SCAN_BITS) return p;
  const value = parseIPv4(self);
  const mask = p.bits === 0 ? 0 : (0xffffffff << (32 - p.bits)) >>> 0;
  if (value === undefined || (value & mask) >>> 0 !== p.network) return undefined;
  const network = (value & 0xffff0000) >>> 0;
  return { network, bits: WIDEST_SCAN_BITS, text: `${formatIPv4(network)}/${WIDEST_SCAN_BITS}` };
}

function scanPrefixesFor(config: Config, paths: HostPaths, log: Logger, self: string): IPv4Prefix[] {
  if (!config.discovery.includes('scan')) return [];
  if (config.scanCidrs) {
    const prefixes = config.scanCidrs.flatMap((p) => {
      const narrowed = narrowToWidest(p, self);
      if (narrowed !== p) {
        log.warn(
          { event: 'scan-prefix-narrowed', configured: p.text, scanned: narrowed?.text ?? null },
          narrowed ? `TALOS_AUTO_BOOTSTRAP_SCAN_CIDR ${p.text}: scanning only ${narrowed.text}, the /${WIDEST_SCAN_BITS} holding ${self}` : `TALOS_AUTO_BOOTSTRAP_SCAN_CIDR ${p.text}: not scanned, ${self} is not inside it and it is wider than /${WIDEST_SCAN_BITS}`,
        );
      }
      return narrowed ? [narrowed] : [];
    });
    log.info({ event: 'scan-prefixes', prefixes: prefixes.map((p) => p.text), from: 'TALOS_AUTO_BOOTSTRAP_SCAN_CIDR' }, `scanning ${prefixes.map((p) => p.text).join(', ') || 'nothing'} (TALOS_AUTO_BOOTSTRAP_SCAN_CIDR)`);
    return prefixes;
  }
  const detected = detectScanPrefixOnHost(paths);
  if (!detected.ok) {
    log.warn({ event: 'scan-prefix-unknown', reason: detected.error }, `scan off: ${detected.error}; set TALOS_AUTO_BOOTSTRAP_SCAN_CIDR to scan`);
    return [];
  }
  for (const w of detected.warnings) log.warn({ event: 'scan-prefix-warning' }, w);
  log.info(
    { event: 'scan-prefixes', prefixes: [detected.prefix.text], from: detected.source, iface: detected.iface },
    `scanning ${detected.prefix.text}: the network of ${detected.iface} (${detected.address}), which carries the default route in ${detected.source}`,
  );
  return [detected.prefix];
}

const LOCAL_APID_RETRY_MS = 2_000;

/** This node as its local apid describes it; waits (one log line per new reason) until it answers. Throws Stopped. */
async function readLocalNode(config: Config, identities: ClientIdentities, log: Logger, signal: AbortSignal): Promise<LocalNode> {
  let lastReason = '';
  for (;;) {
    const identity = identities.reader();
    const inspection = await inspectPeer(config.localApid, {
      port: config.apidPort,
      timeoutMs: config.scanTimeoutMs,
      identity,
      credentials: (address, fingerprint) => mutualTlsCredentials(address, identity, fingerprint),
    });
    if (inspection.kind === 'candidate') return localNodeOf(inspection.candidate, config.localApid);
    if (inspection.reason !== lastReason) {
      lastReason = inspection.reason;
      log.info({ event: 'waiting-local-apid', reason: inspection.reason }, `waiting for this node's own apid at ${config.localApid}: ${inspection.reason}`);
    }
    await sleep(LOCAL_APID_RETRY_MS, signal);
  }
}

async function waitForSecrets(paths: HostPaths, signal: AbortSignal): Promise<void> {
  // Monotonic: a clock step while time syncs must not stretch or cut the wait.
  const until = SYSTEM_CLOCK.now() + SECRETS_WAIT_MS;
  while (!etcdSecretsPresent(paths) && SYSTEM_CLOCK.now() < until) await sleep(SECRETS_POLL_MS, signal);
}
