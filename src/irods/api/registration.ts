/**
 * PHY_PATH_REG_AN 630: registering files already on the server (`ireg`,
 * python-irodsclient 0.8.1 `register`). The work and its rules are in
 * `../registration/`; unregistering is the unlink (615) and collection
 * removal (679) of `UNREG_OPR`.
 *
 * @module
 */
import { dataObjInp } from '../objects/requests.js';
import { PHY_PATH_REG_AN, registerPhysicalPath } from '../registration/register.js';
import type { ApiRoute } from '../server/api.js';

/** The routes of this module. */
export const registrationRoutes: ApiRoute[] = [
  {
    api: PHY_PATH_REG_AN,
    name: 'PHY_PATH_REG_AN',
    handle: async (req, ctx) => {
      await registerPhysicalPath(ctx, dataObjInp(req));
      return { status: 0 };
    },
  },
];
