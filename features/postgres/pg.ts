// node-postgres, required on first use: it takes about 30 ms to load, and a process that never
// connects (the development CLI listing every feature's options, an app without PostgreSQL
// calls) should not pay for it.
let loaded: typeof import('pg') | undefined;

export const pg = (): typeof import('pg') => (loaded ??= require('pg') as typeof import('pg'));
