// Plain timers for the operator commands (they stop with the process; no abort signal needed).
export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
