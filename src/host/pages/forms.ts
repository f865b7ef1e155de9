/**
 * A form post the action refused for what was typed: which form, the
 * message, the status, and the values posted, so the form's own page can be
 * shown again with the error and the person's input instead of a page that
 * only names the error.
 *
 * @module
 */
import { HttpError } from '../errors.js';

/** A refused form post, as the page shown again reads it (templates: `refused`). */
export interface FormRefusal {
  /** The form's id on its page (`_forms.njk` marks its error with `<form>-error`). */
  form: string;
  status: number;
  message: string;
  /** What was posted, by field name; never the CSRF token or a password. */
  values: Record<string, string>;
  /** Set when the page shown again no longer has the form (it changed meanwhile): the layout shows the error instead. */
  unplaced?: boolean;
}

/**
 * Refusals that are about the page's rest rather than what was typed: no
 * sign-in, no right to act, nothing there any more. Showing the form again
 * would offer a fix that cannot work, so these keep the error page.
 */
const NOT_THE_INPUT = new Set([401, 403, 404]);

/**
 * 503: the project is locked by a running flow, or the service cannot be
 * reached. Nothing was changed and the same post may work in a moment, so
 * the form comes back with what was typed, to be sent again.
 */
const TRY_AGAIN = 503;

/**
 * The refusal of form `form` that `err` stands for, or undefined when `err`
 * is not one a person can fix by changing the form or sending it again (see
 * {@link NOT_THE_INPUT}; other 5xx are the site's or the service's trouble).
 */
export function formRefusal(err: unknown, form: string, body: unknown): FormRefusal | undefined {
  if (!(err instanceof HttpError)) return undefined;
  const input = err.status >= 400 && err.status <= 499 && !NOT_THE_INPUT.has(err.status);
  if (!input && err.status !== TRY_AGAIN) return undefined;
  return { form, status: err.status, message: err.detail, values: postedValues(body) };
}

/**
 * The string fields of a posted form to fill in again. The token is left
 * out because the page gets a fresh one, and anything named like a password
 * because a page must never carry one back to the browser (it would sit in
 * its history and caches).
 */
export function postedValues(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return out;
  for (const [key, value] of Object.entries(body)) {
    if (key === '_csrf' || /pass/i.test(key) || typeof value !== 'string') continue;
    out[key] = value;
  }
  return out;
}

/** The id of form `form`'s error message, as `_forms.njk` writes it. */
export function formErrorId(form: string): string {
  return `${form}-error`;
}

/**
 * For templates (`refused | posted(form, field, fallback)`): what was
 * posted in `field` when the page is shown again for `form`, else
 * `fallback`, the value the form starts with.
 */
export function posted(refused: FormRefusal | undefined, form: string, field: string, fallback: unknown = ''): unknown {
  if (refused?.form !== form || !Object.hasOwn(refused.values, field)) return fallback;
  return refused.values[field];
}
