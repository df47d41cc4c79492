// uuid: RFC 9562 identifiers. v4 is random; v7 is time-ordered, so it sorts by creation time and
// makes a good primary key.
import type * as Generate from './generate';
import { defineFeature, sync } from '../../core/feature';

export default defineFeature({
  install: () => {
    // Required on the first call, not at install: the uuid package is 21 modules, and a
    // development run installs every feature whether its app calls it or not.
    let loaded: typeof Generate | undefined;
    const generate = () => (loaded ??= require('./generate') as typeof Generate);
    return {
      functions: {
        v4: sync(() => generate().v4()),
        v7: sync(() => generate().v7()),
        validate: sync((s: unknown) => typeof s === 'string' && generate().validate(s)),
        version: sync((s: unknown) => (typeof s === 'string' && generate().validate(s) ? generate().version(s) : undefined)),
      },
    };
  },
});
