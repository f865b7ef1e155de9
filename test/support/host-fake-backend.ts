/**
 * A fake taskflow backend for in-process site tests: records every submit,
 * and fails or reports locks on demand, without a service.
 */
import { FlowSubmitException } from '../../src/backend/index.js';
import type { TaskflowBackend } from '../../src/host/context.js';

/** One recorded submit. */
export interface RecordedSubmit {
  projectUuid: string | null;
  flowName: string;
  flowData: Record<string, unknown>;
  requestMode: string;
  timelineUuid: string | null;
  forceFail: boolean;
  targets: readonly string[] | undefined;
  sodarUrl: string | null | undefined;
}

/** The fake; set `failWith` / `locked` to steer it. */
export class FakeBackend implements TaskflowBackend {
  readonly submits: RecordedSubmit[] = [];
  /** Flow name → [status, body] answered as a FlowSubmitException. */
  failWith = new Map<string, [number, string]>();
  locked = false;

  async submit(
    projectUuid: unknown,
    flowName: string,
    flowData: Record<string, unknown>,
    opts: { requestMode?: string; timelineUuid?: unknown; forceFail?: boolean; targets?: readonly string[]; sodarUrl?: string | null } = {},
  ): Promise<boolean> {
    this.submits.push({
      projectUuid: projectUuid === null || projectUuid === undefined ? null : String(projectUuid),
      flowName,
      flowData: JSON.parse(JSON.stringify(flowData)) as Record<string, unknown>,
      requestMode: opts.requestMode ?? 'sync',
      timelineUuid: opts.timelineUuid === null || opts.timelineUuid === undefined ? null : String(opts.timelineUuid),
      forceFail: opts.forceFail ?? false,
      targets: opts.targets,
      sodarUrl: opts.sodarUrl,
    });
    const fail = opts.forceFail ? ([500, 'Error running flow: forced failure'] as [number, string]) : this.failWith.get(flowName);
    if (fail) {
      throw new FlowSubmitException(`Taskflow "${flowName}" failed! Reason: "${fail[1]}"`, flowName, { url: 'http://fake/submit', status: fail[0], body: fail[1] });
    }
    return true;
  }

  async isLocked(): Promise<boolean> {
    return this.locked;
  }

  useTaskflow(project: { type: string } | null | undefined): boolean {
    return project?.type === 'PROJECT';
  }

  async cleanup(): Promise<boolean> {
    return true;
  }
}
