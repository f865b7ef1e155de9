/**
 * What the service writes into a run's journal record (`label` and `meta`):
 * enough to list runs by project, and to report a crashed run's outcome to the
 * site after a restart (timeline event, zone status) from the journal alone.
 *
 * @module
 */
import { hostname } from 'node:os';
import type { LegacyFenceKeys } from '../engine/sqlite-journal.js';
import type { Json } from '../engine/types.js';
import type { FlowInput, RequestMode } from '../flows/types.js';

/** The run's meta in the journal. Never holds the secret. */
export interface RunMeta {
  [key: string]: Json;
  project_uuid: string;
  mode: RequestMode;
  targets: string[];
  /** `None` when the submit had none. */
  timeline_uuid: string;
  sodar_url: string;
  force_fail: boolean;
  /** The flow input, which holds the zone's fields for landing zone flows. */
  flow_data: { [key: string]: Json };
  /** Whether the run held the project lock (recovery takes it again). */
  locked: boolean;
  /**
   * The service process that ran it: `id` names its owner lease (recovery
   * leaves the run alone while that lease is held); pid and host are for the operator.
   */
  owner: { id: string; pid: number; host: string };
  // An async run also holds `accepted_at` (ISO 8601): its line shows it after it started as before.
}

/**
 * Where runs and accepted runs of a journal from before fence keys hold
 * their timeline event (the key fences go by): the meta's `timeline_uuid`
 * (`None` when absent), the accepted input's `timelineUuid`.
 */
export const LEGACY_FENCE_KEYS: LegacyFenceKeys = { runMeta: '$.timeline_uuid', queuedInput: '$.timelineUuid', none: 'None' };

/** This machine's name, read once (os.hostname() is a system call, and runMetaOf runs per submit). */
const HOST = hostname();

/** The meta of a run about to start by the service whose owner lease is `ownerId`; `acceptedAt`: an async run's. */
export function runMetaOf(input: FlowInput, locked: boolean, ownerId: string, acceptedAt?: string): RunMeta {
  const meta: RunMeta = {
    project_uuid: input.projectUuid,
    mode: input.requestMode,
    targets: [...input.targets],
    timeline_uuid: input.timelineUuid ?? 'None',
    sodar_url: input.sodarUrl,
    force_fail: input.forceFail,
    flow_data: input.flowData,
    locked,
    owner: { id: ownerId, pid: process.pid, host: HOST },
  };
  if (acceptedAt !== undefined) meta.accepted_at = acceptedAt;
  return meta;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a journaled meta back; undefined when it was not written by this service. */
export function parseRunMeta(meta: Json | undefined): RunMeta | undefined {
  if (!isRecord(meta)) return undefined;
  if (typeof meta.project_uuid !== 'string' || typeof meta.sodar_url !== 'string') return undefined;
  if (!isRecord(meta.flow_data) || !Array.isArray(meta.targets)) return undefined;
  return meta as RunMeta;
}

/** The flow input a journaled run was started with. */
export function inputOfRun(flowName: string, meta: RunMeta): FlowInput {
  return {
    projectUuid: meta.project_uuid,
    flowName,
    flowData: meta.flow_data,
    targets: meta.targets.filter((t): t is string => typeof t === 'string'),
    requestMode: meta.mode === 'async' ? 'async' : 'sync',
    forceFail: meta.force_fail === true,
    timelineUuid: meta.timeline_uuid === 'None' ? undefined : meta.timeline_uuid,
    sodarUrl: meta.sodar_url,
  };
}

/** The owner id a journaled run recorded; undefined when it recorded none. */
export function ownerOf(meta: RunMeta | undefined): string | undefined {
  const owner: unknown = meta?.owner;
  return isRecord(owner) && typeof owner.id === 'string' && owner.id !== '' ? owner.id : undefined;
}
