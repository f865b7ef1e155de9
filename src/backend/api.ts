/**
 * The SODAR Taskflow backend API for host apps: SODAR Core's
 * `taskflowbackend.api.TaskflowAPI` in TypeScript naming, speaking protocol
 * section 2 to the taskflow service.
 *
 * @module
 */
import { ConfigError, loadBackendSettings, type BackendSettings } from '../config.js';
import {
  CleanupException,
  FlowSubmitException,
  ImproperlyConfigured,
  InvalidProjectError,
  LockQueryException,
  QueueQueryException,
  SubmitDataError,
  type ServiceFailure,
} from './errors.js';
import { toFlowDataJson, UnserialisableValue, uuidString, type JsonValue } from './flow-data.js';
import { exchange, ServiceUnreachable, type HttpAnswer } from './http.js';
import { sodarUrlFromRequest, type RequestLike } from './request.js';

/** How the service runs a flow: `sync` answers after the run, `async` right after validation. */
export type RequestMode = 'sync' | 'async';

/** A UUID given as a string or as an object whose `toString()` gives one. */
export type UuidLike = string | { toString(): string };

/** Flow input: a plain object of fields (see `flow-data.ts` for what can be sent). */
export type FlowData = Record<string, unknown>;

/** The project type that uses taskflow; categories never do. */
export const PROJECT_TYPE_PROJECT = 'PROJECT';

/** What {@link TaskflowAPI.useTaskflow} looks at in a project. */
export interface ProjectLike {
  /** `PROJECT` or `CATEGORY`. */
  type: string;
}

/** Options of {@link TaskflowAPI.submit}; every one is optional. */
export interface SubmitOptions {
  /** Request object (optional): its `sodar_url` parameter is forwarded when `sodarUrl` is not given. */
  request?: RequestLike | null;
  /** Names of backends to sync with; default: the TASKFLOW_TARGETS setting. */
  targets?: readonly string[];
  /** `sync` or `async`; default `sync`. */
  requestMode?: RequestMode;
  /** UUID of the corresponding timeline event (optional; sent as `None` when absent). */
  timelineUuid?: UuidLike | null;
  /** Make the flow fail on purpose, to test rollback; default false. */
  forceFail?: boolean;
  /** URL of the SODAR server (optional, for testing): overrides the service's callback URL. */
  sodarUrl?: string | null;
}

/** Options of the {@link TaskflowAPI} constructor beyond the settings. */
export interface TaskflowAPIOptions {
  /** Milliseconds a call may take until its complete answer; default: the TASKFLOW_BACKEND_TIMEOUT setting. */
  timeoutMs?: number;
}

/** The submit body of protocol section 2, in field order. */
export interface SubmitBody {
  project_uuid: string;
  flow_name: string;
  flow_data: { [key: string]: JsonValue };
  request_mode: string;
  targets: string[];
  force_fail: boolean;
  timeline_uuid: string;
  sodar_secret: string;
  test_mode: boolean;
  sodar_url?: string;
}

/** How many characters of the service's answer an error message shows. */
export const ERROR_INFO_LENGTH = 256;

/** The first `n` characters (code points, as Python counts them) of `text`. */
function firstChars(text: string, n: number): string {
  if (text.length <= n) return text;
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count++ === n) break;
    out += ch;
  }
  return out;
}

/** Python's `str(None)`: what the service expects for an absent UUID. */
const NONE = 'None';

function uuidField(flowName: string, field: string, value: UuidLike | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') {
    const s = uuidString(value);
    if (s !== undefined) return s;
  }
  throw new SubmitDataError(flowName, field, 'must be a UUID string or a UUID-like object');
}

/**
 * The header the service reads its secret from on its JSON endpoints
 * (SECRET_HEADER of src/secret-match.ts): spelled here because the backend
 * imports nothing of ours but the settings module.
 */
const SECRET_HEADER = 'x-taskflow-secret';

/**
 * What the queries take for a project: its UUID (a string or a UUID-like
 * object), or the project itself, by its `sodar_uuid` (SODAR's name) or
 * `uuid` (SODAR Core's `is_locked(project)` takes the project).
 */
export type ProjectRef = UuidLike | { sodar_uuid: UuidLike } | { uuid: UuidLike };

/** The project UUID of `value` for a query path; InvalidProjectError for anything that names no project. */
function projectUuidString(value: ProjectRef): string {
  if (typeof value === 'string') {
    if (value === '' || value === NONE) throw new InvalidProjectError(`an empty project UUID ("${value}")`);
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const own = uuidString(value);
    if (own !== undefined) return own;
    const held = 'sodar_uuid' in value ? value.sodar_uuid : 'uuid' in value ? value.uuid : undefined;
    if (typeof held === 'string' && held !== '') return held;
    if (typeof held === 'object' && held !== null) {
      const s = uuidString(held);
      if (s !== undefined) return s;
    }
  }
  throw new InvalidProjectError('expected a project UUID (string or UUID-like object) or a project with sodar_uuid or uuid');
}

function baseUrl(settings: BackendSettings): URL {
  const host = settings.backendHost.replace(/\/+$/, '');
  if (!Number.isInteger(settings.backendPort) || settings.backendPort < 1 || settings.backendPort > 65535) {
    throw new ConfigError('TASKFLOW_BACKEND_PORT', `must be an integer from 1 to 65535, got ${settings.backendPort}`);
  }
  let url: URL;
  try {
    url = new URL(`${host}:${settings.backendPort}`);
  } catch {
    throw new ConfigError('TASKFLOW_BACKEND_HOST', `expected a scheme and host such as http://127.0.0.1, got "${settings.backendHost}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('TASKFLOW_BACKEND_HOST', `expected an http:// or https:// URL, got "${settings.backendHost}"`);
  }
  return url;
}

/** An accepted async run in a project's line (`GET /queue` of the service). */
export interface QueuedRunInfo {
  runId: string;
  flowName: string;
  /** When the service accepted it (ISO 8601). */
  acceptedAt: string;
  /** Waiting runs only: 1 runs next. */
  position?: number;
}

/** A project's line of accepted async runs. */
export interface ProjectQueue {
  projectUuid: string;
  /** Runs that have their turn (started, or waiting only for the project lock). */
  running: QueuedRunInfo[];
  /** Runs waiting for their turn, in the order they will run. */
  waiting: QueuedRunInfo[];
}

/**
 * SODAR Taskflow API to be used by host apps. Normally obtained through the
 * plugin registry (`getBackendApi('taskflow')`); constructing one directly
 * is fine too (tests, scripts).
 *
 * Every method talks to the service at
 * `TASKFLOW_BACKEND_HOST + ':' + TASKFLOW_BACKEND_PORT` and turns every
 * failure, network errors included, into one of the typed exceptions.
 */
export class TaskflowAPI {
  /** SODAR Taskflow submission exception (see {@link FlowSubmitException}). */
  static readonly FlowSubmitException = FlowSubmitException;
  /** SODAR Taskflow cleanup exception (see {@link CleanupException}). */
  static readonly CleanupException = CleanupException;

  /** Base URL of the service, e.g. `http://0.0.0.0:5005`. */
  readonly url: string;
  /** Targets a submit asks for when it does not name them (TASKFLOW_TARGETS). */
  readonly targets: readonly string[];
  /** Whether TASKFLOW_TEST_MODE is on (cleanup allowed, `test_mode` sent). */
  readonly testMode: boolean;
  /** Milliseconds a call may take until its complete answer. */
  readonly timeoutMs: number;

  readonly #secret: string;
  readonly #base: URL;

  /**
   * @param settings - The backend settings; default: read from the environment
   *   with {@link loadBackendSettings} (throws {@link ConfigError} naming a bad setting).
   * @param options - A timeout overriding `settings.backendTimeoutMs`.
   * @throws ConfigError if the host, port or timeout cannot be used.
   */
  constructor(settings: BackendSettings = loadBackendSettings(), options: TaskflowAPIOptions = {}) {
    this.#base = baseUrl(settings);
    this.url = this.#base.origin;
    this.targets = Object.freeze([...settings.targets]);
    this.testMode = settings.testMode;
    this.#secret = settings.sodarSecret;
    const timeoutMs = options.timeoutMs ?? settings.backendTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError('TASKFLOW_BACKEND_TIMEOUT', `must be a positive number of milliseconds, got ${timeoutMs}`);
    }
    this.timeoutMs = timeoutMs;
  }

  #endpoint(path: string): URL {
    return new URL(path, this.#base);
  }

  /**
   * Submit taskflow for SODAR project data modification.
   *
   * @param projectUuid - UUID of the project (UUID-like object or string); `null`
   *   for flows not about one project (sent as the string `None`).
   * @param flowName - Name of flow to be executed.
   * @param flowData - Input data for flow execution (a plain object); refused
   *   before sending if a value cannot be sent as JSON.
   * @param options - `request` (request object, optional), `targets` (names of
   *   backends to sync with), `requestMode` (`sync` or `async`), `timelineUuid`
   *   (UUID of corresponding timeline event, optional), `forceFail` (make flow
   *   fail on purpose, default false), `sodarUrl` (URL of SODAR server,
   *   optional, for testing).
   * @returns `true` when the service accepted (sync: ran) the flow.
   * @throws FlowSubmitException if submission fails, including when the
   *   service cannot be reached; {@link SubmitDataError} (a FlowSubmitException)
   *   when an argument cannot be sent.
   */
  async submit(
    projectUuid: UuidLike | null | undefined,
    flowName: string,
    flowData: FlowData,
    options: SubmitOptions = {},
  ): Promise<boolean> {
    const body = this.buildSubmitBody(projectUuid, flowName, flowData, options);
    const url = this.#endpoint('/submit');
    let answer: HttpAnswer;
    try {
      answer = await exchange(url, { method: 'POST', json: JSON.stringify(body), timeoutMs: this.timeoutMs });
    } catch (err) {
      throw this.#unreachable(err, url, (msg, failure) => new FlowSubmitException(`Taskflow "${flowName}" failed! Reason: "${msg}"`, flowName, failure, { cause: err }));
    }
    if (answer.status === 200 && answer.body !== '') return true;
    throw new FlowSubmitException(this.getErrorMsg(flowName, answer.body), flowName, { url: url.href, ...answer });
  }

  /**
   * The JSON body {@link submit} sends (protocol section 2), without sending
   * it. Throws {@link SubmitDataError} for an argument that cannot be sent.
   */
  buildSubmitBody(
    projectUuid: UuidLike | null | undefined,
    flowName: string,
    flowData: FlowData,
    options: SubmitOptions = {},
  ): SubmitBody {
    let data: { [key: string]: JsonValue };
    try {
      data = toFlowDataJson(flowData);
    } catch (err) {
      if (err instanceof UnserialisableValue) throw new SubmitDataError(flowName, err.path, err.reason);
      throw err;
    }
    const targets = options.targets ?? this.targets;
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) {
      throw new SubmitDataError(flowName, 'targets', 'must be a list of target names (strings)');
    }
    const body: SubmitBody = {
      project_uuid: uuidField(flowName, 'project_uuid', projectUuid),
      flow_name: flowName,
      flow_data: data,
      request_mode: options.requestMode ?? 'sync',
      targets: [...targets],
      force_fail: options.forceFail ?? false,
      timeline_uuid: uuidField(flowName, 'timeline_uuid', options.timelineUuid),
      sodar_secret: this.#secret,
      test_mode: this.testMode,
    };
    const sodarUrl = options.sodarUrl || sodarUrlFromRequest(options.request);
    if (sodarUrl) body.sodar_url = sodarUrl;
    return body;
  }

  /**
   * Send a cleanup command to SODAR Taskflow (removes every project and
   * non-permanent user and group from the data store). Only allowed in test mode.
   *
   * @returns `true` when the service cleaned up.
   * @throws ImproperlyConfigured if TASKFLOW_TEST_MODE is not set true (nothing is sent).
   * @throws CleanupException if SODAR Taskflow raises an error or cannot be reached.
   */
  async cleanup(): Promise<boolean> {
    if (!this.testMode) {
      throw new ImproperlyConfigured('TASKFLOW_TEST_MODE not True, cleanup command not allowed');
    }
    const url = this.#endpoint('/cleanup');
    let answer: HttpAnswer;
    try {
      answer = await exchange(url, {
        method: 'POST',
        json: JSON.stringify({ test_mode: true, sodar_secret: this.#secret }),
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      throw this.#unreachable(err, url, (msg, failure) => new CleanupException(msg, failure, { cause: err }));
    }
    if (answer.status === 200) return true;
    throw new CleanupException(answer.body, { url: url.href, ...answer });
  }

  /**
   * Return a printable version of a SODAR Taskflow error message.
   *
   * @param flowName - Name of submitted flow.
   * @param submitInfo - Returned information from SODAR Taskflow (its first
   *   256 characters are shown; `null`/`undefined` show as `None`, as in Python).
   * @returns `Taskflow "<flowName>" failed! Reason: "<info>"`.
   */
  getErrorMsg(flowName: string, submitInfo: unknown): string {
    const info = submitInfo === null || submitInfo === undefined ? NONE : String(submitInfo);
    return `Taskflow "${flowName}" failed! Reason: "${firstChars(info, ERROR_INFO_LENGTH)}"`;
  }

  /**
   * Check whether taskflow use is allowed with a project: only projects of
   * type `PROJECT`, never categories.
   *
   * @param project - Project object.
   */
  useTaskflow(project: ProjectLike | null | undefined): boolean {
    return project?.type === PROJECT_TYPE_PROJECT;
  }

  /**
   * Whether the project is locked by a running flow right now, as the
   * service's lock backend sees it.
   *
   * A service without the lock query answers 404: the original SODAR Taskflow
   * (v0.6.2 serves only `/submit`, `/cleanup` and `/hello`) takes the project
   * lock itself when a flow is submitted and answers 503 `Unable to acquire
   * project lock` when it cannot. That answer is `null`, "cannot tell": submit
   * anyway and let the service's own lock decide.
   *
   * @param project - the project, or its UUID (UUID-like object or string); see {@link ProjectRef}.
   * @returns `true` locked, `false` not locked, `null` the service cannot tell (404).
   * @throws InvalidProjectError, before sending, for what names no project.
   * @throws LockQueryException if the service refuses the query otherwise, answers
   *   something else than a lock state, or cannot be reached.
   */
  async isLocked(project: ProjectRef): Promise<boolean | null> {
    const uuid = projectUuidString(project);
    const { answer, failure } = await this.#query(`/locks/${encodeURIComponent(uuid)}`, (msg, f, err) => new LockQueryException(msg, f, { cause: err }));
    if (answer.status === 404) return null;
    if (answer.status !== 200) {
      throw new LockQueryException(
        `Lock query for project ${uuid} failed (${answer.status}): ${firstChars(answer.body, ERROR_INFO_LENGTH)}`,
        failure,
      );
    }
    const locked = parseLocked(answer.body);
    if (locked === undefined) {
      throw new LockQueryException(`Lock query for project ${uuid}: unexpected answer ${firstChars(answer.body, ERROR_INFO_LENGTH)}`, failure);
    }
    return locked;
  }

  /**
   * The line of accepted async runs of a project: the run(s) that have their
   * turn and the ones waiting, with positions. Ours (not in SODAR Core): lets
   * a host app tell a user that a zone move waits behind another.
   *
   * @param projectUuid - the project, or its UUID (UUID-like object or string); see {@link ProjectRef}.
   * @returns the project's line; both lists are empty when nothing is accepted.
   * @throws InvalidProjectError, before sending, for what names no project.
   * @throws QueueQueryException if the service refuses the query, answers
   *   something else than a line, or cannot be reached.
   */
  async projectQueue(projectUuid: ProjectRef): Promise<ProjectQueue> {
    const uuid = projectUuidString(projectUuid);
    const { answer, failure } = await this.#query(`/queue?project=${encodeURIComponent(uuid)}`, (msg, f, err) => new QueueQueryException(msg, f, { cause: err }));
    if (answer.status !== 200) {
      throw new QueueQueryException(`Queue query for project ${uuid} failed (${answer.status}): ${firstChars(answer.body, ERROR_INFO_LENGTH)}`, failure);
    }
    const line = parseLine(answer.body, uuid);
    if (line === undefined) {
      throw new QueueQueryException(`Queue query for project ${uuid}: unexpected answer ${firstChars(answer.body, ERROR_INFO_LENGTH)}`, failure);
    }
    return line;
  }

  /**
   * GETs one of the service's own JSON endpoints with the secret header; a
   * network failure becomes the caller's typed error (`make`).
   */
  async #query(
    path: string,
    make: (message: string, failure: ServiceFailure, cause: unknown) => Error,
  ): Promise<{ answer: HttpAnswer; failure: ServiceFailure }> {
    const url = this.#endpoint(path);
    try {
      const answer = await exchange(url, { method: 'GET', headers: { [SECRET_HEADER]: this.#secret }, timeoutMs: this.timeoutMs });
      return { answer, failure: { url: url.href, ...answer } };
    } catch (err) {
      throw this.#unreachable(err, url, (msg, failure) => make(msg, failure, err));
    }
  }

  /** The typed error for a failed exchange; anything but a network failure is passed on as it is. */
  #unreachable(err: unknown, url: URL, make: (message: string, failure: ServiceFailure) => Error): unknown {
    if (!(err instanceof ServiceUnreachable)) return err;
    return make(err.message, { url: url.href, status: 0, body: '', ...(err.mayHaveArrived ? { mayHaveArrived: true } : {}) });
  }
}

/** The lock state in an answer: JSON `{"locked": bool}`, a JSON boolean, or Python's `True`/`False`. */
function parseLocked(body: string): boolean | undefined {
  const text = body.trim();
  if (text === 'True') return true;
  if (text === 'False') return false;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'object' && v !== null && typeof (v as { locked?: unknown }).locked === 'boolean') {
      return (v as { locked: boolean }).locked;
    }
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

/** A project's line from a `GET /queue?project=` answer; undefined when it is not one. */
function parseLine(body: string, projectUuid: string): ProjectQueue | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  const line = (v as { projects?: unknown })?.projects;
  if (!Array.isArray(line) || line.length !== 1) return undefined;
  const p = line[0] as { project_uuid?: unknown; running?: unknown; waiting?: unknown };
  if (p.project_uuid !== projectUuid || !Array.isArray(p.running) || !Array.isArray(p.waiting)) return undefined;
  const run = (r: unknown): QueuedRunInfo | undefined => {
    const o = r as { run_id?: unknown; flow_name?: unknown; accepted_at?: unknown; position?: unknown };
    if (typeof o?.run_id !== 'string' || typeof o.flow_name !== 'string' || typeof o.accepted_at !== 'string') return undefined;
    const info: QueuedRunInfo = { runId: o.run_id, flowName: o.flow_name, acceptedAt: o.accepted_at };
    if (typeof o.position === 'number') info.position = o.position;
    return info;
  };
  const running = p.running.map(run);
  const waiting = p.waiting.map(run);
  if (running.includes(undefined) || waiting.includes(undefined)) return undefined;
  return { projectUuid, running: running as QueuedRunInfo[], waiting: waiting as QueuedRunInfo[] };
}

/** Types of the static members, so `TaskflowAPI.FlowSubmitException` also works as a type. */
export declare namespace TaskflowAPI {
  type FlowSubmitException = import('./errors.js').FlowSubmitException;
  type CleanupException = import('./errors.js').CleanupException;
}
