// uuid: RFC 9562 identifiers. v4 is random; v7 is time-ordered, so it sorts by creation time and
// makes a good primary key.
import type * as Generate from './generate';
import { defineFeature, sync } from '../../core/feature';

export default defineFeature({
  install: () => {
    // Required here, not at the top: every CLI process loads this file for its settings.
    const { v4, v7, validate, version } = require('./generate') as typeof Generate;
    return {
      functions: {
        v4: sync(() => v4()),
        v7: sync(() => v7()),
        validate: sync((s: unknown) => typeof s === 'string' && validate(s)),
        version: sync((s: unknown) => (typeof s === 'string' && validate(s) ? version(s) : undefined)),
      },
    };
  },
});
