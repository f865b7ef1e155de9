/**
 * Telling the site how a run ended when no HTTP answer can: the timeline
 * event of an async run (protocol section 2, step 7) and, for landing zone
 * flows, the zone status through the flow's own `onFailure`. Reporting never
 * throws: a failed callback is logged, the run's outcome stands, and the
 * caller learns whether the report is still owed (the site was only out of
 * reach), so that recovery can send it again.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { FlowDefinition, FlowDeps, FlowFailure, FlowInput } from '../flows/types.js';
import { siteOutOfReach, type SiteClient } from '../site/client.js';
import { Endpoint } from '../tasks/site-tasks.js';
import { Text, asyncRunError, errorText, runError } from './messages.js';

/**
 * What became of a report: `done` when the site answered it, or refused it
 * (nothing would change its mind: given up); `owed` when it could not be
 * reached for now, so the report is to be sent again.
 */
export type ReportDelivery = 'done' | 'owed';

/** Reports outcomes to the host site. */
export class OutcomeReporter {
  constructor(
    private readonly site: SiteClient,
    private readonly log: Logger,
  ) {}

  /** Sets the submit's timeline event to `OK` or `FAILED` with `desc`; nothing when it has none. */
  async timeline(input: FlowInput, ok: boolean, desc: string): Promise<ReportDelivery> {
    if (input.timelineUuid === undefined) return 'done';
    try {
      await this.site.post(input.sodarUrl, Endpoint.timelineStatusSet, {
        event_uuid: input.timelineUuid,
        status_type: ok ? 'OK' : 'FAILED',
        status_desc: desc,
        extra_data: '{}',
      });
      return 'done';
    } catch (err) {
      this.log.warn({ flow: input.flowName, project: input.projectUuid, err: errorText(err) }, 'timeline callback failed');
      return siteOutOfReach(err) ? 'owed' : 'done';
    }
  }

  /**
   * Tells the site how a run ended: `OK` when there is no `reason`; else
   * the flow's own failure report (when `def` is known; `failure` as the
   * flow sees it, by default the reason at the run stage) and then `FAILED`
   * with the reason, in the words of the run's request mode. When the
   * flow's report is owed the timeline waits for it: sent again, each part
   * would reach the site once more, and the site holds a timeline event's
   * every status (a zone keeps only its last).
   */
  async ended(def: FlowDefinition | undefined, input: FlowInput, deps: FlowDeps, reason: string | undefined, failure?: FlowFailure): Promise<ReportDelivery> {
    if (reason === undefined) return this.timeline(input, true, Text.asyncOk);
    if (def && (await this.failure(def, input, deps, failure ?? { stage: 'run', reason })) === 'owed') return 'owed';
    return this.timeline(input, false, input.requestMode === 'async' ? asyncRunError(reason) : runError(reason));
  }

  /** Lets the flow record a failure where the site shows it (zone flows: the zone status). */
  async failure(def: FlowDefinition, input: FlowInput, deps: FlowDeps, failure: FlowFailure): Promise<ReportDelivery> {
    if (!def.onFailure) return 'done';
    try {
      await def.onFailure(input, deps, failure);
      return 'done';
    } catch (err) {
      this.log.warn({ flow: input.flowName, project: input.projectUuid, err: errorText(err) }, 'failure callback failed');
      return siteOutOfReach(err) ? 'owed' : 'done';
    }
  }
}
