// Shared plain-data types below discovery, bootstrap and agreement.
export * from './candidate.ts';
export * from './clock.ts';
export * from './etcd-evidence.ts';
