/**
 * TOUCH_APN 20007: the modify time of a data object or collection, like
 * UNIX touch (`itouch`; python-irodsclient 2.1.0 and later
 * `data_objects.touch` and `collections.touch`, which send
 * `{"logical_path", "options"}` as JSON in `BinBytesBuf_PI`, base64, to a
 * server of 4.2.9 or later: 3.3.0 `manager/_internal/_api_impl.py`,
 * `message/__init__.py` `JSON_Message`). The input's rules are in
 * `../objects/touch-input.ts`, the work and its facts in
 * `../objects/touch.ts`. A buffer that is not JSON is
 * `INPUT_ARG_NOT_WELL_FORMED_ERR` (iRODS 4.2.12 `plugins/api/src/touch.cpp`
 * `parse_json`); success answers 0 without a body, a refusal its code
 * alone (no JSON error object, unlike 20002).
 *
 * @module
 */
import { touch } from '../objects/touch.js';
import { touchInputOf } from '../objects/touch-input.js';
import type { ApiRoute } from '../server/api.js';
import { jsonOfBytesBuf } from '../wire/json-bytes-buf.js';

/** iRODS 4.2.12 `lib/api/include/api_plugin_number_data.h`. */
export const TOUCH_APN = 20007;

/** The routes of this module. */
export const touchRoutes: ApiRoute[] = [
  {
    api: TOUCH_APN,
    name: 'TOUCH_APN',
    handle: async (req, ctx) => {
      await touch(ctx, touchInputOf(jsonOfBytesBuf(req, 'INPUT_ARG_NOT_WELL_FORMED_ERR')));
      return { status: 0 };
    },
  },
];
