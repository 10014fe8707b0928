// Moved below discovery and bootstrap: src/util/backoff.ts.
export * from '../../util/backoff.ts';
