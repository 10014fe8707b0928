// Injected per-method failures: "fail method M with code C, N times, then behave normally", either
// before the method runs (nothing happened) or after it (it did its work, and the reply was lost).
import { status } from '@grpc/grpc-js';

const COSI_METHODS = new Set(['Get', 'List', 'Watch']);

/** Accepts `Bootstrap`, `machine.MachineService/Bootstrap`, `/cosi.resource.State/Get`, or `Get` (COSI). */
export function fullMethodName(method: string): string {
  if (method.startsWith('/')) return method;
  if (method.includes('/')) return `/${method}`;
  return COSI_METHODS.has(method) ? `/cosi.resource.State/${method}` : `/machine.MachineService/${method}`;
}

export interface InjectedFailure {
  code: status;
  message: string;
}

interface Plan extends InjectedFailure {
  remaining: number;
}

export class FaultPlan {
  private readonly plans = new Map<string, Plan[]>();
  private readonly lostReplies = new Map<string, Plan[]>();

  /** The next `times` calls of `method` fail with `code`; plans for one method run in the order given. */
  failMethod(method: string, code: status, times = 1, message?: string): void {
    const name = fullMethodName(method);
    const list = this.plans.get(name) ?? [];
    list.push({ code, remaining: times, message: message ?? `injected failure (${status[code] ?? code})` });
    this.plans.set(name, list);
  }

  /**
   * The next `times` calls of `method` run to completion, then their replies are lost: the client sees
   * `code` (a connection that broke after the node acted), the node's state is as if they succeeded.
   */
  loseReply(method: string, code: status, times = 1, message?: string): void {
    const name = fullMethodName(method);
    const list = this.lostReplies.get(name) ?? [];
    list.push({ code, remaining: times, message: message ?? `reply lost (${status[code] ?? code})` });
    this.lostReplies.set(name, list);
  }

  /** Consumes one failure for this call, if any is planned. */
  take(method: string): InjectedFailure | undefined {
    return FaultPlan.consume(this.plans, method);
  }

  /** Consumes one lost reply for this call, if any is planned. */
  takeLostReply(method: string): InjectedFailure | undefined {
    return FaultPlan.consume(this.lostReplies, method);
  }

  private static consume(plans: Map<string, Plan[]>, method: string): InjectedFailure | undefined {
    const list = plans.get(method);
    const plan = list?.[0];
    if (!list || !plan) return undefined;
    plan.remaining--;
    if (plan.remaining <= 0) list.shift();
    return { code: plan.code, message: plan.message };
  }

  pending(method: string): number {
    const name = fullMethodName(method);
    return [...(this.plans.get(name) ?? []), ...(this.lostReplies.get(name) ?? [])].reduce((n, p) => n + p.remaining, 0);
  }

  clear(): void {
    this.plans.clear();
    this.lostReplies.clear();
  }
}
