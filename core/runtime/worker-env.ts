// The environment variable that carries a forked worker's orders (a WorkerSpec as JSON): its own
// file so an entry point can check for it without loading node:cluster and the supervisor.
export const WORKER_SPEC_ENV = 'REDOX_WORKER_SPEC';
