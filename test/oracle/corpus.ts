// The corpus preflight is compared with Talos on: Talos-generated configs (test/oracle gen) and mutations of
// them, one per rule Talos applies when a config is applied, plus every machine-config case of the operator
// issue (a worker with cluster.etcd, a control plane without machine.ca.key or cluster.etcd.ca, no install
// disk or selector, a config that does not parse, duplicate documents of a kind that must be unique).
import { parseAllDocuments, type Document } from 'yaml';
import { generatedConfig } from './harness.ts';

export interface CorpusCase {
  name: string;
  text: string;
}

type Edit = (docs: Document[]) => void;

/** Applies an edit to the parsed documents and writes the stream back. */
export function edit(text: string, fn: Edit): string {
  const docs = parseAllDocuments(text) as Document[];
  fn(docs);
  return docs.map((d) => d.toString().replace(/^---\n/, '')).join('---\n');
}

const byKind = (docs: Document[], kind: string): Document => {
  const d = docs.find((x) => (x.get('kind') ?? (x.get('version') === 'v1alpha1' ? 'v1alpha1' : undefined)) === kind);
  if (!d) throw new Error(`no ${kind} document`);
  return d;
};
const v1 = (docs: Document[]) => byKind(docs, 'v1alpha1');

export function corpus(): CorpusCase[] {
  const cp13 = generatedConfig('v1.13', 'controlplane').text;
  const w13 = generatedConfig('v1.13', 'worker').text;
  const cp14 = generatedConfig('v1.14', 'controlplane').text;
  const w14 = generatedConfig('v1.14', 'worker').text;
  const cp7 = generatedConfig('v1.7', 'controlplane').text;
  const etcdOf = (cp: string) => (parseAllDocuments(cp) as Document[]).map((d) => d.getIn(['cluster', 'etcd'], true)).find((x) => x !== undefined);
  const docOf = (text: string, kind: string) => (parseAllDocuments(text) as Document[]).find((d) => d.get('kind') === kind)?.toString().replace(/^---\n/, '');

  const cases: CorpusCase[] = [];
  const add = (name: string, text: string) => cases.push({ name, text });

  // Accepted by Talos.
  for (const contract of ['v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14']) {
    add(`${contract} control plane as generated`, generatedConfig(contract, 'controlplane').text);
    add(`${contract} worker as generated`, generatedConfig(contract, 'worker').text);
  }
  add('v1.13 control plane, v1alpha1 document last', edit(cp13, (d) => d.push(d.shift() as Document)));
  add('v1.13 worker with machine.type join (legacy worker)', edit(w13, (d) => v1(d).setIn(['machine', 'type'], 'join')));
  add('v1.13 worker with machine.type unset (Talos reads it as worker)', edit(w13, (d) => v1(d).deleteIn(['machine', 'type'])));
  add('v1.13 control plane with machine.type init (legacy control plane)', edit(cp13, (d) => v1(d).setIn(['machine', 'type'], 'init')));
  add('v1.13 control plane installing by diskSelector only', edit(cp13, (d) => {
    v1(d).deleteIn(['machine', 'install', 'disk']);
    v1(d).setIn(['machine', 'install', 'diskSelector'], { size: '>= 10GB' });
  }));
  add('v1.13 worker with an empty install section removed', edit(w13, (d) => v1(d).deleteIn(['machine', 'install'])));
  add('v1.13 control plane with a second, differently named ExtensionServiceConfig', edit(cp13, (d) => {
    const copy = byKind(d, 'ExtensionServiceConfig').clone();
    copy.set('name', 'other');
    d.push(copy);
  }));

  // Refused by Talos: the operator issue's cases.
  add('v1.13 worker carrying cluster.etcd', edit(w13, (d) => v1(d).setIn(['cluster', 'etcd'], etcdOf(cp13))));
  add('v1.14 worker carrying cluster.etcd', edit(w14, (d) => v1(d).setIn(['cluster', 'etcd'], etcdOf(cp14))));
  add('v1.13 control plane without machine.ca.key', edit(cp13, (d) => v1(d).setIn(['machine', 'ca', 'key'], '')));
  add('v1.14 control plane without machine.ca.key', edit(cp14, (d) => v1(d).deleteIn(['machine', 'ca', 'key'])));
  add('v1.13 control plane with cluster.etcd but no cluster.etcd.ca', edit(cp13, (d) => v1(d).deleteIn(['cluster', 'etcd', 'ca'])));
  add('v1.13 control plane without cluster.etcd (Talos accepts; Bootstrap refuses)', edit(cp13, (d) => v1(d).deleteIn(['cluster', 'etcd'])));
  add('v1.13 worker install with neither disk nor diskSelector', edit(w13, (d) => v1(d).setIn(['machine', 'install', 'disk'], '')));
  add('v1.7 control plane install with neither disk nor diskSelector', edit(cp7, (d) => v1(d).deleteIn(['machine', 'install', 'disk'])));
  add('not YAML: an unclosed quote', `${cp13.slice(0, 200)}\nmachine: "unclosed\n`);
  add('not YAML: a tab as indentation', 'version: v1alpha1\nmachine:\n\ttype: worker\n');
  add('a document that is a list', `${w13}---\n- one\n- two\n`);
  add('duplicate ExtensionServiceConfig autobootstrap', `${cp13}---\n${docOf(cp13, 'ExtensionServiceConfig')}`);
  add('duplicate v1alpha1 document', `${w13}---\n${(parseAllDocuments(w13) as Document[])[0]?.toString().replace(/^---\n/, '')}`);
  add('v1.14 duplicate DiscoveryServiceConfig', `${cp14}---\n${docOf(cp14, 'DiscoveryServiceConfig')}`);
  add('v1.14 duplicate DiscoveryIdentityConfig', `${w14}---\n${docOf(w14, 'DiscoveryIdentityConfig')}`);

  // Refused by Talos: the other rules of the v1alpha1 document and the container.
  add('worker carrying machine.ca.key', edit(w13, (d) => v1(d).setIn(['machine', 'ca', 'key'], (parseAllDocuments(cp13) as Document[])[0]?.getIn(['machine', 'ca', 'key']))));
  add('worker carrying cluster.ca.key', edit(w13, (d) => v1(d).setIn(['cluster', 'ca', 'key'], (parseAllDocuments(cp13) as Document[])[0]?.getIn(['cluster', 'ca', 'key']))));
  add('control plane config with machine.type unset (read as worker)', edit(cp13, (d) => v1(d).deleteIn(['machine', 'type'])));
  add('machine.type banana', edit(w13, (d) => v1(d).setIn(['machine', 'type'], 'banana')));
  add('machine.type unknown', edit(w13, (d) => v1(d).setIn(['machine', 'type'], 'unknown')));
  add('no machine section', edit(w13, (d) => v1(d).delete('machine')));
  add('no cluster section', edit(w13, (d) => v1(d).delete('cluster')));
  add('worker without machine.ca', edit(w13, (d) => v1(d).deleteIn(['machine', 'ca'])));
  add('control plane without machine.ca', edit(cp13, (d) => v1(d).deleteIn(['machine', 'ca'])));
  add('worker with an empty machine.ca.crt', edit(w13, (d) => v1(d).setIn(['machine', 'ca', 'crt'], '')));
  add('persist false', edit(w13, (d) => v1(d).set('persist', false)));
  add('worker with a shared VIP', edit(w13, (d) => v1(d).setIn(['machine', 'network', 'interfaces'], [{ interface: 'eth0', dhcp: true, vip: { ip: '192.0.2.10' } }])));
  add('ExtensionServiceConfig without environment or configFiles', edit(cp13, (d) => byKind(d, 'ExtensionServiceConfig').delete('environment')));
  add('ExtensionServiceConfig without a name', edit(cp13, (d) => byKind(d, 'ExtensionServiceConfig').delete('name')));
  add('ExtensionServiceConfig config file without content', edit(cp13, (d) => byKind(d, 'ExtensionServiceConfig').set('configFiles', [{ mountPath: '/etc/x', content: '' }])));
  add('ExtensionServiceConfig without apiVersion', edit(cp13, (d) => byKind(d, 'ExtensionServiceConfig').delete('apiVersion')));
  add('a document without kind', `${w13}---\napiVersion: v1alpha1\nname: autobootstrap\n`);
  add('v1.14 worker carrying a control-plane-only document (KubeAPIServerConfig)', `${w14}---\n${docOf(cp14, 'KubeAPIServerConfig')}`);
  add('v1.14 DiscoveryServiceConfig without DiscoveryIdentityConfig', edit(cp14, (d) => {
    d.splice(d.indexOf(byKind(d, 'DiscoveryIdentityConfig')), 1);
  }));
  return cases;
}
