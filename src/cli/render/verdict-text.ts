// A cluster verdict's problems as text lines, one per node (or unaccounted member), under the verdict line.
import type { ClusterVerdict } from '../rules/verdict.ts';

export function problemLines(cluster: ClusterVerdict): string {
  if (cluster.problems.length === 0) return '';
  return cluster.problems.map((p) => `  ${p.node}${p.address && p.address !== p.node ? ` (${p.address})` : ''}: ${p.problem}\n`).join('');
}
