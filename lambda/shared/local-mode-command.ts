/**
 * How an operator starts local mode, as every hint that asks for it names it. A project `hookline init` made (and
 * this repository) has `npm start`; a CDK app hookline was installed into has no such script unless its owner
 * added one, and runs `npx hookline dev`. A hint naming one of them alone sends half of them to a missing script.
 */
export const START_LOCAL_MODE = 'npm start or npx hookline dev';
