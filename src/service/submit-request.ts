/**
 * Step 1 of the submit pipeline: turning an untrusted JSON body into a typed
 * request, or naming the first field that is missing or has the wrong type.
 *
 * @module
 */
import type { Json } from '../engine/types.js';

/** The required fields, in the order they are checked (protocol section 2, step 1). */
export const REQUIRED_FIELDS = ['project_uuid', 'request_mode', 'flow_name', 'targets', 'sodar_secret'] as const;

/** A submit body whose fields all have the right types. */
export interface SubmitRequest {
  projectUuid: string;
  /** As sent: whether the flow supports it is decided at validation (step 5). */
  requestMode: string;
  flowName: string;
  targets: string[];
  secret: string;
  flowData: Record<string, Json>;
  forceFail: boolean;
  /** Undefined when absent or the string `None`. */
  timelineUuid: string | undefined;
  /** Undefined when absent: the service's default applies. */
  sodarUrl: string | undefined;
}

/**
 * Outcome of {@link parseSubmitBody}: the request, or the first bad field.
 * `secret`: the secret sent, when the required fields were good and an
 * optional one is bad: the secret is checked before that field's answer
 * (protocol section 2's order), so a caller without it learns nothing about
 * the other fields.
 */
export type ParsedSubmit = { ok: true; request: SubmitRequest } | { ok: false; field: string; secret?: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Checks the body's fields: first the five required ones in protocol order
 * (missing, empty or wrong type; `targets` a non-empty list of strings), then
 * the optional ones' types. Never throws.
 */
export function parseSubmitBody(body: unknown): ParsedSubmit {
  const b = isObject(body) ? body : {};
  for (const field of REQUIRED_FIELDS) {
    const v = b[field];
    const good =
      field === 'targets'
        ? Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'string')
        : nonEmptyString(v);
    if (!good) return { ok: false, field };
  }
  const secret = b.sodar_secret as string;
  const flowData = b.flow_data ?? {};
  if (!isObject(flowData)) return { ok: false, field: 'flow_data', secret };
  const forceFail = b.force_fail ?? false;
  if (typeof forceFail !== 'boolean') return { ok: false, field: 'force_fail', secret };
  const timeline = b.timeline_uuid ?? 'None';
  if (typeof timeline !== 'string') return { ok: false, field: 'timeline_uuid', secret };
  const testMode = b.test_mode ?? false;
  if (typeof testMode !== 'boolean') return { ok: false, field: 'test_mode', secret };
  const sodarUrl = b.sodar_url ?? '';
  if (typeof sodarUrl !== 'string' || (sodarUrl !== '' && !isHttpUrl(sodarUrl))) {
    return { ok: false, field: 'sodar_url', secret };
  }
  return {
    ok: true,
    request: {
      projectUuid: b.project_uuid as string,
      requestMode: b.request_mode as string,
      flowName: b.flow_name as string,
      targets: [...(b.targets as string[])],
      secret,
      flowData: flowData as Record<string, Json>,
      forceFail,
      timelineUuid: timeline === 'None' || timeline === '' ? undefined : timeline,
      sodarUrl: sodarUrl === '' ? undefined : sodarUrl,
    },
  };
}
